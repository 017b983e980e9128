package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/siemsync/siemsync/store"
	"time"

	"github.com/siemsync/siemsync"
)

// Checkpoints returns where the integration stands in each data source.
func (db *DB) Checkpoints(ctx context.Context, integration string) (store.Checkpoints, error) {
	var cp store.Checkpoints
	var since sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'audit'),
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'jobs'),
			backfill_since, backfill_until
		FROM integrations i WHERE id = ?`, integration).Scan(&cp.Audit, &cp.Jobs, &since, &cp.BackfillUntil)
	if err != nil {
		return cp, db.fail("read checkpoints of "+integration, notFound(err))
	}
	cp.BackfillSince = timeOf(since)
	if cp.BackfillSince.IsZero() {
		cp.BackfillUntil = 0
	}
	return cp, nil
}

// StartRun records the start of a cycle and returns the run id.
func (db *DB) StartRun(ctx context.Context, integration string, started time.Time) (int64, error) {
	var id int64
	err := db.inTx(ctx, "start run of "+integration, func(tx *sql.Tx) error {
		// INSERT … SELECT inserts nothing for an unknown integration, which
		// tells "not found" apart from other failures without parsing a
		// foreign key error.
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (integration, started) SELECT id, ? FROM integrations WHERE id = ?`,
			ms(started), integration)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// CommitBatch records one batch the destination accepted, in one
// transaction: the checkpoint of b.Source moves up to b.Checkpoint (never
// down), the run's counters grow, and the set-aside events are stored.
func (db *DB) CommitBatch(ctx context.Context, b store.BatchCommit) error {
	if b.Source != siemsync.SourceAudit && b.Source != siemsync.SourceJobs {
		return fmt.Errorf("commit batch: unknown source %q", b.Source)
	}
	now := ms(db.nowMS())
	return db.inTx(ctx, "commit batch of "+b.Integration, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE checkpoints SET seq = max(seq, ?), updated_at = ?
			WHERE integration = ? AND source = ?`, b.Checkpoint, now, b.Integration, b.Source)
		if err != nil {
			return fmt.Errorf("advance checkpoint: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("advance checkpoint: integration: %w", siemsync.ErrNotFound)
		}
		res, err = tx.ExecContext(ctx, `UPDATE runs SET events = events + ?, bytes = bytes + ?, set_aside = set_aside + ?
			WHERE id = ? AND integration = ?`, b.Events, b.Bytes, len(b.SetAside), b.RunID, b.Integration)
		if err != nil {
			return fmt.Errorf("count run: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("count run %d: %w", b.RunID, siemsync.ErrNotFound)
		}
		return insertSetAside(ctx, tx, b.Integration, b.SetAside, now)
	})
}

func insertSetAside(ctx context.Context, tx *sql.Tx, integration string, events []store.SetAside, now int64) error {
	if len(events) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO set_aside (integration, source, seq, event_id, reason, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store set-aside events: %w", err)
	}
	defer st.Close()
	for _, s := range events {
		created := now
		if !s.CreatedAt.IsZero() {
			created = ms(s.CreatedAt)
		}
		if _, err := st.ExecContext(ctx, integration, s.Source, s.Seq, s.EventID, s.Reason, s.Body, created); err != nil {
			return fmt.Errorf("store set-aside event %s: %w", s.EventID, err)
		}
	}
	return nil
}

// FinishRun closes a run and updates the integration's status: a success
// sets last_complete and clears the error; a failure sets last_error and
// the message. Both record the run's events as events_last_cycle.
func (db *DB) FinishRun(ctx context.Context, f store.RunFinish) error {
	return db.inTx(ctx, "finish run of "+f.Integration, func(tx *sql.Tx) error {
		var events int64
		err := tx.QueryRowContext(ctx, `UPDATE runs SET finished = ?, error = ? WHERE id = ? AND integration = ? RETURNING events`,
			ms(f.Finished), f.Err, f.RunID, f.Integration).Scan(&events)
		if err != nil {
			return fmt.Errorf("close run %d: %w", f.RunID, notFound(err))
		}
		if f.Err == "" {
			_, err = tx.ExecContext(ctx, `UPDATE integrations SET last_complete = ?, last_error = NULL, error_message = '',
				events_last_cycle = ? WHERE id = ?`, ms(f.Finished), events, f.Integration)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE integrations SET last_error = ?, error_message = ?,
				events_last_cycle = ? WHERE id = ?`, ms(f.Finished), f.Err, events, f.Integration)
		}
		if err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		return nil
	})
}

// RecentRuns returns the integration's last n runs, newest first.
func (db *DB) RecentRuns(ctx context.Context, integration string, n int) ([]store.Run, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, started, finished, events, bytes, set_aside, error
		FROM runs WHERE integration = ? ORDER BY id DESC LIMIT ?`, integration, n)
	if err != nil {
		return nil, db.fail("list runs of "+integration, err)
	}
	defer rows.Close()
	var out []store.Run
	for rows.Next() {
		r := store.Run{Integration: integration}
		var started int64
		var finished sql.NullInt64
		if err := rows.Scan(&r.ID, &started, &finished, &r.Events, &r.Bytes, &r.SetAside, &r.Error); err != nil {
			return nil, db.fail("list runs of "+integration, err)
		}
		r.Started, r.Finished = fromMS(started), timePtr(finished)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list runs of "+integration, err)
	}
	return out, nil
}

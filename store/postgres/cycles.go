package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Checkpoints returns where the integration stands in each data source,
// with the ranges accepted beyond the checkpoints, sorted.
func (db *DB) Checkpoints(ctx context.Context, integration string) (store.Checkpoints, error) {
	op := "read checkpoints of " + integration
	var cp store.Checkpoints
	var since *int64
	err := db.pool.QueryRow(ctx, `SELECT
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'audit'),
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'jobs'),
			backfill_since, backfill_until
		FROM integrations i WHERE id = $1`, integration).Scan(&cp.Audit, &cp.Jobs, &since, &cp.BackfillUntil)
	if err != nil {
		return cp, fail(op, err)
	}
	cp.BackfillSince = timeOf(since)
	if cp.BackfillSince.IsZero() {
		cp.BackfillUntil = 0
	}
	rows, err := db.pool.Query(ctx, `SELECT source, lo, hi FROM accepted_ranges WHERE integration = $1 ORDER BY source, lo`, integration)
	if err != nil {
		return cp, fail(op, err)
	}
	var source string
	var r store.Range
	_, err = pgx.ForEachRow(rows, []any{&source, &r.Lo, &r.Hi}, func() error {
		if source == siemsync.SourceAudit {
			cp.AuditAccepted = append(cp.AuditAccepted, r)
		} else {
			cp.JobsAccepted = append(cp.JobsAccepted, r)
		}
		return nil
	})
	if err != nil {
		return cp, fail(op, err)
	}
	return cp, nil
}

// StartRun records the start of a cycle under lease l and returns the run
// id; a lease that was taken over is refused with store.ErrFenced.
func (db *DB) StartRun(ctx context.Context, l store.Lease, started time.Time) (int64, error) {
	var id int64
	err := db.inTx(ctx, "start run of "+l.Name, func(tx pgx.Tx) error {
		if err := fence(ctx, tx, l.Name, l.Token); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO runs (integration, worker, started) SELECT id, $2, $3 FROM integrations WHERE id = $1
			RETURNING id`, l.Name, l.Owner, ms(started)).Scan(&id)
		return notFound(err)
	})
	return id, err
}

// CommitBatch records one accepted batch in one transaction: the checkpoint
// moves up to b.Checkpoint (never down), the accepted ranges beyond it are
// stored and those it reached forgotten, the run's counters grow, and the
// set-aside events are stored. A stale token is refused with store.ErrFenced.
func (db *DB) CommitBatch(ctx context.Context, b store.BatchCommit) error {
	if b.Source != siemsync.SourceAudit && b.Source != siemsync.SourceJobs {
		return fmt.Errorf("commit batch: unknown source %q", b.Source)
	}
	for _, r := range b.Accepted {
		if r.Lo > r.Hi {
			return fmt.Errorf("commit batch: accepted range %d-%d ends before it starts", r.Lo, r.Hi)
		}
	}
	now := ms(db.nowMS())
	return db.inTx(ctx, "commit batch of "+b.Integration, func(tx pgx.Tx) error {
		if err := fence(ctx, tx, b.Integration, b.Token); err != nil {
			return err
		}
		var cp int64
		err := tx.QueryRow(ctx, `UPDATE checkpoints SET seq = greatest(seq, $1), updated_at = $2
			WHERE integration = $3 AND source = $4 RETURNING seq`, b.Checkpoint, now, b.Integration, b.Source).Scan(&cp)
		if err != nil {
			return fmt.Errorf("advance checkpoint: %w", notFound(err))
		}
		if err := storeAccepted(ctx, tx, b, cp); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE runs SET events = events + $1, bytes = bytes + $2, set_aside = set_aside + $3
			WHERE id = $4 AND integration = $5`, b.Events, b.Bytes, len(b.SetAside), b.RunID, b.Integration)
		if err != nil {
			return fmt.Errorf("count run: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("count run %d: %w", b.RunID, siemsync.ErrNotFound)
		}
		return insertSetAside(ctx, tx, b.Integration, b.SetAside, now)
	})
}

// storeAccepted replaces nothing: it adds b's ranges beyond the checkpoint
// cp (merging with stored ones is the reader's business: Checkpoints sorts
// them) and forgets the ranges cp has reached.
func storeAccepted(ctx context.Context, tx pgx.Tx, b store.BatchCommit, cp int64) error {
	_, err := tx.Exec(ctx, `DELETE FROM accepted_ranges WHERE integration = $1 AND source = $2 AND hi <= $3`,
		b.Integration, b.Source, cp)
	if err != nil {
		return fmt.Errorf("forget accepted ranges: %w", err)
	}
	rs := slices.Clone(b.Accepted)
	slices.SortFunc(rs, func(x, y store.Range) int { return int(min(max(x.Lo-y.Lo, -1), 1)) })
	for _, r := range rs {
		if r.Hi <= cp || r.Lo > r.Hi {
			continue
		}
		_, err := tx.Exec(ctx, `INSERT INTO accepted_ranges (integration, source, lo, hi) VALUES ($1, $2, $3, $4)
			ON CONFLICT (integration, source, lo) DO UPDATE SET hi = greatest(accepted_ranges.hi, excluded.hi)`,
			b.Integration, b.Source, r.Lo, r.Hi)
		if err != nil {
			return fmt.Errorf("store accepted range %d-%d: %w", r.Lo, r.Hi, err)
		}
	}
	return nil
}

func insertSetAside(ctx context.Context, tx pgx.Tx, integration string, events []store.SetAside, now int64) error {
	if len(events) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, s := range events {
		created := now
		if !s.CreatedAt.IsZero() {
			created = ms(s.CreatedAt)
		}
		batch.Queue(`INSERT INTO set_aside (integration, source, seq, event_id, reason, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, integration, s.Source, s.Seq, s.EventID, s.Reason, s.Body, created)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("store set-aside events: %w", err)
	}
	return nil
}

// FinishRun closes a run, updates the integration's status and, when
// f.NextDue is set, when it is next due. A stale token is refused with
// store.ErrFenced.
func (db *DB) FinishRun(ctx context.Context, f store.RunFinish) error {
	return db.inTx(ctx, "finish run of "+f.Integration, func(tx pgx.Tx) error {
		if err := fence(ctx, tx, f.Integration, f.Token); err != nil {
			return err
		}
		var events int64
		var worker string
		err := tx.QueryRow(ctx, `UPDATE runs SET finished = $1, error = $2, filtered = $5 WHERE id = $3 AND integration = $4 RETURNING events, worker`,
			ms(f.Finished), f.Err, f.RunID, f.Integration, f.Filtered).Scan(&events, &worker)
		if err != nil {
			return fmt.Errorf("close run %d: %w", f.RunID, notFound(err))
		}
		if f.Err == "" {
			_, err = tx.Exec(ctx, `UPDATE integrations SET last_complete = $1, last_error = NULL, error_message = '',
				events_last_cycle = $2, next_due_at = coalesce($4, next_due_at), last_worker = $5, filtered_last_cycle = $6 WHERE id = $3`,
				ms(f.Finished), events, f.Integration, nullMS(f.NextDue), worker, f.Filtered)
		} else {
			_, err = tx.Exec(ctx, `UPDATE integrations SET last_error = $1, error_message = $2,
				events_last_cycle = $3, next_due_at = coalesce($5, next_due_at), last_worker = $6, filtered_last_cycle = $7 WHERE id = $4`,
				ms(f.Finished), f.Err, events, f.Integration, nullMS(f.NextDue), worker, f.Filtered)
		}
		if err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		return nil
	})
}

// RecentRuns returns the integration's last n runs, newest first.
func (db *DB) RecentRuns(ctx context.Context, integration string, n int) ([]store.Run, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, worker, started, finished, events, bytes, set_aside, filtered, error
		FROM runs WHERE integration = $1 ORDER BY id DESC LIMIT $2`, integration, n)
	if err != nil {
		return nil, fail("list runs of "+integration, err)
	}
	var out []store.Run
	r := store.Run{Integration: integration}
	var started int64
	var finished *int64
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Worker, &started, &finished, &r.Events, &r.Bytes, &r.SetAside, &r.Filtered, &r.Error}, func() error {
		r.Started, r.Finished = fromMS(started), timePtr(finished)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fail("list runs of "+integration, err)
	}
	return out, nil
}

// ListSetAside returns the integration's set-aside events, oldest first.
func (db *DB) ListSetAside(ctx context.Context, integration string) ([]store.SetAside, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, source, seq, event_id, reason, body, created_at
		FROM set_aside WHERE integration = $1 ORDER BY id`, integration)
	if err != nil {
		return nil, fail("list set-aside events of "+integration, err)
	}
	var out []store.SetAside
	s := store.SetAside{Integration: integration}
	var created int64
	_, err = pgx.ForEachRow(rows, []any{&s.ID, &s.Source, &s.Seq, &s.EventID, &s.Reason, &s.Body, &created}, func() error {
		s.CreatedAt = fromMS(created)
		out = append(out, s)
		s.Body = nil
		return nil
	})
	if err != nil {
		return nil, fail("list set-aside events of "+integration, err)
	}
	return out, nil
}

// DeleteSetAside deletes set-aside events of the integration by id and
// returns how many it deleted; ids of other integrations are ignored.
func (db *DB) DeleteSetAside(ctx context.Context, integration string, ids []int64) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM set_aside WHERE integration = $1 AND id = ANY($2)`, integration, ids)
	if err != nil {
		return 0, fail("delete set-aside events of "+integration, err)
	}
	return int(tag.RowsAffected()), nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/siemsync/siemsync/store"
	"time"

	"github.com/siemsync/siemsync"
)

// Checkpoints returns where the integration stands in each data source,
// with the ranges accepted beyond each checkpoint, sorted by Lo.
func (db *DB) Checkpoints(ctx context.Context, integration string) (store.Checkpoints, error) {
	op := "read checkpoints of " + integration
	// One read transaction: the checkpoints and the ranges beyond them
	// must come from one commit.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Checkpoints{}, db.fail(op, err)
	}
	defer tx.Rollback()
	cp, err := readCheckpoints(ctx, tx, integration)
	if err != nil {
		return cp, db.fail(op, err)
	}
	return cp, nil
}

// readCheckpoints reads the checkpoints of an integration and the ranges
// accepted beyond them inside tx.
func readCheckpoints(ctx context.Context, tx *sql.Tx, integration string) (store.Checkpoints, error) {
	var cp store.Checkpoints
	var since sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'audit'),
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'jobs'),
			backfill_since, backfill_until
		FROM integrations i WHERE id = ?`, integration).Scan(&cp.Audit, &cp.Jobs, &since, &cp.BackfillUntil)
	if err != nil {
		return cp, notFound(err)
	}
	cp.BackfillSince = timeOf(since)
	if cp.BackfillSince.IsZero() {
		cp.BackfillUntil = 0
	}
	rows, err := tx.QueryContext(ctx, `SELECT source, lo, hi FROM accepted_ranges WHERE integration = ? ORDER BY source, lo, hi`, integration)
	if err != nil {
		return cp, err
	}
	defer rows.Close()
	for rows.Next() {
		var source string
		var r store.Range
		if err := rows.Scan(&source, &r.Lo, &r.Hi); err != nil {
			return cp, err
		}
		if source == siemsync.SourceAudit {
			cp.AuditAccepted = append(cp.AuditAccepted, r)
		} else {
			cp.JobsAccepted = append(cp.JobsAccepted, r)
		}
	}
	return cp, rows.Err()
}

// BeginCycles starts the cycles of leases ls one after the other, as
// BeginCycle does each: an embedded database has no round trip to save by
// batching them, and a transaction each keeps SQLite's one writer free
// between them.
func (db *DB) BeginCycles(ctx context.Context, ls []store.Lease, started time.Time, page int) ([]store.CycleStart, []error) {
	starts, errs := make([]store.CycleStart, len(ls)), make([]error, len(ls))
	for i, l := range ls {
		starts[i], errs[i] = db.BeginCycle(ctx, l, started, page)
	}
	return starts, errs
}

// BeginCycle starts a cycle under lease l in one write transaction: the
// lease check, the integration, its account and checkpoints, and the run.
//
// It does not read the first audit page (page): the transaction holds
// SQLite's one writer, and a page read by itself costs no round trip.
func (db *DB) BeginCycle(ctx context.Context, l store.Lease, started time.Time, page int) (store.CycleStart, error) {
	var cs store.CycleStart
	var r integrationRow
	err := db.inTx(ctx, "start cycle of "+l.Name, func(tx *sql.Tx) error {
		if err := fence(ctx, tx, l.Name, l.Token); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, sqlSelectIntegration+` WHERE i.id = ?`, l.Name).Scan(r.dest()...); err != nil {
			return notFound(err)
		}
		in := r.integration(db.now())
		var err error
		row := tx.QueryRowContext(ctx, `SELECT id, name, host, created_at, siem_enabled FROM accounts WHERE id = ?`, in.Account)
		if cs.Account, err = scanAccount(row); err != nil {
			return fmt.Errorf("read account %s: %w", in.Account, notFound(err))
		}
		if cs.Checkpoints, err = readCheckpoints(ctx, tx, l.Name); err != nil {
			return fmt.Errorf("read checkpoints: %w", err)
		}
		if in.HasSource(siemsync.SourceJobs) {
			if cs.JobsPending, err = jobsPending(ctx, tx, in.Account, cs.Checkpoints.Jobs); err != nil {
				return err
			}
		}
		cs.Integration = in
		if !in.Enabled || !cs.Account.SIEMEnabled {
			return nil
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (integration, started, worker) VALUES (?, ?, ?)`, l.Name, ms(started), l.Owner)
		if err != nil {
			return fmt.Errorf("record run: %w", err)
		}
		cs.RunID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return store.CycleStart{}, err
	}
	if err := store.OpenSecrets(db.cipher, cs.Integration, r.sealed); err != nil {
		return store.CycleStart{}, fmt.Errorf("start cycle of %s: %w", l.Name, err)
	}
	return cs, nil
}

// jobsPending reports whether the account has a job a cycle would send:
// an active one, or one changed after the jobs checkpoint cp.
func jobsPending(ctx context.Context, tx *sql.Tx, account string, cp int64) (bool, error) {
	var pending bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE account_num = a.num AND active = 1)
			OR EXISTS (SELECT 1 FROM jobs WHERE account_num = a.num AND seq > ?2)
		FROM accounts a WHERE a.id = ?1`, account, cp).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("look for jobs to send: %w", notFound(err))
	}
	return pending, nil
}

// CommitBatch records one batch the destination accepted, in one
// transaction: the checkpoint of b.Source moves up to b.Checkpoint (never
// down), the ranges accepted beyond it are remembered and those it reached
// forgotten, the run's counters grow, and the set-aside events are stored.
// It is refused with store.ErrFenced when b.Token is not the integration's
// current lease token.
func (db *DB) CommitBatch(ctx context.Context, b store.BatchCommit) error {
	if err := b.Check(); err != nil {
		return err
	}
	now := ms(db.nowMS())
	return db.inTx(ctx, "commit batch of "+b.Integration, func(tx *sql.Tx) error {
		if err := fence(ctx, tx, b.Integration, b.Token); err != nil {
			return err
		}
		return commitBatch(ctx, tx, b, now)
	})
}

// commitBatch is CommitBatch's writes, after its fencing.
func commitBatch(ctx context.Context, tx *sql.Tx, b store.BatchCommit, now int64) error {
	var cp int64
	err := tx.QueryRowContext(ctx, `UPDATE checkpoints SET seq = max(seq, ?), updated_at = ?
		WHERE integration = ? AND source = ? RETURNING seq`, b.Checkpoint, now, b.Integration, b.Source).Scan(&cp)
	if err != nil {
		return fmt.Errorf("advance checkpoint: integration: %w", notFound(err))
	}
	if err := acceptRanges(ctx, tx, b.Integration, b.Source, cp, b.Accepted); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE runs SET events = events + ?, bytes = bytes + ?, set_aside = set_aside + ?
		WHERE id = ? AND integration = ?`, b.Events, b.Bytes, len(b.SetAside), b.RunID, b.Integration)
	if err != nil {
		return fmt.Errorf("count run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("count run %d: %w", b.RunID, siemsync.ErrNotFound)
	}
	return insertSetAside(ctx, tx, b.Integration, b.SetAside, now)
}

// acceptRanges adds the ranges beyond the checkpoint cp and forgets those
// that end at or below it. Two ranges with one start keep the longer.
func acceptRanges(ctx context.Context, tx *sql.Tx, integration, source string, cp int64, accepted []store.Range) error {
	for _, r := range accepted {
		if r.Hi <= cp {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO accepted_ranges (integration, source, lo, hi) VALUES (?, ?, ?, ?)
			ON CONFLICT (integration, source, lo) DO UPDATE SET hi = max(hi, excluded.hi)`, integration, source, r.Lo, r.Hi)
		if err != nil {
			return fmt.Errorf("remember accepted range %d-%d: %w", r.Lo, r.Hi, err)
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM accepted_ranges WHERE integration = ? AND source = ? AND hi <= ?`, integration, source, cp)
	if err != nil {
		return fmt.Errorf("forget accepted ranges: %w", err)
	}
	return nil
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
// the message. Both record the run's events as events_last_cycle and its
// worker as last_worker, and a non-zero f.NextDue as next_due_at. It is
// refused with store.ErrFenced when f.Token is not the integration's
// current lease token. A batch commit (f.Commit) goes first, in the same
// transaction.
func (db *DB) FinishRun(ctx context.Context, f store.RunFinish) error {
	var due any // NULL keeps next_due_at
	if !f.NextDue.IsZero() {
		due = ms(f.NextDue)
	}
	if err := f.Check(); err != nil {
		return err
	}
	now := ms(db.nowMS())
	return db.inTx(ctx, "finish run of "+f.Integration, func(tx *sql.Tx) error {
		if err := fence(ctx, tx, f.Integration, f.Token); err != nil {
			return err
		}
		if f.Commit != nil {
			if err := commitBatch(ctx, tx, *f.Commit, now); err != nil {
				return err
			}
		}
		var events int64
		var worker string
		err := tx.QueryRowContext(ctx, `UPDATE runs SET finished = ?, error = ?, filtered = ? WHERE id = ? AND integration = ? RETURNING events, worker`,
			ms(f.Finished), f.Err, f.Filtered, f.RunID, f.Integration).Scan(&events, &worker)
		if err != nil {
			return fmt.Errorf("close run %d: %w", f.RunID, notFound(err))
		}
		if f.Err == "" {
			_, err = tx.ExecContext(ctx, `UPDATE integrations SET last_complete = ?1, last_error = NULL, error_message = '',
				events_last_cycle = ?2, last_worker = ?3, next_due_at = coalesce(?4, next_due_at) WHERE id = ?5`,
				ms(f.Finished), events, worker, due, f.Integration)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE integrations SET last_error = ?1, error_message = ?2,
				events_last_cycle = ?3, last_worker = ?4, next_due_at = coalesce(?5, next_due_at) WHERE id = ?6`,
				ms(f.Finished), f.Err, events, worker, due, f.Integration)
		}
		if err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET filtered_last_cycle = ? WHERE id = ?`, f.Filtered, f.Integration); err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		if f.Release {
			if _, err := tx.ExecContext(ctx, `UPDATE leases SET expires = 0 WHERE name = ?`, f.Integration); err != nil {
				return fmt.Errorf("release lease: %w", err)
			}
		}
		return nil
	})
}

// RecentRuns returns the integration's last n runs, newest first.
func (db *DB) RecentRuns(ctx context.Context, integration string, n int) ([]store.Run, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, worker, started, finished, events, bytes, set_aside, filtered, error
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
		if err := rows.Scan(&r.ID, &r.Worker, &started, &finished, &r.Events, &r.Bytes, &r.SetAside, &r.Filtered, &r.Error); err != nil {
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

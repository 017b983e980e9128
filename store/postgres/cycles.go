package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Checkpoints returns where the integration stands in each data source,
// with the ranges accepted beyond the checkpoints, sorted. Both queries go
// in one batch: one implicit transaction, one commit's view.
func (db *DB) Checkpoints(ctx context.Context, integration string) (store.Checkpoints, error) {
	var cp store.Checkpoints
	b := &pgx.Batch{}
	queueCheckpoints(b, integration, &cp)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return store.Checkpoints{}, fail("read checkpoints of "+integration, err)
	}
	return cp, nil
}

// queueCheckpoints queues the queries that read the checkpoints of an
// integration and the ranges accepted beyond them into cp.
func queueCheckpoints(b *pgx.Batch, integration string, cp *store.Checkpoints) {
	b.Queue(`SELECT
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'audit'),
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'jobs'),
			backfill_since, backfill_until
		FROM integrations i WHERE id = $1`, integration).QueryRow(func(row pgx.Row) error {
		var since *int64
		if err := row.Scan(&cp.Audit, &cp.Jobs, &since, &cp.BackfillUntil); err != nil {
			return err
		}
		cp.BackfillSince = timeOf(since)
		if cp.BackfillSince.IsZero() {
			cp.BackfillUntil = 0
		}
		return nil
	})
	b.Queue(`SELECT source, lo, hi FROM accepted_ranges WHERE integration = $1 ORDER BY source, lo`, integration).Query(func(rows pgx.Rows) error {
		var source string
		var r store.Range
		_, err := pgx.ForEachRow(rows, []any{&source, &r.Lo, &r.Hi}, func() error {
			if source == siemsync.SourceAudit {
				cp.AuditAccepted = append(cp.AuditAccepted, r)
			} else {
				cp.JobsAccepted = append(cp.JobsAccepted, r)
			}
			return nil
		})
		return err
	})
}

// BeginCycle starts a cycle under lease l in one round trip: the queries
// go as one batch, which PostgreSQL runs as one implicit transaction. The
// run is inserted only if the lease is current and the integration and
// its account are on, so a refused cycle writes nothing.
func (db *DB) BeginCycle(ctx context.Context, l store.Lease, started time.Time) (store.CycleStart, error) {
	op := "start cycle of " + l.Name
	var cs store.CycleStart
	var r integrationRow
	var token int64
	found := false
	b := &pgx.Batch{}
	b.Queue(`SELECT token FROM leases WHERE name = $1 FOR SHARE`, l.Name).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&token); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("check lease: %w", err)
		}
		return nil
	})
	b.Queue(sqlSelectIntegration+` WHERE i.id = $1`, l.Name).QueryRow(func(row pgx.Row) error {
		err := row.Scan(r.dest()...)
		found = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	b.Queue(`SELECT id, name, host, created_at, siem_enabled FROM accounts WHERE id = (SELECT account FROM integrations WHERE id = $1)`,
		l.Name).QueryRow(func(row pgx.Row) error {
		var err error
		if cs.Account, err = scanAccount(row); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read account: %w", err)
		}
		return nil
	})
	queueCheckpoints(b, l.Name, &cs.Checkpoints)
	b.Queue(`INSERT INTO runs (integration, worker, started)
		SELECT i.id, $2, $3 FROM integrations i JOIN accounts a ON a.id = i.account
		WHERE i.id = $1 AND i.enabled AND a.siem_enabled AND coalesce((SELECT token FROM leases WHERE name = $1), 0) = $4
		RETURNING id`, l.Name, l.Owner, ms(started), l.Token).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&cs.RunID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("record run: %w", err)
		}
		return nil
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return store.CycleStart{}, fail(op, err)
	}
	switch {
	case token != l.Token:
		return store.CycleStart{}, fmt.Errorf("%s: %w (token %d, current %d)", op, store.ErrFenced, l.Token, token)
	case !found:
		return store.CycleStart{}, fmt.Errorf("%s: %w", op, siemsync.ErrNotFound)
	}
	cs.Integration = r.integration(db.now())
	if err := store.OpenSecrets(db.cipher, cs.Integration, r.token, r.key, r.notify); err != nil {
		return store.CycleStart{}, fmt.Errorf("%s: %w", op, err)
	}
	return cs, nil
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
		if f.Release {
			if _, err := tx.Exec(ctx, `UPDATE leases SET expires_ms = 0 WHERE name = $1`, f.Integration); err != nil {
				return fmt.Errorf("release lease: %w", err)
			}
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

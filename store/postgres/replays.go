package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// The replay and alert state of issue 16; the rules are those of
// store/sqlite (replays.go, alerts.go), checked by the conformance suite.

const sqlReplayColumns = `integration, since_ms, until_ms, audit_end, audit_cursor, jobs_cursor, total, sent,
	state, error, started_at, updated_at, finished_at`

// foreignKeyViolation is SQLSTATE 23503.
const foreignKeyViolation = "23503"

// StartReplay stores a new running replay; siemsync.ErrConflict while one runs.
func (db *DB) StartReplay(ctx context.Context, r *store.Replay) error {
	now := db.nowMS()
	return db.inTx(ctx, "start replay of "+r.Integration, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM replays WHERE integration = $1 FOR UPDATE`, r.Integration).Scan(&state)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if state == store.ReplayRunning {
			return fmt.Errorf("a replay of this integration is running: cancel it first (DELETE …/replay): %w", siemsync.ErrConflict)
		}
		r.State, r.Sent, r.AuditCursor, r.JobsCursor, r.Error = store.ReplayRunning, 0, 0, 0, ""
		r.Started, r.Updated, r.Finished = now, now, nil
		_, err = tx.Exec(ctx, `INSERT INTO replays (`+sqlReplayColumns+`)
			VALUES ($1, $2, $3, $4, 0, 0, $5, 0, $6, '', $7, $7, NULL)
			ON CONFLICT (integration) DO UPDATE SET since_ms = excluded.since_ms, until_ms = excluded.until_ms,
				audit_end = excluded.audit_end, audit_cursor = 0, jobs_cursor = 0, total = excluded.total, sent = 0,
				state = excluded.state, error = '', started_at = excluded.started_at, updated_at = excluded.updated_at,
				finished_at = NULL`,
			r.Integration, ms(r.Since), ms(r.Until), r.AuditEnd, r.Total, r.State, ms(now))
		if pgCode(err) == foreignKeyViolation {
			return siemsync.ErrNotFound
		}
		return err
	})
}

// GetReplay returns the current or last replay of an integration.
func (db *DB) GetReplay(ctx context.Context, integration string) (store.Replay, error) {
	var r store.Replay
	var since, until, started, updated int64
	var finished *int64
	err := db.pool.QueryRow(ctx, `SELECT `+sqlReplayColumns+` FROM replays WHERE integration = $1`, integration).Scan(
		&r.Integration, &since, &until, &r.AuditEnd, &r.AuditCursor, &r.JobsCursor, &r.Total, &r.Sent,
		&r.State, &r.Error, &started, &updated, &finished)
	if err != nil {
		return r, fail("get replay of "+integration, err)
	}
	r.Since, r.Until, r.Started, r.Updated, r.Finished = fromMS(since), fromMS(until), fromMS(started), fromMS(updated), timePtr(finished)
	return r, nil
}

// ReplayProgress records a delivered batch of a running replay;
// store.ErrReplayStopped once it is no longer running.
func (db *DB) ReplayProgress(ctx context.Context, integration string, auditCursor, jobsCursor, sent int64) error {
	tag, err := db.pool.Exec(ctx, `UPDATE replays SET audit_cursor = greatest(audit_cursor, $2), jobs_cursor = greatest(jobs_cursor, $3),
		sent = sent + $4, updated_at = $5 WHERE integration = $1 AND state = 'running'`,
		integration, auditCursor, jobsCursor, sent, ms(db.nowMS()))
	if err != nil {
		return fail("record replay progress of "+integration, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrReplayStopped
	}
	return nil
}

// FinishReplay ends a running replay; store.ErrReplayStopped when none runs.
func (db *DB) FinishReplay(ctx context.Context, integration, state, msg string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE replays SET state = $2, error = $3, updated_at = $4, finished_at = $4
		WHERE integration = $1 AND state = 'running'`, integration, state, msg, ms(db.nowMS()))
	if err != nil {
		return fail("finish replay of "+integration, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrReplayStopped
	}
	return nil
}

// RunningReplays lists the integrations whose replay is running.
func (db *DB) RunningReplays(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT integration FROM replays WHERE state = 'running' ORDER BY started_at`)
	if err != nil {
		return nil, fail("list running replays", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fail("list running replays", err)
	}
	return ids, nil
}

// CountReplay counts the window's audit records (seq <= auditEnd) and the
// jobs that changed in it.
func (db *DB) CountReplay(ctx context.Context, account string, since, until time.Time, auditEnd int64) (audit, jobs int64, err error) {
	err = db.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM audit WHERE account_num = a.num AND seq <= $2 AND time_ms >= $3 AND time_ms < $4),
		(SELECT count(*) FROM jobs WHERE account_num = a.num AND changed_at >= $3 AND changed_at < $4)
		FROM accounts a WHERE a.id = $1`, account, auditEnd, ms(since), ms(until)).Scan(&audit, &jobs)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, 0, nil
	case err != nil:
		return 0, 0, fail("count replay window", err)
	}
	return audit, jobs, nil
}

// SwapAlertState moves the alert state from one value to another and
// reports whether it did (one worker sends each alert).
func (db *DB) SwapAlertState(ctx context.Context, id, from, to string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE integrations SET alert_state = $1 WHERE id = $2 AND alert_state = $3`, to, id, from)
	if err != nil {
		return false, fail("swap alert state of integration "+id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetAlertError records the last failure of the integration's webhook.
func (db *DB) SetAlertError(ctx context.Context, id, msg string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE integrations SET alert_error = $1 WHERE id = $2`, msg, id)
	if err != nil {
		return fail("set alert error of integration "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return siemsync.ErrNotFound
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

const sqlReplayColumns = `integration, since_ms, until_ms, audit_end, audit_cursor, jobs_cursor, total, sent,
	state, error, started_at, updated_at, finished_at`

// StartReplay stores a new running replay of r.Integration (Total, Since,
// Until, AuditEnd set by the caller). It fails with an error matching
// siemsync.ErrConflict while another replay of it runs.
func (db *DB) StartReplay(ctx context.Context, r *store.Replay) error {
	now := db.nowMS()
	return db.inTx(ctx, "start replay of "+r.Integration, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM replays WHERE integration = ?`, r.Integration).Scan(&state)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if state == store.ReplayRunning {
			return fmt.Errorf("a replay of this integration is running: cancel it first (DELETE …/replay): %w", siemsync.ErrConflict)
		}
		r.State, r.Sent, r.AuditCursor, r.JobsCursor, r.Error = store.ReplayRunning, 0, 0, 0, ""
		r.Started, r.Updated, r.Finished = now, now, nil
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO replays (`+sqlReplayColumns+`)
			VALUES (?, ?, ?, ?, 0, 0, ?, 0, ?, '', ?, ?, NULL)`,
			r.Integration, ms(r.Since), ms(r.Until), r.AuditEnd, r.Total, r.State, ms(now), ms(now))
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return siemsync.ErrNotFound
		}
		return err
	})
}

// GetReplay returns the current or last replay of an integration, or an
// error wrapping siemsync.ErrNotFound.
func (db *DB) GetReplay(ctx context.Context, integration string) (store.Replay, error) {
	var r store.Replay
	var since, until, started, updated int64
	var finished sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT `+sqlReplayColumns+` FROM replays WHERE integration = ?`, integration).Scan(
		&r.Integration, &since, &until, &r.AuditEnd, &r.AuditCursor, &r.JobsCursor, &r.Total, &r.Sent,
		&r.State, &r.Error, &started, &updated, &finished)
	if err != nil {
		return r, db.fail("get replay of "+integration, notFound(err))
	}
	r.Since, r.Until, r.Started, r.Updated, r.Finished = fromMS(since), fromMS(until), fromMS(started), fromMS(updated), timePtr(finished)
	return r, nil
}

// ReplayProgress records a delivered batch of a running replay: the cursors
// move and sent grows. It fails with store.ErrReplayStopped once the
// replay is no longer running.
func (db *DB) ReplayProgress(ctx context.Context, integration string, auditCursor, jobsCursor, sent int64) error {
	return db.inTx(ctx, "record replay progress of "+integration, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE replays SET audit_cursor = max(audit_cursor, ?2), jobs_cursor = max(jobs_cursor, ?3),
			sent = sent + ?4, updated_at = ?5 WHERE integration = ?1 AND state = 'running'`,
			integration, auditCursor, jobsCursor, sent, ms(db.nowMS()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrReplayStopped
		}
		return nil
	})
}

// FinishReplay ends a running replay in state (done, cancelled or failed)
// with msg. It fails with store.ErrReplayStopped when none is running.
func (db *DB) FinishReplay(ctx context.Context, integration, state, msg string) error {
	return db.inTx(ctx, "finish replay of "+integration, func(tx *sql.Tx) error {
		now := ms(db.nowMS())
		res, err := tx.ExecContext(ctx, `UPDATE replays SET state = ?2, error = ?3, updated_at = ?4, finished_at = ?4
			WHERE integration = ?1 AND state = 'running'`, integration, state, msg, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrReplayStopped
		}
		return nil
	})
}

// RunningReplays lists the integrations whose replay is running.
func (db *DB) RunningReplays(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT integration FROM replays WHERE state = 'running' ORDER BY started_at`)
	if err != nil {
		return nil, db.fail("list running replays", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, db.fail("list running replays", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list running replays", err)
	}
	return ids, nil
}

// CountReplay counts what a replay of the window sends: audit records of
// the account that occurred in [since, until) with seq <= auditEnd, and
// jobs that changed in [since, until).
func (db *DB) CountReplay(ctx context.Context, account string, since, until time.Time, auditEnd int64) (audit, jobs int64, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM audit WHERE account_num = a.num AND seq <= ?2 AND time_ms >= ?3 AND time_ms < ?4),
		(SELECT count(*) FROM jobs WHERE account_num = a.num AND changed_at >= ?3 AND changed_at < ?4)
		FROM accounts a WHERE a.id = ?1`, account, auditEnd, ms(since), ms(until)).Scan(&audit, &jobs)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, 0, nil
	case err != nil:
		return 0, 0, db.fail("count replay window", err)
	}
	return audit, jobs, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/siemsync/siemsync/store"

	"github.com/siemsync/siemsync"
)

// The two halves are disjoint (seq <= checkpoint, seq > checkpoint), so
// UNION ALL needs no dedupe. The first half walks only the partial index of
// active jobs, not the account's whole history below the checkpoint.
const sqlJobPage = `SELECT seq, job, connector, scheduled, planned_start, start_time, paused, end_time,
		description, progress, status, type, user_name, changed_at
	FROM jobs WHERE account_num = (SELECT num FROM accounts WHERE id = ?1) AND active = 1 AND seq > ?2 AND seq <= ?3
	UNION ALL
	SELECT seq, job, connector, scheduled, planned_start, start_time, paused, end_time,
		description, progress, status, type, user_name, changed_at
	FROM jobs WHERE account_num = (SELECT num FROM accounts WHERE id = ?1) AND seq > max(?2, ?3)
	ORDER BY seq LIMIT ?4`

// JobPage appends to dst[:0] the jobs of q.Account with Seq > q.After that
// changed since q.Checkpoint or are still active, in seq order, at most
// q.Limit of them. It reuses dst's backing array.
func (db *DB) JobPage(ctx context.Context, q store.JobQuery, dst []siemsync.Job) ([]siemsync.Job, error) {
	dst = dst[:0]
	if q.Limit <= 0 {
		return dst, nil
	}
	rows, err := db.r.QueryContext(ctx, sqlJobPage, q.Account, q.After, q.Checkpoint, q.Limit)
	if err != nil {
		return dst, db.fail("read job page", err)
	}
	defer rows.Close()
	var (
		sched, planned, start, paused, end sql.NullInt64
		progress                           sql.NullFloat64
		changed                            int64
	)
	for rows.Next() {
		dst = append(dst, siemsync.Job{Account: q.Account})
		j := &dst[len(dst)-1]
		err := rows.Scan(&j.Seq, &j.Job, &j.Connector, &sched, &planned, &start, &paused, &end,
			&j.Description, &progress, &j.Status, &j.Type, &j.User, &changed)
		if err != nil {
			return dst, db.fail("read job page", err)
		}
		j.Scheduled, j.PlannedStart, j.StartTime = timeOf(sched), timeOf(planned), timeOf(start)
		j.Paused, j.EndTime, j.ChangedAt = timeOf(paused), timeOf(end), fromMS(changed)
		if progress.Valid {
			p := progress.Float64
			j.Progress = &p
		}
	}
	if err := rows.Err(); err != nil {
		return dst, db.fail("read job page", err)
	}
	return dst, nil
}

// MaxJobSeq is the highest job change sequence of the account, 0 if none.
func (db *DB) MaxJobSeq(ctx context.Context, account string) (int64, error) {
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT ifnull(max(seq), 0) FROM jobs WHERE account_num = (SELECT num FROM accounts WHERE id = ?)`, account).Scan(&seq)
	if err != nil {
		return 0, db.fail(fmt.Sprintf("read last job seq of account %s", account), err)
	}
	return seq, nil
}

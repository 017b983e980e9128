package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/siemsync/siemsync/store"
	"time"
)

// PruneChunk is how many records one retention transaction deletes. Small
// enough that the writer is never held for long (ingest and checkpoint
// commits interleave between chunks), large enough to be efficient.
const PruneChunk = 5000

// The oldest chunk of audit records that occurred before the cutoff
// (ordered like the audit_time index, so it is a range scan).
const auditChunk = `SELECT seq, account_num, time_ms AS t FROM audit WHERE time_ms < ?1 ORDER BY time_ms, seq LIMIT ?2`

// The oldest chunk of ended jobs last changed before the cutoff (the
// jobs_ended partial index). Active jobs are never pruned.
const jobsChunk = `SELECT seq, account_num, changed_at AS t FROM jobs WHERE active = 0 AND changed_at < ?1 ORDER BY changed_at, seq LIMIT ?2`

// sqlMisses finds, for every integration that sends the source and whose
// checkpoint is below a record of the chunk, how many such records it loses
// and their time range. Audit records that a backfill was never going to
// send (up to backfill_until and before backfill_since) are not losses.
const sqlMisses = `WITH chunk AS (%s)
	SELECT i.id, count(*), min(c.t), max(c.t)
	FROM chunk c
	JOIN accounts a ON a.num = c.account_num
	JOIN integrations i ON i.account = a.id
	JOIN checkpoints k ON k.integration = i.id AND k.source = ?3
	WHERE c.seq > k.seq
		AND instr(',' || i.sources || ',', ',' || ?3 || ',') > 0
		AND NOT (?3 = 'audit' AND i.backfill_since IS NOT NULL AND c.seq <= i.backfill_until AND c.t < i.backfill_since)
	GROUP BY i.id`

// sqlAddPruned accumulates what a chunk deletes of each account (WHERE
// true: SQLite needs it before ON CONFLICT in an INSERT ... SELECT).
const sqlAddPruned = `INSERT INTO pruned (account_num, source, count, from_ms, to_ms)
	SELECT account_num, ?3, count(*), min(t), max(t) FROM (%s) WHERE true GROUP BY account_num
	ON CONFLICT (account_num, source) DO UPDATE SET count = count + excluded.count,
		from_ms = min(from_ms, excluded.from_ms), to_ms = max(to_ms, excluded.to_ms)`

// sqlAddMiss accumulates losses into one row per integration and source.
const sqlAddMiss = `INSERT INTO retention_misses (integration, source, count, from_ms, to_ms) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (integration, source) DO UPDATE SET count = count + excluded.count,
		from_ms = min(from_ms, excluded.from_ms), to_ms = max(to_ms, excluded.to_ms)`

// Prune deletes audit records that occurred before the cutoff, ended jobs
// last changed before it, and finished runs started before it, in chunks of
// PruneChunk per transaction. Jobs still active are kept whatever their age.
//
// Retention never loses data silently: every integration (enabled or not)
// whose checkpoint had not reached a deleted record gets a warning in its
// status saying how many records it lost and from when.
func (db *DB) Prune(ctx context.Context, before time.Time) (store.PruneResult, error) {
	var res store.PruneResult
	cut := ms(before)
	for _, t := range []struct {
		source, table, chunk string
		n                    *int64
	}{
		{"audit", "audit", auditChunk, &res.Audit},
		{"jobs", "jobs", jobsChunk, &res.Jobs},
	} {
		for {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("prune %s: %w", t.source, err)
			}
			deleted, missed, err := db.pruneChunk(ctx, t.source, t.table, t.chunk, cut)
			if err != nil {
				return res, err
			}
			*t.n += deleted
			res.Missed += missed
			if deleted < PruneChunk {
				break
			}
		}
	}
	err := db.inTx(ctx, "prune runs", func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE finished IS NOT NULL AND started < ?`, cut)
		if err != nil {
			return err
		}
		res.Runs, err = r.RowsAffected()
		return err
	})
	return res, err
}

// pruneChunk records the misses of one chunk and deletes it, in one
// transaction.
func (db *DB) pruneChunk(ctx context.Context, source, table, chunk string, cut int64) (deleted, missed int64, err error) {
	err = db.inTx(ctx, "prune "+source, func(tx *sql.Tx) error {
		misses, err := chunkMisses(ctx, tx, source, chunk, cut)
		if err != nil {
			return fmt.Errorf("count missed records: %w", err)
		}
		for _, m := range misses {
			if _, err := tx.ExecContext(ctx, sqlAddMiss, m.integration, source, m.count, m.from, m.to); err != nil {
				return fmt.Errorf("record missed records: %w", err)
			}
			missed += m.count
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(sqlAddPruned, chunk), cut, PruneChunk, source); err != nil {
			return fmt.Errorf("record pruned records: %w", err)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE seq IN (SELECT seq FROM (`+chunk+`))`, cut, PruneChunk)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		deleted, err = r.RowsAffected()
		return err
	})
	return deleted, missed, err
}

type miss struct {
	integration     string
	count, from, to int64
}

func chunkMisses(ctx context.Context, tx *sql.Tx, source, chunk string, cut int64) ([]miss, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(sqlMisses, chunk), cut, PruneChunk, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []miss
	for rows.Next() {
		var m miss
		if err := rows.Scan(&m.integration, &m.count, &m.from, &m.to); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

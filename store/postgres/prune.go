package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync/store"
)

// sqlMisses counts, for every integration that sends the source and whose
// checkpoint is below a record of the doomed set (the CTE doomed: seq,
// account_num, t), how many such records it loses and their time range.
// Records a backfill was never going to send, and records in a range the
// destination already accepted, are not losses.
const sqlMisses = `WITH doomed AS (%s)
	SELECT i.id, count(*), min(c.t), max(c.t)
	FROM doomed c
	JOIN accounts a ON a.num = c.account_num
	JOIN integrations i ON i.account = a.id
	JOIN checkpoints k ON k.integration = i.id AND k.source = '%[2]s'
	WHERE c.seq > k.seq
		AND ',' || i.sources || ',' LIKE '%%,%[2]s,%%'
		AND NOT ('%[2]s' = 'audit' AND i.backfill_since IS NOT NULL AND c.seq <= i.backfill_until AND c.t < i.backfill_since)
		AND NOT EXISTS (SELECT 1 FROM accepted_ranges r
			WHERE r.integration = i.id AND r.source = '%[2]s' AND c.seq BETWEEN r.lo AND r.hi)
	GROUP BY i.id`

const sqlAddMiss = `INSERT INTO retention_misses (integration, source, count, from_ms, to_ms) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (integration, source) DO UPDATE SET count = retention_misses.count + excluded.count,
		from_ms = least(retention_misses.from_ms, excluded.from_ms), to_ms = greatest(retention_misses.to_ms, excluded.to_ms)`

// Prune deletes audit records that occurred before the cutoff, ended jobs
// last changed before it and finished runs started before it. Audit
// partitions wholly before the cutoff are dropped; only the partition the
// cutoff falls into is deleted from row by row (none when the cutoff is at
// a day's start, as serve's pruner makes it). Every integration whose
// checkpoint had not reached a deleted record gets a warning, as on SQLite.
func (db *DB) Prune(ctx context.Context, before time.Time) (store.PruneResult, error) {
	var res store.PruneResult
	cut := ms(before)
	if err := db.ensureAhead(ctx); err != nil {
		return res, err
	}
	bs, err := readBounds(ctx, db.pool)
	if err != nil {
		return res, fmt.Errorf("prune audit: %w", err)
	}
	for _, b := range bs {
		if b.hi > cut {
			break
		}
		n, missed, err := db.dropPartition(ctx, b)
		if err != nil {
			return res, err
		}
		res.Audit += n
		res.Missed += missed
	}
	for _, step := range []struct {
		source, doomed, remove string
		n                      *int64
	}{
		{"audit", `SELECT seq, account_num, id_key, time_ms AS t FROM audit WHERE time_ms < $1`,
			`DELETE FROM audit WHERE time_ms < $1`, &res.Audit},
		{"jobs", `SELECT seq, account_num, job AS id, changed_at AS t FROM jobs WHERE NOT active AND changed_at < $1`,
			`DELETE FROM jobs WHERE NOT active AND changed_at < $1`, &res.Jobs},
	} {
		err := db.inTx(ctx, "prune "+step.source, func(tx pgx.Tx) error {
			missed, err := recordMisses(ctx, tx, step.source, step.doomed, cut)
			if err != nil {
				return err
			}
			if step.source == "audit" {
				if err := forgetIDs(ctx, tx, step.doomed, cut); err != nil {
					return err
				}
			}
			tag, err := tx.Exec(ctx, step.remove, cut)
			if err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			*step.n += tag.RowsAffected()
			res.Missed += missed
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM runs WHERE finished IS NOT NULL AND started < $1`, cut)
	if err != nil {
		return res, fail("prune runs", err)
	}
	res.Runs = tag.RowsAffected()
	return res, nil
}

// dropPartition records the misses of a whole partition, forgets its ids
// and drops it, in one transaction.
func (db *DB) dropPartition(ctx context.Context, b bound) (deleted, missed int64, err error) {
	db.parts.mu.Lock()
	defer db.parts.mu.Unlock()
	table := pgx.Identifier{b.name}.Sanitize()
	doomed := `SELECT seq, account_num, id_key, time_ms AS t FROM ` + table + ` WHERE $1::bigint IS NOT NULL`
	err = db.inTx(ctx, "drop audit partition "+b.name, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '10s'`); err != nil {
			return err
		}
		if missed, err = recordMisses(ctx, tx, "audit", doomed, 0); err != nil {
			return err
		}
		if err := forgetIDs(ctx, tx, doomed, 0); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&deleted); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+table); err != nil {
			return fmt.Errorf("drop: %w", err)
		}
		_, err := tx.Exec(ctx, `DELETE FROM audit_partitions WHERE name = $1`, b.name)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	db.parts.b = slices.DeleteFunc(db.parts.b, func(x bound) bool { return x.name == b.name })
	return deleted, missed, nil
}

// sqlAddPruned accumulates what the doomed records are of each account.
const sqlAddPruned = `INSERT INTO pruned (account_num, source, count, from_ms, to_ms)
	SELECT account_num, $2, count(*), min(t), max(t) FROM (%s) c GROUP BY account_num
	ON CONFLICT (account_num, source) DO UPDATE SET count = pruned.count + excluded.count,
		from_ms = least(pruned.from_ms, excluded.from_ms), to_ms = greatest(pruned.to_ms, excluded.to_ms)`

// recordMisses adds the losses of the doomed records to retention_misses
// and what they are of each account to pruned (for a backfill created
// later), and returns how many records were lost, counted once per
// integration.
func recordMisses(ctx context.Context, tx pgx.Tx, source, doomed string, cut int64) (int64, error) {
	if _, err := tx.Exec(ctx, fmt.Sprintf(sqlAddPruned, doomed), cut, source); err != nil {
		return 0, fmt.Errorf("record pruned records: %w", err)
	}
	rows, err := tx.Query(ctx, fmt.Sprintf(sqlMisses, doomed, source), cut)
	if err != nil {
		return 0, fmt.Errorf("count missed records: %w", err)
	}
	type miss struct {
		integration     string
		count, from, to int64
	}
	var m miss
	var ms []miss
	if _, err := pgx.ForEachRow(rows, []any{&m.integration, &m.count, &m.from, &m.to}, func() error {
		ms = append(ms, m)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("count missed records: %w", err)
	}
	var total int64
	for _, m := range ms {
		if _, err := tx.Exec(ctx, sqlAddMiss, m.integration, source, m.count, m.from, m.to); err != nil {
			return 0, fmt.Errorf("record missed records: %w", err)
		}
		total += m.count
	}
	return total, nil
}

// forgetIDs deletes the idempotency keys of the doomed audit records.
func forgetIDs(ctx context.Context, tx pgx.Tx, doomed string, cut int64) error {
	_, err := tx.Exec(ctx, `DELETE FROM audit_ids d USING (`+doomed+`) c
		WHERE d.id_key = c.id_key`, cut)
	if err != nil {
		return fmt.Errorf("forget audit ids: %w", err)
	}
	return nil
}

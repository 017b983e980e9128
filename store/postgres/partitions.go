package postgres

import (
	"context"
	"fmt"
	"slices"
	gosync "sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit records are partitioned by when they occurred, one partition a day
// (UTC), so that retention drops a day at a time instead of deleting rows
// (prune.go). Days far from today (old backfills, clocks gone wrong) share
// one partition per calendar year, so hostile or odd input cannot create
// thousands of partitions, each of which every page query would visit.
//
// Partitions are created on demand by ingest, and ahead (today and the
// next two days) at Open and by Prune, each in a short transaction of its
// own: creating one locks the audit table, and a long ingest transaction
// must not hold that lock.

const dayMS = int64(24 * time.Hour / time.Millisecond)

// Days within this window of today get a partition of their own.
const (
	dailyBefore = 400
	dailyAfter  = 60
	aheadDays   = 2
)

// partitionLock serialises partition creation and dropping across workers.
const partitionLock = 0x5e5_0003

type bound struct {
	name   string
	lo, hi int64 // [lo, hi) in Unix ms
}

// partitions caches the known partitions, sorted by lo.
type partitions struct {
	mu gosync.Mutex
	b  []bound
}

func newPartitions() *partitions { return &partitions{} }

func dayOf(t int64) int64 {
	d := t / dayMS
	if t%dayMS < 0 {
		d--
	}
	return d * dayMS
}

// covering returns the index of the partition that holds t, or -1.
func covering(bs []bound, t int64) int {
	i, _ := slices.BinarySearchFunc(bs, t, func(b bound, t int64) int {
		switch {
		case b.hi <= t:
			return -1
		case b.lo > t:
			return 1
		}
		return 0
	})
	if i < len(bs) && bs[i].lo <= t && t < bs[i].hi {
		return i
	}
	return -1
}

func readBounds(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]bound, error) {
	rows, err := q.Query(ctx, `SELECT name, lo_ms, hi_ms FROM audit_partitions ORDER BY lo_ms`)
	if err != nil {
		return nil, fmt.Errorf("read audit partitions: %w", err)
	}
	var out []bound
	var b bound
	_, err = pgx.ForEachRow(rows, []any{&b.name, &b.lo, &b.hi}, func() error { out = append(out, b); return nil })
	if err != nil {
		return nil, fmt.Errorf("read audit partitions: %w", err)
	}
	return out, nil
}

// ensurePartitions makes sure a partition holds each of days (day starts
// in Unix ms) and returns their names.
func (db *DB) ensurePartitions(ctx context.Context, days []int64) ([]string, error) {
	if err := db.makePartitions(ctx, days); err != nil {
		return nil, err
	}
	p := db.parts
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(days))
	for _, d := range days {
		i := covering(p.b, d)
		if i < 0 {
			return nil, fmt.Errorf("no audit partition for %s after making it", fromMS(d).Format(time.DateOnly))
		}
		if !slices.Contains(names, p.b[i].name) {
			names = append(names, p.b[i].name)
		}
	}
	return names, nil
}

// placeAll sets the partition of every record, whose partitions exist.
func (db *DB) placeAll(recs []pendingAudit) error {
	p := db.parts
	p.mu.Lock()
	defer p.mu.Unlock()
	last := -1
	for i := range recs {
		t := ms(recs[i].a.Time)
		if last < 0 || t < p.b[last].lo || t >= p.b[last].hi {
			if last = covering(p.b, t); last < 0 {
				return fmt.Errorf("no audit partition for %s", fromMS(t).Format(time.DateOnly))
			}
		}
		recs[i].part = p.b[last].name
	}
	return nil
}

func (db *DB) makePartitions(ctx context.Context, days []int64) error {
	p := db.parts
	p.mu.Lock()
	defer p.mu.Unlock()
	missing := func() []int64 {
		var m []int64
		for _, d := range days {
			if covering(p.b, d) < 0 && !slices.Contains(m, d) {
				m = append(m, d)
			}
		}
		return m
	}
	if len(missing()) == 0 {
		return nil
	}
	bs, err := readBounds(ctx, db.pool) // another worker may have made them
	if err != nil {
		return err
	}
	p.b = bs
	for _, d := range missing() {
		if err := db.createPartition(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// createPartition creates the partition for the day d, unless another
// worker did, and reloads the cache. Called with parts.mu held.
func (db *DB) createPartition(ctx context.Context, d int64) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLock)); err != nil {
			return err
		}
		bs, err := readBounds(ctx, tx)
		if err != nil {
			return err
		}
		if covering(bs, d) >= 0 {
			return nil
		}
		b := partitionFor(bs, d, dayOf(time.Now().UnixMilli()))
		// CREATE TABLE … PARTITION OF would lock the audit table against
		// every ingest transaction in flight (this process's own
		// included); ATTACH of an empty table takes only a SHARE UPDATE
		// EXCLUSIVE lock, which inserts and reads do not conflict with.
		name := pgx.Identifier{b.name}.Sanitize()
		for _, q := range []string{
			`CREATE TABLE ` + name + ` (LIKE audit INCLUDING DEFAULTS)`,
			fmt.Sprintf(`ALTER TABLE audit ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)`, name, b.lo, b.hi),
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit_partitions (name, lo_ms, hi_ms) VALUES ($1, $2, $3)`, b.name, b.lo, b.hi)
		return err
	})
	if err != nil {
		return fmt.Errorf("create audit partition for %s: %w", fromMS(d).Format(time.DateOnly), err)
	}
	bs, err := readBounds(ctx, db.pool)
	if err != nil {
		return err
	}
	db.parts.b = bs
	return nil
}

// partitionFor is the partition for the day d that fits between the
// existing ones: the day itself near today, else its calendar year,
// clipped to its neighbours.
func partitionFor(bs []bound, d, today int64) bound {
	lo, hi := d, d+dayMS
	if d < today-dailyBefore*dayMS || d > today+dailyAfter*dayMS {
		y := fromMS(d).Year()
		lo = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		hi = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		for _, b := range bs {
			if b.hi <= d {
				lo = max(lo, b.hi)
			}
			if b.lo > d {
				hi = min(hi, b.lo)
			}
		}
	}
	name := "audit_" + fromMS(lo).Format("20060102")
	if hi != lo+dayMS {
		name += "_" + fromMS(hi).Format("20060102")
	}
	return bound{name: name, lo: lo, hi: hi}
}

// ensureAhead creates the partitions of today and the next days.
func (db *DB) ensureAhead(ctx context.Context) error {
	today := dayOf(time.Now().UnixMilli())
	days := make([]int64, 0, aheadDays+1)
	for i := range int64(aheadDays + 1) {
		days = append(days, today+i*dayMS)
	}
	_, err := db.ensurePartitions(ctx, days)
	return err
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/siemsync/siemsync/store"

	"github.com/siemsync/siemsync"
)

// A page row is seq, time_ms and the packed text (store/pack.go). The
// driver copies a BLOB into a new []byte, which database/sql says not to
// keep, so keeping it costs a second copy; a TEXT column arrives as a
// string, one copy in all. CAST to TEXT hands SQLite's bytes over as they
// are (no conversion in a UTF-8 database), and the driver takes the
// column's length, not the first NUL, as the string's end.
const sqlAuditColumns = `seq, time_ms, CAST(rec AS TEXT)`

const (
	sqlAuditPage = `SELECT ` + sqlAuditColumns + `
		FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = ?1) AND seq > ?2 ORDER BY seq LIMIT ?3`
	// Backfill: below the creation-time end of the log, only records that
	// occurred at or after backfill_since.
	sqlAuditPageBackfill = `SELECT ` + sqlAuditColumns + `
		FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = ?1) AND seq > ?2 AND (seq > ?4 OR time_ms >= ?5)
		ORDER BY seq LIMIT ?3`
)

// AuditPage appends to dst[:0] the audit records of q.Account with
// Seq > q.After, in seq order, at most q.Limit of them. It reuses dst's
// backing array; the records' Metadata share a few buffers per page.
func (db *DB) AuditPage(ctx context.Context, q store.AuditQuery, dst []siemsync.Audit) ([]siemsync.Audit, error) {
	dst = dst[:0]
	if q.Limit <= 0 {
		return dst, nil
	}
	var rows *sql.Rows
	var err error
	if q.BackfillSince.IsZero() {
		rows, err = db.r.QueryContext(ctx, sqlAuditPage, q.Account, q.After, q.Limit)
	} else {
		rows, err = db.r.QueryContext(ctx, sqlAuditPageBackfill, q.Account, q.After, q.Limit, q.BackfillUntil, ms(q.BackfillSince))
	}
	if err != nil {
		return dst, db.fail("read audit page", err)
	}
	defer rows.Close()
	var (
		row    auditRow
		fields = row.dest()
		// The page's metadata goes into a few shared chunks, not one
		// allocation per record. A full chunk is left as it is and a
		// larger one started, so nothing is copied twice, and a small
		// page (the usual case with many integrations) takes a small one.
		chunk []byte
		next  = 4 << 10
	)
	for rows.Next() {
		if err := rows.Scan(fields...); err != nil {
			return dst, db.fail("read audit page", err)
		}
		dst = append(dst, siemsync.Audit{Account: q.Account, Seq: int64(row.seq), Time: fromMS(int64(row.timeMS))})
		a := &dst[len(dst)-1]
		meta, ok, err := unpackAudit(string(row.rec), a)
		if err != nil {
			return dst, db.fail("read audit page", err)
		}
		if ok {
			if cap(chunk)-len(chunk) < len(meta) {
				chunk = make([]byte, 0, max(next, len(meta)))
				next = min(2*next, 256<<10)
			}
			start := len(chunk)
			chunk = append(chunk, meta...)
			// Capacity is capped so a caller's append cannot run into
			// the next record.
			a.Metadata = chunk[start:len(chunk):len(chunk)]
		}
	}
	if err := rows.Err(); err != nil {
		return dst, db.fail("read audit page", err)
	}
	return dst, nil
}

// auditRow is the scan target of sqlAuditColumns.
type auditRow struct {
	seq, timeMS intCol
	rec         recCol
}

// intCol scans an INTEGER column. database/sql assigns an int64 to an
// *int64 through reflection; a Scanner takes it directly.
type intCol int64

func (c *intCol) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("scan integer column: got %T", src)
	}
	*c = intCol(v)
	return nil
}

// recCol scans the packed text into one string: a record's fields are
// slices of it, so reading a record allocates once for all its text.
type recCol string

func (c *recCol) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*c = recCol(v)
	case string:
		*c = recCol(v)
	default:
		return fmt.Errorf("scan packed audit record: got %T", src)
	}
	return nil
}

func (r *auditRow) dest() []any { return []any{&r.seq, &r.timeMS, &r.rec} }

// MaxAuditSeq is the highest audit sequence of the account, 0 if none.
func (db *DB) MaxAuditSeq(ctx context.Context, account string) (int64, error) {
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT ifnull(max(seq), 0) FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = ?)`, account).Scan(&seq)
	if err != nil {
		return 0, db.fail(fmt.Sprintf("read last audit seq of account %s", account), err)
	}
	return seq, nil
}

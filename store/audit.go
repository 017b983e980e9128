package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/siemsync/siemsync"
)

// Pages are read with the text of a record packed into one column:
//
//	seq, time_ms, len(id), len(connector), …, len(event), len(metadata), id || connector || … || metadata
//
// database/sql hands every text column over as a new string boxed in an
// interface: two allocations per column and row, 16 per record. Packed, a
// record takes four (the lengths are small integers, which Go boxes
// without allocating); its strings are slices of the one packed string.
// Lengths are in bytes (octet_length); a metadata length of -1 means NULL.
const sqlAuditColumns = `seq, time_ms, octet_length(id), octet_length(connector), octet_length(acl), octet_length(method),
	octet_length(user_name), octet_length(ip), octet_length(event), ifnull(octet_length(metadata), -1),
	id || connector || acl || method || user_name || ip || event || ifnull(metadata, '')`

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
func (db *DB) AuditPage(ctx context.Context, q AuditQuery, dst []siemsync.Audit) ([]siemsync.Audit, error) {
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
		dst = append(dst, siemsync.Audit{Account: q.Account})
		a := &dst[len(dst)-1]
		meta, err := row.unpack(a)
		if err != nil {
			return dst, db.fail("read audit page", err)
		}
		if row.lens[7] >= 0 {
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
	lens        [8]intCol // id, connector, acl, method, user, ip, event, metadata
	packed      string
}

// intCol scans an INTEGER column. database/sql assigns an int64 to an
// *int64 through reflection, which with ten integer columns was a tenth
// of reading a page; a Scanner takes it directly.
type intCol int64

func (c *intCol) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("scan integer column: got %T", src)
	}
	*c = intCol(v)
	return nil
}

func (r *auditRow) dest() []any {
	d := []any{&r.seq, &r.timeMS}
	for i := range r.lens {
		d = append(d, &r.lens[i])
	}
	return append(d, &r.packed)
}

// unpack fills a from the row and returns the record's metadata, a slice of
// the packed string for the caller to copy ("" with lens[7] = -1: none).
func (r *auditRow) unpack(a *siemsync.Audit) (meta string, err error) {
	a.Seq, a.Time = int64(r.seq), fromMS(int64(r.timeMS))
	p, off := r.packed, int64(0)
	for i, dst := range []*string{&a.ID, &a.Connector, &a.ACL, &a.Method, &a.User, &a.IP, &a.Event} {
		l := int64(r.lens[i])
		if l < 0 || off+l > int64(len(p)) {
			return "", fmt.Errorf("unpack audit record %d: field lengths exceed the row", r.seq)
		}
		*dst = p[off : off+l]
		off += l
	}
	if r.lens[7] < 0 {
		return "", nil
	}
	if off+int64(r.lens[7]) != int64(len(p)) {
		return "", fmt.Errorf("unpack audit record %d: metadata length does not match the row", r.seq)
	}
	return p[off:], nil
}

// MaxAuditSeq is the highest audit sequence of the account, 0 if none.
func (db *DB) MaxAuditSeq(ctx context.Context, account string) (int64, error) {
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT ifnull(max(seq), 0) FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = ?)`, account).Scan(&seq)
	if err != nil {
		return 0, db.fail(fmt.Sprintf("read last audit seq of account %s", account), err)
	}
	return seq, nil
}

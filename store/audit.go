package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/siemsync/siemsync"
)

const (
	sqlAuditPage = `SELECT seq, id, time_ms, connector, acl, method, user_name, ip, metadata, event
		FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = ?1) AND seq > ?2 ORDER BY seq LIMIT ?3`
	// Backfill: below the creation-time end of the log, only records that
	// occurred at or after backfill_since.
	sqlAuditPageBackfill = `SELECT seq, id, time_ms, connector, acl, method, user_name, ip, metadata, event
		FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = ?1) AND seq > ?2 AND (seq > ?4 OR time_ms >= ?5) ORDER BY seq LIMIT ?3`
)

// auditMetaHint is about the metadata bytes of one record in recent
// pages, to size the next page's metadata buffer at once.
var auditMetaHint atomic.Int64

// AuditPage appends to dst[:0] the audit records of q.Account with
// Seq > q.After, in seq order, at most q.Limit of them. It reuses dst's
// backing array; the records' Metadata share one buffer per page.
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
		timeMS int64
		meta   sql.RawBytes
		arena  []byte // metadata of the whole page: one allocation, not one per record
		spans  [][2]int
	)
	for rows.Next() {
		dst = append(dst, siemsync.Audit{Account: q.Account})
		a := &dst[len(dst)-1]
		if err := rows.Scan(&a.Seq, &a.ID, &timeMS, &a.Connector, &a.ACL, &a.Method, &a.User, &a.IP, &meta, &a.Event); err != nil {
			return dst, db.fail("read audit page", err)
		}
		a.Time = fromMS(timeMS)
		if meta != nil {
			if arena == nil {
				// Sized from earlier pages: growing it by appends would
				// allocate about twice the page's metadata again.
				arena = make([]byte, 0, q.Limit*int(max(auditMetaHint.Load(), 64)))
			}
			spans = append(spans, [2]int{len(dst) - 1, len(arena)})
			arena = append(arena, meta...)
		}
	}
	if len(spans) > 0 {
		auditMetaHint.Store(int64(len(arena)/len(spans)) * 9 / 8)
	}
	if err := rows.Err(); err != nil {
		return dst, db.fail("read audit page", err)
	}
	// Slice the arena only now: appends may have moved it. Capacity is
	// capped so a caller's append cannot run into the next record.
	for i, sp := range spans {
		end := len(arena)
		if i+1 < len(spans) {
			end = spans[i+1][1]
		}
		dst[sp[0]].Metadata = arena[sp[1]:end:end]
	}
	return dst, nil
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

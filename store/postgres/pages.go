package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// sqlAuditColumns are what a page reads of a record: its text is packed
// (pack.go) into rec.
const sqlAuditColumns = `seq, time_ms, rec`

const (
	sqlAuditPage = `SELECT ` + sqlAuditColumns + `
		FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = $1) AND seq > $2 ORDER BY seq LIMIT $3`
	sqlAuditPageBackfill = `SELECT ` + sqlAuditColumns + `
		FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = $1) AND seq > $2 AND (seq > $4 OR time_ms >= $5)
		ORDER BY seq LIMIT $3`
)

// AuditPage appends to dst[:0] the audit records of q.Account with
// Seq > q.After, in seq order, at most q.Limit of them.
func (db *DB) AuditPage(ctx context.Context, q store.AuditQuery, dst []siemsync.Audit) ([]siemsync.Audit, error) {
	dst = dst[:0]
	if q.Limit <= 0 {
		return dst, nil
	}
	var rows pgx.Rows
	var err error
	if q.BackfillSince.IsZero() {
		rows, err = db.pages.Query(ctx, sqlAuditPage, q.Account, q.After, q.Limit)
	} else {
		rows, err = db.pages.Query(ctx, sqlAuditPageBackfill, q.Account, q.After, q.Limit, q.BackfillUntil, ms(q.BackfillSince))
	}
	if err != nil {
		return dst, fail("read audit page", err)
	}
	dst, err = readAuditPage(rows, q.Account, dst)
	if err != nil {
		return dst, fail("read audit page", err)
	}
	return dst, nil
}

// readAuditPage appends the records of rows (sqlAuditColumns) to dst,
// decoding the columns from their binary form without pgx's Scan. The
// packed texts of the page are gathered in a reused buffer and then copied
// twice, exactly sized: into one string, of which every text field is a
// slice, and the metadata into one byte slice. A page costs two
// allocations rather than seven a record.
func readAuditPage(rows pgx.Rows, account string, dst []siemsync.Audit) ([]siemsync.Audit, error) {
	defer rows.Close()
	sc := pageScratch.Get().(*pageBuf)
	defer pageScratch.Put(sc)
	sc.text, sc.meta, sc.fields, sc.offs = sc.text[:0], sc.meta[:0], sc.fields[:0], sc.offs[:0]
	start := len(dst)
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 3 || len(v[0]) != 8 || len(v[1]) != 8 || v[2] == nil {
			return dst, fmt.Errorf("unexpected audit page row (%d columns)", len(v))
		}
		seq := int64(binary.BigEndian.Uint64(v[0]))
		f, err := unpack(v[2], seq)
		if err != nil {
			return dst, err
		}
		dst = append(dst, siemsync.Audit{Seq: seq, Account: account, Time: fromMS(int64(binary.BigEndian.Uint64(v[1])))})
		// The texts go to the string, the metadata to the byte slice:
		// each is copied once.
		texts, off := v[2], [2]int{len(sc.text), len(sc.meta)}
		if m := f[7]; m[0] >= 0 {
			texts = v[2][:m[0]-4]
			sc.meta = append(sc.meta, v[2][m[0]:m[1]]...)
			f[7] = [2]int{0, m[1] - m[0]}
		}
		sc.fields, sc.offs = append(sc.fields, f), append(sc.offs, off)
		sc.text = append(sc.text, texts...)
	}
	if err := rows.Err(); err != nil {
		return dst, err
	}
	s, meta := string(sc.text), bytes.Clone(sc.meta)
	for i := range sc.fields {
		sc.fields[i].fill(&dst[start+i], s, meta, sc.offs[i])
	}
	clear(sc.fields)
	return dst, nil
}

// pageBuf is readAuditPage's scratch space. Pages are read concurrently
// (a cycle reads the next page while it sends one; several cycles run at
// once), hence a pool.
type pageBuf struct {
	text, meta []byte
	fields     []packedFields
	offs       [][2]int // of each record's texts in text and metadata in meta
}

var pageScratch = sync.Pool{New: func() any { return new(pageBuf) }}

// MaxAuditSeq is the highest audit sequence of the account, 0 if none.
func (db *DB) MaxAuditSeq(ctx context.Context, account string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM audit WHERE account_num = (SELECT num FROM accounts WHERE id = $1)`, account).Scan(&seq)
	if err != nil {
		return 0, fail(fmt.Sprintf("read last audit seq of account %s", account), err)
	}
	return seq, nil
}

// The two halves are disjoint (seq <= checkpoint, seq > checkpoint).
const sqlJobPage = `SELECT seq, job, connector, scheduled, planned_start, start_time, paused, end_time,
		description, progress, status, type, user_name, changed_at
	FROM jobs WHERE account_num = (SELECT num FROM accounts WHERE id = $1) AND active AND seq > $2 AND seq <= $3
	UNION ALL
	SELECT seq, job, connector, scheduled, planned_start, start_time, paused, end_time,
		description, progress, status, type, user_name, changed_at
	FROM jobs WHERE account_num = (SELECT num FROM accounts WHERE id = $1) AND seq > greatest($2, $3)
	ORDER BY seq LIMIT $4`

// JobPage appends to dst[:0] the jobs of q.Account with Seq > q.After that
// changed since q.Checkpoint or are still active, in seq order.
func (db *DB) JobPage(ctx context.Context, q store.JobQuery, dst []siemsync.Job) ([]siemsync.Job, error) {
	dst = dst[:0]
	if q.Limit <= 0 {
		return dst, nil
	}
	rows, err := db.pool.Query(ctx, sqlJobPage, q.Account, q.After, q.Checkpoint, q.Limit)
	if err != nil {
		return dst, fail("read job page", err)
	}
	var (
		j                                  siemsync.Job
		sched, planned, start, paused, end *int64
		progress                           *float64
		changed                            int64
	)
	_, err = pgx.ForEachRow(rows, []any{&j.Seq, &j.Job, &j.Connector, &sched, &planned, &start, &paused, &end,
		&j.Description, &progress, &j.Status, &j.Type, &j.User, &changed}, func() error {
		j.Account = q.Account
		j.Scheduled, j.PlannedStart, j.StartTime = timeOf(sched), timeOf(planned), timeOf(start)
		j.Paused, j.EndTime, j.ChangedAt = timeOf(paused), timeOf(end), fromMS(changed)
		j.Progress = nil
		if progress != nil {
			p := *progress
			j.Progress = &p
		}
		dst = append(dst, j)
		return nil
	})
	if err != nil {
		return dst, fail("read job page", err)
	}
	return dst, nil
}

// MaxJobSeq is the highest job change sequence of the account, 0 if none.
func (db *DB) MaxJobSeq(ctx context.Context, account string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM jobs WHERE account_num = (SELECT num FROM accounts WHERE id = $1)`, account).Scan(&seq)
	if err != nil {
		return 0, fail(fmt.Sprintf("read last job seq of account %s", account), err)
	}
	return seq, nil
}

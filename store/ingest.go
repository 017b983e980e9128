package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/siemsync/siemsync"
)

// auditRowsPerInsert is how many records AuditBatch puts in one INSERT.
// One statement per record spends most of its time in per-statement
// overhead (database/sql, binding, VM start); 64 rows cut CPU per record by
// about a third, with diminishing returns beyond.
const auditRowsPerInsert = 64

const (
	auditColumns = 11
	// OR IGNORE skips a record whose (account_num, id) is stored already.
	// It would also skip a NULL in a NOT NULL column, which this package
	// never binds. Unlike ON CONFLICT DO NOTHING, it leaves no constraint
	// that can abort a statement half way (the account foreign key is
	// deferred), so SQLite keeps no statement journal for multi-row inserts.
	sqlAuditInsert = `INSERT OR IGNORE INTO audit (account_num, id, time_ms, connector, acl, method, user_name, ip, metadata, event, ingested_at) VALUES `
	sqlAuditValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// The WHERE makes an identical upsert a no-op (no row changed), so it
	// neither takes a new seq nor counts as a change. IS NOT compares NULLs.
	sqlUpsertJob = `INSERT INTO jobs (seq, job, account_num, connector, scheduled, planned_start, start_time, paused, end_time,
			description, progress, status, type, user_name, active, changed_at, ended_at)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, CASE WHEN ?15 THEN NULL ELSE ?16 END)
		ON CONFLICT (job) DO UPDATE SET
			seq = excluded.seq, account_num = excluded.account_num, connector = excluded.connector,
			scheduled = excluded.scheduled, planned_start = excluded.planned_start, start_time = excluded.start_time,
			paused = excluded.paused, end_time = excluded.end_time, description = excluded.description,
			progress = excluded.progress, status = excluded.status, type = excluded.type, user_name = excluded.user_name,
			active = excluded.active, changed_at = excluded.changed_at,
			ended_at = CASE WHEN excluded.active THEN NULL ELSE coalesce(jobs.ended_at, excluded.changed_at) END
		WHERE jobs.account_num IS NOT excluded.account_num OR jobs.connector IS NOT excluded.connector
			OR jobs.scheduled IS NOT excluded.scheduled OR jobs.planned_start IS NOT excluded.planned_start
			OR jobs.start_time IS NOT excluded.start_time OR jobs.paused IS NOT excluded.paused
			OR jobs.end_time IS NOT excluded.end_time OR jobs.description IS NOT excluded.description
			OR jobs.progress IS NOT excluded.progress OR jobs.status IS NOT excluded.status
			OR jobs.type IS NOT excluded.type OR jobs.user_name IS NOT excluded.user_name`
)

// Ingest is one write transaction that loads records: a whole NDJSON file
// goes in one Ingest, so a bad line leaves nothing of the file behind. It
// holds the single writer connection until Commit or Rollback, and must be
// used from one goroutine.
type Ingest struct {
	db  *DB
	tx  *sql.Tx
	ctx context.Context // without cancel; see BeginIngest
	now int64

	audit1, auditN, job *sql.Stmt // prepared lazily

	args     []any                 // reused argument list of auditN
	nowArg   any                   // now, boxed once rather than per record
	accounts map[string]accountRef // accounts seen in this transaction
	jobSeq   int64                 // last job change sequence; -1 until read
	jobSeqIn int64                 // its value when read, to know whether to save it
}

// BeginIngest starts an ingest transaction. Cancelling ctx rolls it back.
func (db *DB) BeginIngest(ctx context.Context) (*Ingest, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, db.fail("begin ingest", err)
	}
	now := ms(db.now())
	return &Ingest{
		db: db, tx: tx, now: now, nowArg: now,
		// Per-record statements run without a cancellable context: the
		// driver starts a watcher goroutine for every statement that has
		// one, which costs more than the insert. database/sql still rolls
		// the transaction back when ctx ends, and the next statement fails.
		ctx:      context.WithoutCancel(ctx),
		accounts: map[string]accountRef{},
		jobSeq:   -1,
	}, nil
}

// accountRef is an account's num, also boxed for argument lists.
type accountRef struct {
	num int64
	arg any
}

// account returns the account's num, creating the account on first sight.
func (in *Ingest) account(id string) (accountRef, error) {
	if a, ok := in.accounts[id]; ok {
		return a, nil
	}
	n, err := ensureAccount(in.ctx, in.tx, id, in.now)
	if err != nil {
		return accountRef{}, in.db.fail("ingest", err)
	}
	a := accountRef{num: n, arg: n}
	in.accounts[id] = a
	return a, nil
}

func (in *Ingest) prepare(st **sql.Stmt, query string) error {
	if *st != nil {
		return nil
	}
	var err error
	if *st, err = in.tx.PrepareContext(in.ctx, query); err != nil {
		return in.db.fail("prepare ingest", err)
	}
	return nil
}

// Audit stores one audit record unless its account already has its id. A
// stored record gets its Seq; stored is false for a duplicate. For many
// records, AuditBatch is faster.
func (in *Ingest) Audit(a *siemsync.Audit) (stored bool, err error) {
	if err := in.prepare(&in.audit1, sqlAuditInsert+sqlAuditValues); err != nil {
		return false, err
	}
	args, err := in.appendAudit(make([]any, 0, auditColumns), a)
	if err != nil {
		return false, err
	}
	res, err := in.audit1.ExecContext(in.ctx, args...)
	if err != nil {
		return false, in.db.fail("insert audit record "+a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if a.Seq, err = res.LastInsertId(); err != nil {
		return false, in.db.fail("insert audit record "+a.ID, err)
	}
	return true, nil
}

// AuditBatch stores records in order, skipping ids their account already
// has (including earlier in the batch), and returns how many it stored.
// Unlike Audit it does not set Seq: it inserts many records per statement
// and learns only how many of them were new.
func (in *Ingest) AuditBatch(recs []siemsync.Audit) (stored int, err error) {
	if err := in.prepare(&in.auditN, sqlAuditInsert+
		strings.Repeat(sqlAuditValues+", ", auditRowsPerInsert-1)+sqlAuditValues); err != nil {
		return 0, err
	}
	for len(recs) >= auditRowsPerInsert {
		in.args = in.args[:0]
		for i := range auditRowsPerInsert {
			if in.args, err = in.appendAudit(in.args, &recs[i]); err != nil {
				return stored, err
			}
		}
		res, err := in.auditN.ExecContext(in.ctx, in.args...)
		if err != nil {
			return stored, in.db.fail(fmt.Sprintf("insert audit records %s…%s", recs[0].ID, recs[auditRowsPerInsert-1].ID), err)
		}
		n, _ := res.RowsAffected()
		stored += int(n)
		recs = recs[auditRowsPerInsert:]
	}
	for i := range recs {
		ok, err := in.Audit(&recs[i])
		if err != nil {
			return stored, err
		}
		if ok {
			stored++
		}
	}
	return stored, nil
}

// appendAudit appends the insert arguments of one record.
func (in *Ingest) appendAudit(args []any, a *siemsync.Audit) ([]any, error) {
	acct, err := in.account(a.Account)
	if err != nil {
		return args, err
	}
	var meta any
	if len(a.Metadata) > 0 {
		meta = []byte(a.Metadata)
	}
	return append(args, acct.arg, a.ID, ms(a.Time), a.Connector, a.ACL, a.Method, a.User, a.IP, meta, a.Event, in.nowArg), nil
}

// Job upserts a job, replacing the whole record. A job identical to the
// stored one is not a change: changed is false and no sequence is used.
// On a change, j.Seq and j.ChangedAt are set.
func (in *Ingest) Job(j *siemsync.Job) (changed bool, err error) {
	if err := in.prepare(&in.job, sqlUpsertJob); err != nil {
		return false, err
	}
	acct, err := in.account(j.Account)
	if err != nil {
		return false, err
	}
	if in.jobSeq < 0 {
		// The writer pool has one connection, so nothing else can take a
		// job seq while this transaction runs: read the counter once and
		// save it at Commit.
		err := in.tx.QueryRowContext(in.ctx, `SELECT value FROM counters WHERE name = 'job_seq'`).Scan(&in.jobSeq)
		if err != nil {
			return false, in.db.fail("read job sequence", err)
		}
		in.jobSeqIn = in.jobSeq
	}
	seq := in.jobSeq + 1
	var progress any
	if j.Progress != nil {
		progress = *j.Progress
	}
	res, err := in.job.ExecContext(in.ctx, seq, j.Job, acct.arg, j.Connector,
		nullMS(j.Scheduled), nullMS(j.PlannedStart), nullMS(j.StartTime), nullMS(j.Paused), nullMS(j.EndTime),
		j.Description, progress, j.Status, j.Type, j.User, j.Active(), in.now)
	if err != nil {
		return false, in.db.fail("upsert job "+j.Job, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	in.jobSeq = seq
	j.Seq, j.ChangedAt = seq, fromMS(in.now)
	return true, nil
}

// Commit stores everything of the ingest.
func (in *Ingest) Commit() error {
	if in.jobSeq > in.jobSeqIn {
		_, err := in.tx.ExecContext(in.ctx, `UPDATE counters SET value = ? WHERE name = 'job_seq'`, in.jobSeq)
		if err != nil {
			in.tx.Rollback()
			return in.db.fail("save job sequence", err)
		}
	}
	if err := in.tx.Commit(); err != nil {
		return in.db.fail("commit ingest", err)
	}
	return nil
}

// Rollback discards everything of the ingest. It is safe to call after
// Commit (it then does nothing), so callers can defer it.
func (in *Ingest) Rollback() error {
	if err := in.tx.Rollback(); err != nil && err != sql.ErrTxDone {
		return in.db.fail("roll back ingest", err)
	}
	return nil
}

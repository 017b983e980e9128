package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// auditRowsPerInsert is how many records AuditBatch puts in one INSERT.
// One statement per record spends most of its time in per-statement
// overhead (database/sql, binding, VM start); 64 rows cut CPU per record by
// about a third, with diminishing returns beyond.
const auditRowsPerInsert = 64

const (
	auditColumns = 5
	// OR IGNORE skips a record whose (account_num, id_key) is taken: by the
	// same id (a duplicate) or, rarely, by another id with the same key,
	// which resolveKey then places. It would also skip a NULL in a NOT
	// NULL column, which this package never binds. Unlike ON CONFLICT DO
	// NOTHING, it leaves no constraint that can abort a statement half way
	// (the account foreign key is deferred), so SQLite keeps no statement
	// journal for multi-row inserts.
	sqlAuditInsert = `INSERT OR IGNORE INTO audit (account_num, id_key, time_ms, ingested_at, rec) VALUES `
	sqlAuditValues = `(?, ?, ?, ?, ?)`
	sqlAuditAtKey  = `SELECT rec FROM audit WHERE account_num = ? AND id_key = ?`

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

	audit1, auditN, atKey, job *sql.Stmt // prepared lazily

	args     []any                 // reused argument list of auditN
	recs     []byte                // reused packed text of auditN's records
	ends     []int                 // reused: where each record ends in recs
	nowArg   any                   // now, boxed once rather than per record
	accounts map[string]accountRef // accounts seen in this transaction
	auditSeq int64                 // highest audit seq stored so far; -1 until read
	jobSeq   int64                 // last job change sequence; -1 until read
	jobSeqIn int64                 // its value when read, to know whether to save it
}

// BeginIngest starts an ingest transaction (an *Ingest). Cancelling ctx
// rolls it back.
func (db *DB) BeginIngest(ctx context.Context) (store.IngestTx, error) {
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
		auditSeq: -1,
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
	acct, err := in.account(a.Account)
	if err != nil {
		return false, err
	}
	key := in.db.idKey(a.ID)
	seq, err := in.insertAt(acct, key, a)
	if err != nil || seq > 0 {
		a.Seq = seq
		return seq > 0, err
	}
	a.Seq, err = in.resolveKey(acct, key, a)
	return a.Seq > 0, err
}

// insertAt inserts a with the dedupe key key and returns its seq, or 0 when
// the key is taken.
func (in *Ingest) insertAt(acct accountRef, key int64, a *siemsync.Audit) (int64, error) {
	if err := in.prepare(&in.audit1, sqlAuditInsert+sqlAuditValues); err != nil {
		return 0, err
	}
	res, err := in.audit1.ExecContext(in.ctx, acct.arg, key, ms(a.Time), in.nowArg, packAudit(nil, a))
	if err != nil {
		return 0, in.db.fail("insert audit record "+a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return 0, in.db.fail("insert audit record "+a.ID, err)
	}
	in.auditSeq = max(in.auditSeq, seq)
	return seq, nil
}

// resolveKey handles a record whose key was taken: if the record there has
// the same id, a is a duplicate (0). Otherwise two ids share the key, and a
// goes at the first key after it that is free, unless its id is already
// at one of them (an earlier copy placed the same way). It returns a's new
// seq, or 0 for a duplicate.
func (in *Ingest) resolveKey(acct accountRef, key int64, a *siemsync.Audit) (int64, error) {
	for {
		id, found, err := in.idAt(acct, key)
		if err != nil {
			return 0, err
		}
		if !found {
			seq, err := in.insertAt(acct, key, a)
			if err == nil && seq == 0 {
				err = in.db.fail("insert audit record "+a.ID, fmt.Errorf("dedupe key %d is free yet the insert was ignored", key))
			}
			return seq, err
		}
		if id == a.ID {
			return 0, nil
		}
		key++ // wraps around at the top, which is as good a next key
	}
}

// idAt returns the id of the account's record with the dedupe key key.
func (in *Ingest) idAt(acct accountRef, key int64) (id string, found bool, err error) {
	if err := in.prepare(&in.atKey, sqlAuditAtKey); err != nil {
		return "", false, err
	}
	var rec string
	err = in.atKey.QueryRowContext(in.ctx, acct.arg, key).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, in.db.fail(fmt.Sprintf("look up audit key %d", key), err)
	}
	var there siemsync.Audit
	if _, _, err := unpackAudit(rec, &there); err != nil {
		return "", false, in.db.fail(fmt.Sprintf("look up audit key %d", key), err)
	}
	return there.ID, true, nil
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
	if in.auditSeq < 0 {
		err := in.tx.QueryRowContext(in.ctx, `SELECT ifnull(max(seq), 0) FROM audit`).Scan(&in.auditSeq)
		if err != nil {
			return 0, in.db.fail("read last audit seq", err)
		}
	}
	for len(recs) >= auditRowsPerInsert {
		chunk := recs[:auditRowsPerInsert]
		if err := in.auditArgs(chunk); err != nil {
			return stored, err
		}
		before := in.auditSeq // every record this statement stores gets a seq above it
		res, err := in.auditN.ExecContext(in.ctx, in.args...)
		if err != nil {
			return stored, in.db.fail(fmt.Sprintf("insert audit records %s…%s", chunk[0].ID, chunk[len(chunk)-1].ID), err)
		}
		n, _ := res.RowsAffected()
		if n > 0 {
			last, err := res.LastInsertId()
			if err != nil {
				return stored, in.db.fail("insert audit records", err)
			}
			in.auditSeq = max(in.auditSeq, last)
		}
		if int(n) < len(chunk) {
			// Duplicates, or (very rarely) a key shared by two ids.
			shared, err := in.keyShared(chunk)
			if err != nil {
				return stored, err
			}
			if shared {
				// The record that lost its key must keep its place in
				// the input: undo the statement and store its records
				// one by one, each placed as it comes.
				placed, err := in.redo(chunk, before)
				if err != nil {
					return stored, err
				}
				n = int64(placed)
			}
		}
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

// auditArgs fills in.args with the insert arguments of recs.
func (in *Ingest) auditArgs(recs []siemsync.Audit) error {
	in.args, in.recs, in.ends = in.args[:0], in.recs[:0], in.ends[:0]
	for i := range recs {
		in.recs = packAudit(in.recs, &recs[i])
		in.ends = append(in.ends, len(in.recs))
	}
	// Sliced only now that in.recs has stopped growing. SQLite copies a
	// bound blob, so the buffer is reused by the next statement.
	start := 0
	for i := range recs {
		a := &recs[i]
		acct, err := in.account(a.Account)
		if err != nil {
			return err
		}
		end := in.ends[i]
		in.args = append(in.args, acct.arg, in.db.idKey(a.ID), ms(a.Time), in.nowArg, in.recs[start:end:end])
		start = end
	}
	return nil
}

// keyShared reports whether a record of recs found its dedupe key taken
// by another id (rather than by its own: a duplicate).
func (in *Ingest) keyShared(recs []siemsync.Audit) (bool, error) {
	for i := range recs {
		a := &recs[i]
		acct, err := in.account(a.Account)
		if err != nil {
			return false, err
		}
		// Every record of the statement is stored now, so its key is
		// taken: by itself, an earlier copy, or another id.
		id, _, err := in.idAt(acct, in.db.idKey(a.ID))
		if err != nil {
			return false, err
		}
		if id != a.ID {
			return true, nil
		}
	}
	return false, nil
}

// redo deletes what the last statement stored (every seq above before:
// this transaction is the only writer) and stores recs one at a time. The
// deleted seqs are not reused (AUTOINCREMENT). It returns how many records
// it stored.
func (in *Ingest) redo(recs []siemsync.Audit, before int64) (stored int, err error) {
	if _, err := in.tx.ExecContext(in.ctx, `DELETE FROM audit WHERE seq > ?`, before); err != nil {
		return 0, in.db.fail("undo audit insert", err)
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
		if isJobOwnerAbort(err) {
			return false, store.JobOfAnotherAccount(j.Job)
		}
		return false, in.db.fail("upsert job "+j.Job, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	in.jobSeq = seq
	j.Seq, j.ChangedAt = seq, fromMS(in.now)
	return true, nil
}

// isJobOwnerAbort reports the abort of the job_owner trigger (migration
// 0004_job_owner): an upsert that would move a job to another account.
func isJobOwnerAbort(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_TRIGGER && strings.Contains(err.Error(), "job_owner:")
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

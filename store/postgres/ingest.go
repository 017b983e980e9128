package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// accountLockSpace is the first key of the per-account advisory locks of
// ingest (the second is the account's num).
const accountLockSpace = 0x5e5_0002

// seqBlock is how many sequence numbers one nextval('audit_seq') reserves
// (the sequence's INCREMENT BY): the most records one flush stores.
const seqBlock = 4096

// Audit ingest goes in two steps. AuditBatch takes the advisory locks of
// the batch's accounts and stores the ids its accounts do not have yet in
// audit_ids (storeIDs), by their idKey (pack.go); it knows then
// exactly how many records it stores, and keeps them, in input order, as
// pending. flush then draws one block of sequence numbers (a record's seq
// is the block's start plus its place among the pending records, so seqs
// follow input order) and COPYs the pending records into their partitions
// of audit. Rows go in PostgreSQL's binary COPY format, encoded straight
// from the records (copybin.go). Nothing can race the ids: this
// transaction holds the advisory lock of every account of the batch, and
// audit_ids' primary key backs that up. Ids go in key order: neighbouring
// keys share index pages still in the CPU's caches (a third less
// PostgreSQL time for audit_ids than in input order).
const sqlProbeIDs = `SELECT s.i::int FROM unnest($1::uuid[]) WITH ORDINALITY AS s (id_key, i)
	WHERE EXISTS (SELECT 1 FROM audit_ids d WHERE d.id_key = s.id_key)`

// The COPYs of flush, in the binary format (copybin.go).
const (
	sqlCopyIDs   = `COPY audit_ids (id_key) FROM STDIN (FORMAT binary)`
	sqlCopyAudit = `COPY %s (seq, time_ms, ingested_at, account_num, id_key, rec) FROM STDIN (FORMAT binary)`
)

// sqlUpsertJob upserts a job; an upsert identical to the stored job
// changes nothing and returns no row. The nextval it draws then is lost,
// which leaves a gap and nothing else.
const sqlUpsertJob = `INSERT INTO jobs AS j (seq, job, account_num, connector, scheduled, planned_start, start_time, paused,
		end_time, description, progress, status, type, user_name, active, changed_at, ended_at)
	VALUES (nextval('job_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
		CASE WHEN $14 THEN NULL ELSE $15::bigint END)
	ON CONFLICT (job) DO UPDATE SET
		seq = excluded.seq, account_num = excluded.account_num, connector = excluded.connector,
		scheduled = excluded.scheduled, planned_start = excluded.planned_start, start_time = excluded.start_time,
		paused = excluded.paused, end_time = excluded.end_time, description = excluded.description,
		progress = excluded.progress, status = excluded.status, type = excluded.type, user_name = excluded.user_name,
		active = excluded.active, changed_at = excluded.changed_at,
		ended_at = CASE WHEN excluded.active THEN NULL ELSE coalesce(j.ended_at, excluded.changed_at) END
	WHERE j.account_num = excluded.account_num
		AND (j.connector, j.scheduled, j.planned_start, j.start_time, j.paused, j.end_time,
			j.description, j.progress, j.status, j.type, j.user_name)
		IS DISTINCT FROM (excluded.connector, excluded.scheduled, excluded.planned_start,
			excluded.start_time, excluded.paused, excluded.end_time, excluded.description, excluded.progress,
			excluded.status, excluded.type, excluded.user_name)
	RETURNING seq`

const sqlIngestPlan = `SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`

// Ingest is one ingest transaction. Records of an account become visible
// in seq order: before it draws the first sequence number for an account
// it takes the account's transaction-level advisory lock, which it holds
// until it commits or rolls back. Another ingest of the account waits for
// it, so it draws greater numbers and commits later; a cycle that has read
// up to seq N can never see a record with a seq <= N appear afterwards.
type Ingest struct {
	db       *DB
	ctx      context.Context
	tx       pgx.Tx
	now      int64
	accounts map[string]int32 // accounts created or found, by id
	locked   map[int32]bool   // accounts whose advisory lock this transaction holds
	parts    map[string]bool  // audit partitions this transaction has locked
	pending  []pendingAudit   // fresh records not yet copied, in input order
	// guess is whether the next batch's ids are copied into audit_ids
	// before asking whether they are there (storeIDs).
	guess     bool
	savepoint bool // the savepoint of storeIDs is set
	// Reused per batch: candidates, their order by key, whether each is
	// fresh, the probe's arguments and scratch space.
	cand     []pendingAudit
	order    []int32
	fresh    []bool
	probeIDs []idKey
	buf      []byte
}

// pendingAudit is a record of AuditBatch, its account's num and its key
// in audit_ids.
type pendingAudit struct {
	num  int32
	key  idKey
	part string // the audit partition it goes into
	a    siemsync.Audit
}

// BeginIngest starts an ingest transaction. Cancelling ctx rolls it back.
func (db *DB) BeginIngest(ctx context.Context) (store.IngestTx, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fail("begin ingest", err)
	}
	// A batch's id check probes audit_ids' index once per record. The
	// plan is cached per connection after a few batches; made while
	// audit_ids looked small (a new database, the start of a big ingest
	// whose rows statistics cannot see), it would hash-join the whole
	// table for every batch, which grows with every batch.
	if _, err := tx.Exec(ctx, sqlIngestPlan); err != nil {
		tx.Rollback(ctx)
		return nil, fail("begin ingest", err)
	}
	return &Ingest{db: db, ctx: ctx, tx: tx, now: ms(db.now()), guess: true,
		accounts: map[string]int32{}, locked: map[int32]bool{}, parts: map[string]bool{}}, nil
}

// account returns the account's num, creating the account on first sight.
func (in *Ingest) account(id string) (int32, error) {
	if n, ok := in.accounts[id]; ok {
		return n, nil
	}
	n, err := ensureAccount(in.ctx, in.tx, id, in.now)
	if err != nil {
		return 0, fail("ingest", err)
	}
	in.accounts[id] = n
	return n, nil
}

// lock takes the advisory locks of the accounts of nums this transaction
// does not hold yet, in ascending order so that two ingests of the same
// accounts cannot deadlock.
func (in *Ingest) lock(nums []int32) error {
	slices.Sort(nums)
	for _, n := range slices.Compact(nums) {
		if in.locked[n] {
			continue
		}
		if _, err := in.tx.Exec(in.ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(accountLockSpace), n); err != nil {
			return fail("lock account for ingest", err)
		}
		in.locked[n] = true
	}
	return nil
}

// Audit stores one audit record unless its account already has its id,
// and sets its Seq.
func (in *Ingest) Audit(a *siemsync.Audit) (bool, error) {
	n, err := in.AuditBatch([]siemsync.Audit{*a})
	if err != nil || n == 0 {
		return false, err
	}
	seqs, err := in.flush()
	if err != nil {
		return false, err
	}
	a.Seq = seqs
	return true, nil
}

// AuditBatch stores records in order, skipping ids their account already
// has (including earlier in recs and in this transaction), and returns how
// many it stores. Their ids are in audit_ids when it returns; the records
// are copied seqBlock at a time, at the latest by Commit.
func (in *Ingest) AuditBatch(recs []siemsync.Audit) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	nums := make([]int32, 0, 4)
	days := make([]int64, 0, 4)
	in.cand = in.cand[:0]
	for i := range recs {
		a := &recs[i]
		if err := checkNUL(a); err != nil {
			return 0, err
		}
		n, err := in.account(a.Account)
		if err != nil {
			return 0, err
		}
		var k idKey
		in.buf, k = keyOf(in.buf, n, a.ID)
		in.cand = append(in.cand, pendingAudit{num: n, key: k, a: *a})
		if len(nums) == 0 || nums[len(nums)-1] != n {
			nums = append(nums, n)
		}
		if d := dayOf(ms(a.Time)); len(days) == 0 || days[len(days)-1] != d {
			days = append(days, d)
		}
	}
	defer clear(in.cand) // drop references to the records' text
	// Partitions are made in transactions of their own (partitions.go).
	parts, err := in.db.ensurePartitions(in.ctx, days)
	if err != nil {
		return 0, err
	}
	if err := in.see(parts); err != nil {
		return 0, err
	}
	if err := in.lock(nums); err != nil {
		return 0, err
	}
	if err := in.db.placeAll(in.cand); err != nil {
		return 0, err
	}
	// In key order a second copy of an id follows the first: only the
	// first is a candidate.
	in.order = keyOrder(in.order, in.cand)
	in.fresh = slices.Grow(in.fresh[:0], len(in.cand))[:len(in.cand)]
	for j, i := range in.order {
		in.fresh[i] = j == 0 || in.cand[in.order[j-1]].key != in.cand[i].key
	}
	if err := in.storeIDs(); err != nil {
		return 0, fail(fmt.Sprintf("store audit ids %s…%s", recs[0].ID, recs[len(recs)-1].ID), err)
	}
	stored := 0
	for i := range in.cand {
		if !in.fresh[i] {
			continue
		}
		if len(in.pending) == seqBlock {
			if _, err := in.flush(); err != nil {
				return stored, err
			}
		}
		in.pending = append(in.pending, in.cand[i])
		stored++
	}
	return stored, nil
}

// storeIDs inserts the ids of the fresh candidates into audit_ids and
// leaves fresh set only for those that were not there.
//
// Most batches are all new. Then asking first (sqlProbeIDs) walks
// audit_ids' index once to find nothing and the COPY walks it again to
// insert: a third of PostgreSQL's time per record. So storeIDs guesses: it
// copies the ids under a savepoint, whose primary key refuses the batch
// if any is taken; only then it rolls back to the savepoint, asks, and
// copies the rest. After a batch with duplicates (a retried input has
// many in a row) it asks first until a batch has none.
func (in *Ingest) storeIDs() error {
	if in.guess {
		prefix := "SAVEPOINT audit_ids; "
		if in.savepoint { // released only now: one round trip less
			prefix = "RELEASE SAVEPOINT audit_ids; " + prefix
		}
		err := in.copyIDs(prefix)
		if err == nil || pgCode(err) != uniqueViolation {
			in.savepoint = err == nil
			return err
		}
		if _, err := in.tx.Exec(in.ctx, "ROLLBACK TO SAVEPOINT audit_ids"); err != nil {
			return err
		}
		in.savepoint = true
	}
	in.probeIDs = in.probeIDs[:0]
	var at []int32 // place in cand of each probed id
	for _, i := range in.order {
		if in.fresh[i] {
			in.probeIDs = append(in.probeIDs, in.cand[i].key)
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil
	}
	rows, err := in.tx.Query(in.ctx, sqlProbeIDs, in.probeIDs)
	if err != nil {
		return err
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return err
	}
	for _, k := range taken {
		in.fresh[at[k-1]] = false
	}
	in.guess = len(taken) == 0
	return in.copyIDs("")
}

// copyIDs copies the ids of the fresh candidates, in key order, into
// audit_ids, with sql before the COPY in the same query.
func (in *Ingest) copyIDs(before string) error {
	cand, fresh, order := in.cand, in.fresh, in.order
	j := 0
	n := 0
	for _, f := range fresh {
		if f {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	ids := newCopyReader(n, func(b []byte, _ int) []byte {
		for !fresh[order[j]] {
			j++
		}
		p := &cand[order[j]]
		j++
		b = copyFields(b, 1)
		return copyText(b, p.key[:])
	})
	_, err := in.tx.Conn().PgConn().CopyFrom(in.ctx, ids, before+sqlCopyIDs)
	return err
}

// keyOrder returns the places of recs sorted by key, the order of
// audit_ids' primary key, and by place among equal keys, in
// dst's storage.
func keyOrder(dst []int32, recs []pendingAudit) []int32 {
	dst = dst[:0]
	for i := range recs {
		dst = append(dst, int32(i))
	}
	slices.SortFunc(dst, func(x, y int32) int {
		if c := bytes.Compare(recs[x].key[:], recs[y].key[:]); c != 0 {
			return c
		}
		return int(x - y)
	})
	return dst
}

// checkNUL refuses text PostgreSQL cannot store, naming the field, before
// the record is accepted into the pending ones.
func checkNUL(a *siemsync.Audit) error {
	for _, f := range [...]struct{ name, v string }{{"id", a.ID}, {"connector", a.Connector}, {"acl", a.ACL},
		{"method", a.Method}, {"user", a.User}, {"ip", a.IP}, {"event", a.Event}} {
		if strings.IndexByte(f.v, 0) >= 0 {
			return siemsync.Invalid(f.name, "must not contain a NUL character (\\u0000): PostgreSQL cannot store it")
		}
	}
	if bytes.IndexByte(a.Metadata, 0) >= 0 {
		return siemsync.Invalid("metadata", "must not contain a NUL character (\\u0000): PostgreSQL cannot store it")
	}
	return nil
}

// flush copies the pending records into audit_ids and audit and returns
// the seq of the last one. It draws their block of sequence numbers only
// now, after the locks of all their accounts were taken (AuditBatch): a
// block drawn before a lock could hold numbers lower than those another
// ingest of that account committed meanwhile.
func (in *Ingest) flush() (int64, error) {
	if len(in.pending) == 0 {
		return 0, nil
	}
	first, last := in.pending[0].a.ID, in.pending[len(in.pending)-1].a.ID
	var base int64
	if err := in.tx.QueryRow(in.ctx, `SELECT nextval('audit_seq')`).Scan(&base); err != nil {
		return 0, fail("draw audit sequence numbers", err)
	}
	// Each partition's records are copied straight into it: COPY into
	// the partitioned table sets up the routing to every partition for
	// each statement and looks up each row's.
	recs, now := in.pending, in.now
	for part := range in.partsOf(recs) {
		j := 0
		n := 0
		for i := range recs {
			if recs[i].part == part {
				n++
			}
		}
		rows := newCopyReader(n, func(b []byte, _ int) []byte {
			for recs[j].part != part {
				j++
			}
			p := &recs[j]
			b = copyFields(b, 6)
			b = copyInt8(b, base+int64(j))
			b = copyInt8(b, ms(p.a.Time))
			b = copyInt8(b, now)
			b = copyInt4(b, p.num)
			b = copyText(b, p.key[:])
			b = binary.BigEndian.AppendUint32(b, uint32(packedLen(&p.a)))
			j++
			return appendPacked(b, &p.a)
		})
		if _, err := in.tx.Conn().PgConn().CopyFrom(in.ctx, rows, fmt.Sprintf(sqlCopyAudit, pgx.Identifier{part}.Sanitize())); err != nil {
			return 0, fail(fmt.Sprintf("store audit records %s…%s", first, last), err)
		}
	}
	seq := base + int64(len(in.pending)) - 1
	clear(in.pending)
	in.pending = in.pending[:0]
	return seq, nil
}

// partsOf yields the partitions of recs, each once.
func (in *Ingest) partsOf(recs []pendingAudit) iter.Seq[string] {
	return func(yield func(string) bool) {
		var done []string
		for i := range recs {
			if p := recs[i].part; !slices.Contains(done, p) {
				done = append(done, p)
				if !yield(p) {
					return
				}
			}
		}
	}
}

// see locks the partitions this transaction has not inserted into yet. A
// partition another connection attached after this transaction locked the
// audit table is unknown to it until it takes a new lock (which makes it
// read the catalog changes); inserting would fail with "no partition found".
func (in *Ingest) see(parts []string) error {
	var names []string
	for _, p := range parts {
		if !in.parts[p] {
			names = append(names, pgx.Identifier{p}.Sanitize())
		}
	}
	if len(names) == 0 {
		return nil
	}
	if _, err := in.tx.Exec(in.ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN ROW EXCLUSIVE MODE`); err != nil {
		return fail("lock audit partitions", err)
	}
	for _, p := range parts {
		in.parts[p] = true
	}
	return nil
}

// Job upserts a job under its account's ingest lock.
func (in *Ingest) Job(j *siemsync.Job) (bool, error) {
	n, err := in.account(j.Account)
	if err != nil {
		return false, err
	}
	if err := in.lock([]int32{n}); err != nil {
		return false, err
	}
	var progress *float64
	if j.Progress != nil {
		p := *j.Progress
		progress = &p
	}
	var seq int64
	err = in.tx.QueryRow(in.ctx, sqlUpsertJob, j.Job, n, j.Connector,
		nullMS(j.Scheduled), nullMS(j.PlannedStart), nullMS(j.StartTime), nullMS(j.Paused), nullMS(j.EndTime),
		j.Description, progress, j.Status, j.Type, j.User, j.Active(), in.now).Scan(&seq)
	if err == pgx.ErrNoRows {
		// Unchanged, or another account's job, which the WHERE keeps
		// as it is: a job belongs to its account for ever.
		var owner int32
		if err := in.tx.QueryRow(in.ctx, `SELECT account_num FROM jobs WHERE job = $1`, j.Job).Scan(&owner); err != nil {
			return false, fail("read owner of job "+j.Job, err)
		}
		if owner != n {
			return false, store.JobOfAnotherAccount(j.Job)
		}
		return false, nil
	}
	if err != nil {
		return false, fail("upsert job "+j.Job, err)
	}
	j.Seq, j.ChangedAt = seq, fromMS(in.now)
	return true, nil
}

// Commit stores everything of the ingest and releases the account locks.
func (in *Ingest) Commit() error {
	if _, err := in.flush(); err != nil {
		return err
	}
	if err := in.tx.Commit(in.ctx); err != nil {
		return fail("commit ingest", err)
	}
	return nil
}

// Rollback discards everything of the ingest; after Commit it does nothing.
func (in *Ingest) Rollback() error {
	if err := in.tx.Rollback(context.WithoutCancel(in.ctx)); err != nil && err != pgx.ErrTxClosed {
		return fail("roll back ingest", err)
	}
	return nil
}

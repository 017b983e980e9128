package postgres

import (
	"context"
	"fmt"
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
// (the sequence's INCREMENT BY): the most records one statement stores.
const seqBlock = 4096

// sqlInsertAudit stores a batch of records passed as arrays (one value per
// column per record: binary arrays cost less than a COPY into a staging
// table for the batch sizes ingest uses, and need no table to empty) whose
// id their account does not have yet. The batch reserves one block of
// sequence numbers and a record's seq is the block's start plus its place
// in the batch, so seqs follow input order by construction. The NOT EXISTS
// cannot race another ingest: this transaction holds the advisory lock of
// every account in the batch, and audit_ids' primary key backs it up.
// Copies of one id within a batch were dropped before.
const sqlInsertAudit = `WITH s AS (
		SELECT * FROM unnest($2::int[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[])
			WITH ORDINALITY AS s (account_num, id, time_ms, connector, acl, method, user_name, ip, metadata, event, ord)),
	fresh AS (
		SELECT * FROM s WHERE NOT EXISTS (SELECT 1 FROM audit_ids d WHERE d.account_num = s.account_num AND d.id = s.id)),
	ids AS (
		INSERT INTO audit_ids (account_num, id) SELECT account_num, id FROM fresh),
	block AS (
		SELECT nextval('audit_seq') - 1 AS base)
	INSERT INTO audit (seq, account_num, id, time_ms, connector, acl, method, user_name, ip, metadata, event, ingested_at)
	SELECT block.base + ord, account_num, id, time_ms, connector, acl, method, user_name, ip, metadata, event, $1
	FROM fresh, block
	RETURNING seq`

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
	WHERE (j.account_num, j.connector, j.scheduled, j.planned_start, j.start_time, j.paused, j.end_time,
			j.description, j.progress, j.status, j.type, j.user_name)
		IS DISTINCT FROM (excluded.account_num, excluded.connector, excluded.scheduled, excluded.planned_start,
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
	cols     auditColumns     // reused statement arguments
	seen     map[idKey]struct{}
	parts    map[string]bool // audit partitions this transaction has locked
}

// auditColumns are the arguments of sqlInsertAudit, one slice per column.
type auditColumns struct {
	account                                     []int32
	time                                        []int64
	id, connector, acl, method, user, ip, event []string
	metadata                                    []*string
}

func (c *auditColumns) reset() {
	c.account, c.time = c.account[:0], c.time[:0]
	c.id, c.connector, c.acl, c.method = c.id[:0], c.connector[:0], c.acl[:0], c.method[:0]
	c.user, c.ip, c.event, c.metadata = c.user[:0], c.ip[:0], c.event[:0], c.metadata[:0]
}

func (c *auditColumns) add(n int32, a *siemsync.Audit) {
	var meta *string
	if a.Metadata != nil {
		m := string(a.Metadata)
		meta = &m
	}
	c.account, c.time = append(c.account, n), append(c.time, ms(a.Time))
	c.id, c.connector, c.acl = append(c.id, a.ID), append(c.connector, a.Connector), append(c.acl, a.ACL)
	c.method, c.user, c.ip = append(c.method, a.Method), append(c.user, a.User), append(c.ip, a.IP)
	c.metadata, c.event = append(c.metadata, meta), append(c.event, a.Event)
}

// idKey is the idempotency key of an audit record.
type idKey struct {
	account int32
	id      string
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
	return &Ingest{db: db, ctx: ctx, tx: tx, now: ms(db.now()),
		accounts: map[string]int32{}, locked: map[int32]bool{}, seen: map[idKey]struct{}{}, parts: map[string]bool{}}, nil
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
	seqs, err := in.insert(slices.Clone([]siemsync.Audit{*a}))
	if err != nil || len(seqs) == 0 {
		return false, err
	}
	a.Seq = seqs[0]
	return true, nil
}

// AuditBatch stores records in order, skipping ids their account already
// has (including earlier in recs), and returns how many it stored: one
// statement per seqBlock records.
func (in *Ingest) AuditBatch(recs []siemsync.Audit) (int, error) {
	stored := 0
	for len(recs) > 0 {
		n := min(len(recs), seqBlock)
		seqs, err := in.insert(recs[:n])
		stored += len(seqs)
		if err != nil {
			return stored, err
		}
		recs = recs[n:]
	}
	return stored, nil
}

func (in *Ingest) insert(recs []siemsync.Audit) ([]int64, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	nums := make([]int32, 0, 4)
	days := make([]int64, 0, 4)
	in.cols.reset()
	clear(in.seen)
	for i := range recs {
		a := &recs[i]
		n, err := in.account(a.Account)
		if err != nil {
			return nil, err
		}
		// A second copy of an id in recs is a duplicate of the first.
		if _, dup := in.seen[idKey{n, a.ID}]; dup {
			continue
		}
		in.seen[idKey{n, a.ID}] = struct{}{}
		in.cols.add(n, a)
		if len(nums) == 0 || nums[len(nums)-1] != n {
			nums = append(nums, n)
		}
		d := dayOf(ms(recs[i].Time))
		if len(days) == 0 || days[len(days)-1] != d {
			days = append(days, d)
		}
	}
	// Partitions are made in transactions of their own (partitions.go).
	parts, err := in.db.ensurePartitions(in.ctx, days)
	if err != nil {
		return nil, err
	}
	if err := in.see(parts); err != nil {
		return nil, err
	}
	if err := in.lock(nums); err != nil {
		return nil, err
	}
	c := &in.cols
	rows, err := in.tx.Query(in.ctx, sqlInsertAudit, in.now, c.account, c.id, c.time, c.connector, c.acl, c.method,
		c.user, c.ip, c.metadata, c.event)
	if err != nil {
		return nil, fail(fmt.Sprintf("insert audit records %s…%s", recs[0].ID, recs[len(recs)-1].ID), err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fail(fmt.Sprintf("insert audit records %s…%s", recs[0].ID, recs[len(recs)-1].ID), err)
	}
	// RETURNING gives no order; the records' order is their seqs'.
	slices.Sort(seqs)
	return seqs, nil
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

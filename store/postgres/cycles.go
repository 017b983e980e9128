package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Checkpoints returns where the integration stands in each data source,
// with the ranges accepted beyond the checkpoints, sorted. Both queries go
// in one batch: one implicit transaction, one commit's view.
func (db *DB) Checkpoints(ctx context.Context, integration string) (store.Checkpoints, error) {
	var cp store.Checkpoints
	b := &pgx.Batch{}
	queueCheckpoints(b, integration, &cp)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return store.Checkpoints{}, fail("read checkpoints of "+integration, err)
	}
	return cp, nil
}

// queueCheckpoints queues the queries that read the checkpoints of an
// integration and the ranges accepted beyond them into cp.
func queueCheckpoints(b *pgx.Batch, integration string, cp *store.Checkpoints) {
	b.Queue(`SELECT
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'audit'),
			(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'jobs'),
			backfill_since, backfill_until
		FROM integrations i WHERE id = $1`, integration).QueryRow(func(row pgx.Row) error {
		var since *int64
		if err := row.Scan(&cp.Audit, &cp.Jobs, &since, &cp.BackfillUntil); err != nil {
			return err
		}
		cp.BackfillSince = timeOf(since)
		if cp.BackfillSince.IsZero() {
			cp.BackfillUntil = 0
		}
		return nil
	})
	b.Queue(`SELECT source, lo, hi FROM accepted_ranges WHERE integration = $1 ORDER BY source, lo`, integration).Query(func(rows pgx.Rows) error {
		var source string
		var r store.Range
		_, err := pgx.ForEachRow(rows, []any{&source, &r.Lo, &r.Hi}, func() error {
			if source == siemsync.SourceAudit {
				cp.AuditAccepted = append(cp.AuditAccepted, r)
			} else {
				cp.JobsAccepted = append(cp.JobsAccepted, r)
			}
			return nil
		})
		return err
	})
}

// sqlBeginCycle is BeginCycle in one statement: the run is inserted (in a
// data-modifying WITH) only if the lease is current and the integration
// and its account are on; the integration, its account, checkpoints,
// accepted ranges, the current token, the run id and whether the account
// has jobs to send come back as one record (scanRecord).
const sqlBeginCycle = `WITH run AS (
		INSERT INTO runs (integration, worker, started)
		SELECT i.id, $3, $4 FROM integrations i JOIN accounts a ON a.id = i.account
		WHERE i.id = $1 AND i.enabled AND a.siem_enabled AND ` + sqlLeaseIs + `
		RETURNING id)
	SELECT ROW(` + sqlIntegrationColumns + `,
		acc.acc_id, acc.acc_name, acc.acc_host, acc.acc_created, acc.acc_siem,
		(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'audit'),
		(SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'jobs'),
		i.backfill_until,
		rg.audit_lo, rg.audit_hi, rg.jobs_lo, rg.jobs_hi,
		coalesce((SELECT token FROM leases WHERE name = $1), 0),
		coalesce((SELECT id FROM run), 0),
		EXISTS (SELECT FROM jobs WHERE account_num = acc.acc_num AND active)
			OR EXISTS (SELECT FROM jobs WHERE account_num = acc.acc_num
				AND seq > coalesce((SELECT seq FROM checkpoints WHERE integration = i.id AND source = 'jobs'), 0)))
	FROM integrations i,
		LATERAL (SELECT a.num AS acc_num, a.id AS acc_id, a.name AS acc_name, a.host AS acc_host, a.created_at AS acc_created,
			a.siem_enabled AS acc_siem FROM accounts a WHERE a.id = i.account) acc,
		LATERAL (SELECT array_agg(lo ORDER BY lo) FILTER (WHERE source = 'audit') AS audit_lo,
			array_agg(hi ORDER BY lo) FILTER (WHERE source = 'audit') AS audit_hi,
			array_agg(lo ORDER BY lo) FILTER (WHERE source = 'jobs') AS jobs_lo,
			array_agg(hi ORDER BY lo) FILTER (WHERE source = 'jobs') AS jobs_hi
			FROM accepted_ranges WHERE integration = i.id) rg
	WHERE i.id = $1`

// sqlFirstAuditPage is the first audit page of a cycle, read by BeginCycle
// in its transaction: sqlAuditPage(Backfill) with the account, checkpoint
// and backfill read from the integration's rows once (c), nothing when the
// integration does not send audit records.
const sqlFirstAuditPage = `WITH c AS MATERIALIZED (
		SELECT a.num, cp.seq, i.backfill_since AS since, i.backfill_until AS until
		FROM integrations i JOIN accounts a ON a.id = i.account
			JOIN checkpoints cp ON cp.integration = i.id AND cp.source = 'audit'
		WHERE i.id = $1 AND i.sources LIKE '%audit%')
	SELECT ` + sqlAuditColumns + `
	FROM audit WHERE account_num = (SELECT num FROM c) AND seq > (SELECT seq FROM c)
		AND ((SELECT since FROM c) IS NULL OR seq > (SELECT until FROM c) OR time_ms >= (SELECT since FROM c))
	ORDER BY seq LIMIT $2`

// BeginCycle starts a cycle under lease l in one statement, one
// transaction and one round trip (lossy: a run record lost with a
// database crash costs nothing), and with page > 0 reads the first audit
// page in the same round trip. A refused cycle writes nothing.
func (db *DB) BeginCycle(ctx context.Context, l store.Lease, started time.Time, page int) (store.CycleStart, error) {
	starts, errs := db.BeginCycles(ctx, []store.Lease{l}, started, page)
	return starts[0], errs[0]
}

// BeginCycles starts the cycles of leases ls as BeginCycle does each, all
// in one transaction and one round trip: a worker leases due integrations
// in bulk, and a round trip costs both sides more CPU than the statements.
// A lease that is stale, or whose integration is gone, is refused alone;
// a failed transaction fails (and writes) none.
func (db *DB) BeginCycles(ctx context.Context, ls []store.Lease, started time.Time, page int) ([]store.CycleStart, []error) {
	b := &pgx.Batch{}
	begins := make([]*beginning, len(ls))
	for i, l := range ls {
		begins[i] = queueBeginCycle(b, l, started)
	}
	if page > 0 {
		b.Queue(sqlSetLocalPlanPage)
		for _, bg := range begins {
			queueFirstAudit(b, bg.l.Name, page, &bg.cs)
		}
	}
	op := "start cycle of " + ls[0].Name
	if len(ls) > 1 {
		op = fmt.Sprintf("start cycles of %d integrations", len(ls))
	}
	// No statement raises for a stale lease: each start's token is checked
	// in result.
	err := db.inBatchTx(ctx, op, b, nil, lossy)
	starts, errs := make([]store.CycleStart, len(ls)), make([]error, len(ls))
	for i, bg := range begins {
		if err != nil {
			errs[i] = err
			continue
		}
		starts[i], errs[i] = bg.result(db)
	}
	return starts, errs
}

// beginning is one cycle's start in a batch, filled in as its answer is
// read.
type beginning struct {
	l                                store.Lease
	cs                               store.CycleStart
	r                                integrationRow
	accCreated                       int64
	auditLo, auditHi, jobsLo, jobsHi []int64
	found                            bool
	lease                            leaseCheck
}

// queueBeginCycle queues the start of l's cycle (sqlBeginCycle).
func queueBeginCycle(b *pgx.Batch, l store.Lease, started time.Time) *beginning {
	bg := &beginning{l: l, lease: leaseCheck{token: l.Token}}
	b.Queue(sqlBeginCycle, l.Name, l.Token, l.Owner, ms(started)).Query(func(rows pgx.Rows) error {
		defer rows.Close()
		if !rows.Next() {
			return rows.Err()
		}
		a, cp := &bg.cs.Account, &bg.cs.Checkpoints
		var room [80]any
		dest := append(bg.r.appendDest(room[:0]), &a.ID, &a.Name, &a.Host, &bg.accCreated, &a.SIEMEnabled,
			&cp.Audit, &cp.Jobs, &cp.BackfillUntil, &bg.auditLo, &bg.auditHi, &bg.jobsLo, &bg.jobsHi, &bg.lease.cur, &bg.cs.RunID, &bg.cs.JobsPending)
		v := rows.RawValues()
		if len(v) != 1 {
			return fmt.Errorf("a cycle's start is one record, not %d columns", len(v))
		}
		err := scanRecord(v[0], dest)
		bg.found, bg.lease.read = err == nil, err == nil
		return err
	})
	return bg
}

// result is the start once its transaction committed: refused with
// store.ErrFenced when the lease is stale, siemsync.ErrNotFound when the
// integration is gone.
func (bg *beginning) result(db *DB) (store.CycleStart, error) {
	op := "start cycle of " + bg.l.Name
	if err := bg.lease.err(); err != nil {
		return store.CycleStart{}, fmt.Errorf("%s: %w", op, err)
	}
	if !bg.found {
		return store.CycleStart{}, fmt.Errorf("%s: %w", op, siemsync.ErrNotFound)
	}
	cs := bg.cs
	cs.Account.CreatedAt = fromMS(bg.accCreated)
	cs.Checkpoints.BackfillSince = timeOf(bg.r.since)
	if cs.Checkpoints.BackfillSince.IsZero() {
		cs.Checkpoints.BackfillUntil = 0
	}
	cs.Checkpoints.AuditAccepted, cs.Checkpoints.JobsAccepted = zipRanges(bg.auditLo, bg.auditHi), zipRanges(bg.jobsLo, bg.jobsHi)
	cs.Integration = bg.r.integration(db.now())
	if err := store.OpenSecrets(db.cipher, cs.Integration, bg.r.sealed); err != nil {
		return store.CycleStart{}, fmt.Errorf("%s: %w", op, err)
	}
	return cs, nil
}

// queueFirstAudit queues the read of the cycle's first audit page into
// cs.FirstAudit, to be planned as the pages pool's connections plan: after
// sqlSetLocalPlanPage, which sets sqlPlanPage for the transaction.
func queueFirstAudit(b *pgx.Batch, integration string, page int, cs *store.CycleStart) {
	b.Queue(sqlFirstAuditPage, integration, page).Query(func(rows pgx.Rows) error {
		// Read into scratch space, kept exactly sized: most cycles have a
		// few records, and a page's worth of room would be most of what a
		// cycle allocates.
		sc := firstScratch.Get().(*[]siemsync.Audit)
		defer firstScratch.Put(sc)
		recs, err := readAuditPage(rows, cs.Account.ID, *sc)
		cs.FirstAudit, cs.FirstAuditRead = slices.Clone(recs), err == nil
		clear(recs)
		*sc = recs[:0]
		return err
	})
}

// sqlSetLocalPlanPage sets sqlPlanPage for the transaction, in one
// statement.
var sqlSetLocalPlanPage = func() string {
	var set []string
	for _, name := range slices.Sorted(maps.Keys(sqlPlanPage)) {
		set = append(set, fmt.Sprintf("set_config('%s', '%s', true)", name, sqlPlanPage[name]))
	}
	return "SELECT " + strings.Join(set, ", ")
}()

var firstScratch = sync.Pool{New: func() any { return new([]siemsync.Audit) }}

// zipRanges pairs the aggregated starts and ends of accepted ranges.
func zipRanges(lo, hi []int64) []store.Range {
	if len(lo) == 0 || len(lo) != len(hi) {
		return nil
	}
	out := make([]store.Range, len(lo))
	for i := range lo {
		out[i] = store.Range{Lo: lo[i], Hi: hi[i]}
	}
	return out
}

// CommitBatch records one accepted batch in one transaction and one round
// trip: the checkpoint moves up to b.Checkpoint (never down), the accepted
// ranges beyond it are stored and those it reached forgotten, the run's
// counters grow, and the set-aside events are stored. A stale token is
// refused with store.ErrFenced; a missing checkpoint or run with
// siemsync.ErrNotFound. Either rolls the transaction back (siemsync_check).
func (db *DB) CommitBatch(ctx context.Context, b store.BatchCommit) error {
	if err := b.Check(); err != nil {
		return err
	}
	lease := &leaseCheck{token: b.Token}
	q := &pgx.Batch{}
	lease.queue(q, b.Integration)
	queueCommit(q, b, ms(db.nowMS()))
	return db.inBatchTx(ctx, "commit batch of "+b.Integration, q, lease, durable)
}

// queueCommit queues CommitBatch's writes, after its lease check.
// The checkpoint and the run's counters are one statement (rows of two
// tables no other statement of the transaction touches); the accepted
// ranges follow it, as they read the new checkpoint.
func queueCommit(q *pgx.Batch, b store.BatchCommit, now int64) {
	q.Queue(`WITH u AS (UPDATE checkpoints SET seq = greatest(seq, $1), updated_at = $2
			WHERE integration = $3 AND source = $4 RETURNING 1),
		r AS (UPDATE runs SET events = events + $5, bytes = bytes + $6, set_aside = set_aside + $7
			WHERE id = $8 AND integration = $3 RETURNING 1)
		SELECT siemsync_check(EXISTS (SELECT FROM u), '`+stateNotFound+`', 'advance checkpoint'),
			siemsync_check(EXISTS (SELECT FROM r), '`+stateNotFound+`', 'count run ' || $8::bigint)`,
		b.Checkpoint, now, b.Integration, b.Source, b.Events, b.Bytes, len(b.SetAside), b.RunID)
	queueAccepted(q, b)
	queueSetAside(q, b.Integration, b.SetAside, now)
}

// queueAccepted forgets the ranges the new checkpoint reached and adds b's
// ranges beyond it (merging with stored ones is the reader's business:
// Checkpoints sorts them). Ranges with one start keep the longest, so that
// the upsert never meets its own row twice.
func queueAccepted(q *pgx.Batch, b store.BatchCommit) {
	const cp = `(SELECT seq FROM checkpoints WHERE integration = $1 AND source = $2)`
	q.Queue(`DELETE FROM accepted_ranges WHERE integration = $1 AND source = $2 AND hi <= `+cp, b.Integration, b.Source)
	if len(b.Accepted) == 0 {
		return
	}
	longest := map[int64]int64{}
	for _, r := range b.Accepted {
		longest[r.Lo] = max(longest[r.Lo], r.Hi)
	}
	los, his := make([]int64, 0, len(longest)), make([]int64, 0, len(longest))
	for lo, hi := range longest {
		los, his = append(los, lo), append(his, hi)
	}
	q.Queue(`INSERT INTO accepted_ranges (integration, source, lo, hi)
		SELECT $1, $2, r.lo, r.hi FROM unnest($3::bigint[], $4::bigint[]) AS r (lo, hi) WHERE r.hi > `+cp+`
		ON CONFLICT (integration, source, lo) DO UPDATE SET hi = greatest(accepted_ranges.hi, excluded.hi)`,
		b.Integration, b.Source, los, his)
}

func queueSetAside(q *pgx.Batch, integration string, events []store.SetAside, now int64) {
	for _, s := range events {
		created := now
		if !s.CreatedAt.IsZero() {
			created = ms(s.CreatedAt)
		}
		q.Queue(`INSERT INTO set_aside (integration, source, seq, event_id, reason, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, integration, s.Source, s.Seq, s.EventID, s.Reason, s.Body, created)
	}
}

// RecentRuns returns the integration's last n runs, newest first.
func (db *DB) RecentRuns(ctx context.Context, integration string, n int) ([]store.Run, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, worker, started, finished, events, bytes, set_aside, filtered, error
		FROM runs WHERE integration = $1 ORDER BY id DESC LIMIT $2`, integration, n)
	if err != nil {
		return nil, fail("list runs of "+integration, err)
	}
	var out []store.Run
	r := store.Run{Integration: integration}
	var started int64
	var finished *int64
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Worker, &started, &finished, &r.Events, &r.Bytes, &r.SetAside, &r.Filtered, &r.Error}, func() error {
		r.Started, r.Finished = fromMS(started), timePtr(finished)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fail("list runs of "+integration, err)
	}
	return out, nil
}

// ListSetAside returns the integration's set-aside events, oldest first.
func (db *DB) ListSetAside(ctx context.Context, integration string) ([]store.SetAside, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, source, seq, event_id, reason, body, created_at
		FROM set_aside WHERE integration = $1 ORDER BY id`, integration)
	if err != nil {
		return nil, fail("list set-aside events of "+integration, err)
	}
	var out []store.SetAside
	s := store.SetAside{Integration: integration}
	var created int64
	_, err = pgx.ForEachRow(rows, []any{&s.ID, &s.Source, &s.Seq, &s.EventID, &s.Reason, &s.Body, &created}, func() error {
		s.CreatedAt = fromMS(created)
		out = append(out, s)
		s.Body = nil
		return nil
	})
	if err != nil {
		return nil, fail("list set-aside events of "+integration, err)
	}
	return out, nil
}

// DeleteSetAside deletes set-aside events of the integration by id and
// returns how many it deleted; ids of other integrations are ignored.
func (db *DB) DeleteSetAside(ctx context.Context, integration string, ids []int64) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM set_aside WHERE integration = $1 AND id = ANY($2)`, integration, ids)
	if err != nil {
		return 0, fail("delete set-aside events of "+integration, err)
	}
	return int(tag.RowsAffected()), nil
}

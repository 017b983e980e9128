package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// FinishRun closes a run, updates the integration's status and, when
// f.NextDue is set, when it is next due, in one statement and one
// transaction (lossy: a finish lost with a database crash only leaves a
// run open); f.Release gives the lease back in it. A stale token is
// refused with store.ErrFenced and changes nothing. A batch commit
// (f.Commit) goes first, as CommitBatch's, and makes the transaction
// durable.
//
// Finishes of concurrent cycles share a round trip and a transaction
// (finisher): the cycles a look started together are answered together
// and end within a millisecond or two of each other.
func (db *DB) FinishRun(ctx context.Context, f store.RunFinish) error {
	if err := f.Check(); err != nil {
		return err
	}
	p := &pendingFinish{ctx: ctx, f: f, done: make(chan error, 1)}
	if db.fin.add(p) {
		db.finishQueued() // its group holds p: the answer is in
		return <-p.done
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// Like an answer that never came: the finish may still be applied.
		return fail("finish run of "+f.Integration, context.Cause(ctx))
	}
}

// finisher queues the finishes that arrive while a group of them is being
// written (group commit). The first finish to find nobody writing writes
// the queue as it is, its own included; whoever finds more queued after
// that goes on with them.
type finisher struct {
	mu      sync.Mutex
	queue   []*pendingFinish
	writing bool
}

type pendingFinish struct {
	ctx  context.Context
	f    store.RunFinish
	done chan error // buffered: the writer never waits for the caller
}

// add queues p and reports whether its caller must write the queue.
func (fn *finisher) add(p *pendingFinish) bool {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	fn.queue = append(fn.queue, p)
	if fn.writing {
		return false
	}
	fn.writing = true
	return true
}

// take returns the queue and empties it.
func (fn *finisher) take() []*pendingFinish {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	q := fn.queue
	fn.queue = nil
	return q
}

// more reports whether finishes were queued while a group was written;
// if not, nobody is writing any more.
func (fn *finisher) more() bool {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	if len(fn.queue) == 0 {
		fn.writing = false
		return false
	}
	return true
}

// finishQueued writes the queued finishes as one group, then hands what
// was queued meanwhile to a goroutine of its own, so that its caller's
// cycle does not wait for later cycles' finishes.
func (db *DB) finishQueued() {
	group := db.fin.take()
	ctx, cancel := groupContext(group)
	errs := db.finishTogether(ctx, group)
	cancel()
	for i, p := range group {
		p.done <- errs[i]
	}
	if db.fin.more() {
		go db.finishQueued()
	}
}

// groupContext is the context of a group's write: cancelled by none of its
// callers (a finish a caller stopped waiting for may still be applied, as
// after a lost answer), bounded by the latest of their deadlines.
func groupContext(group []*pendingFinish) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, p := range group {
		d, ok := p.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.WithoutCancel(p.ctx))
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(group[0].ctx), latest)
}

// finishTogether applies the finishes of group in one transaction and one
// round trip; the transaction is durable when any of them carries a batch
// commit. A stale lease or an unknown run updates nothing of its finish and
// is refused alone. When the server refuses a statement (a stale batch
// commit raises), it rolls the whole group back, so then each finish is
// applied alone and only that one is refused. When no answer comes (the
// connection, a timeout), whether the group committed is unknown: each
// finish fails as it would alone, and none is applied again.
func (db *DB) finishTogether(ctx context.Context, group []*pendingFinish) []error {
	errs := make([]error, len(group))
	if len(group) == 1 { // refused by the server, it would be sent twice
		errs[0] = db.finishAlone(ctx, group[0].f)
		return errs
	}
	q := &pgx.Batch{}
	results := make([]*finishResult, len(group))
	how := lossy
	now := ms(db.nowMS())
	for i, p := range group {
		results[i] = queueFinish(q, p.f, now)
		if p.f.Commit != nil {
			how = durable
		}
	}
	err := db.sendTx(ctx, q, how)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		db.finishFallbacks.Add(int64(len(group)))
		for i, p := range group {
			errs[i] = db.finishAlone(ctx, p.f)
		}
		return errs
	}
	for i, p := range group {
		if err != nil {
			errs[i] = fail("finish run of "+p.f.Integration, checked(err, nil))
			continue
		}
		errs[i] = results[i].err()
	}
	return errs
}

// finishAlone applies one finish in a transaction of its own.
func (db *DB) finishAlone(ctx context.Context, f store.RunFinish) error {
	q := &pgx.Batch{}
	res := queueFinish(q, f, ms(db.nowMS()))
	how := lossy
	if f.Commit != nil {
		how = durable
	}
	if err := db.inBatchTx(ctx, "finish run of "+f.Integration, q, &res.lease, how); err != nil {
		return err
	}
	return res.err()
}

// finishResult is what a finish's statements answered.
type finishResult struct {
	f      *store.RunFinish
	lease  leaseCheck
	closed bool // the run was closed
}

// err refuses the finish of a stale lease, then that of an unknown run.
// Neither raised in the database (their statements update nothing), so
// the others of a group stand.
func (r *finishResult) err() error {
	op := "finish run of " + r.f.Integration
	if err := r.lease.err(); err != nil {
		return fail(op, err)
	}
	if r.lease.read && !r.closed {
		return fail(op, fmt.Errorf("close run %d: %w", r.f.RunID, siemsync.ErrNotFound))
	}
	return nil
}

// queueFinish queues f's statements: its batch commit first, when it has
// one, then the run's close and the status. An unknown run, or a stale
// token, updates nothing; the token read and whether the run was closed
// tell which (finishResult.err), so no answer fails the batch on the
// client while the server commits it.
func queueFinish(q *pgx.Batch, f store.RunFinish, now int64) *finishResult {
	res := &finishResult{f: &f, lease: leaseCheck{token: f.Token}}
	lease := &res.lease
	if f.Commit != nil {
		lease.queue(q, f.Integration)
		queueCommit(q, *f.Commit, now)
	}
	// The status takes the run's counts and worker from the run it closes.
	q.Queue(`WITH r AS (
			UPDATE runs SET finished = $3, error = $4, filtered = $6 WHERE id = $5 AND integration = $1 AND `+sqlLeaseIs+`
			RETURNING events, worker),
		i AS (
			UPDATE integrations i SET
				last_complete = CASE WHEN $4 = '' THEN $3 ELSE last_complete END,
				last_error = CASE WHEN $4 = '' THEN NULL ELSE $3 END,
				error_message = $4,
				events_last_cycle = r.events, last_worker = r.worker, filtered_last_cycle = $6,
				next_due_at = coalesce($7, next_due_at)
			FROM r WHERE i.id = $1 RETURNING i.id),
		released AS (
			UPDATE leases SET expires_ms = 0 WHERE $8 AND name = $1 AND token = $2 AND EXISTS (SELECT FROM i) RETURNING name)
		SELECT coalesce((SELECT token FROM leases WHERE name = $1), 0), EXISTS (SELECT FROM i)`,
		f.Integration, f.Token, ms(f.Finished), f.Err, f.RunID, f.Filtered, nullMS(f.NextDue), f.Release).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&lease.cur, &res.closed); err != nil {
			return err
		}
		lease.read = true
		return nil
	})
	return res
}

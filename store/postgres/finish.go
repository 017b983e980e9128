package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

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
		db.finishQueued()
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
// round trip. A failure of one rolls them all back, so then each is
// applied alone: the one that fails is refused alone. The transaction is
// durable when any of them carries a batch commit.
func (db *DB) finishTogether(ctx context.Context, group []*pendingFinish) []error {
	errs := make([]error, len(group))
	if len(group) == 1 {
		errs[0] = db.finishAlone(ctx, group[0].f)
		return errs
	}
	q := &pgx.Batch{}
	leases := make([]*leaseCheck, len(group))
	how := lossy
	now := ms(db.nowMS())
	for i, p := range group {
		leases[i] = queueFinish(q, p.f, now)
		if p.f.Commit != nil {
			how = durable
		}
	}
	if err := db.inBatchTx(ctx, fmt.Sprintf("finish %d runs", len(group)), q, nil, how); err != nil {
		db.finishFallbacks.Add(int64(len(group)))
		for i, p := range group {
			errs[i] = db.finishAlone(ctx, p.f)
		}
		return errs
	}
	for i, p := range group {
		if err := leases[i].err(); err != nil {
			errs[i] = fail("finish run of "+p.f.Integration, err)
		}
	}
	return errs
}

// finishAlone applies one finish in a transaction of its own.
func (db *DB) finishAlone(ctx context.Context, f store.RunFinish) error {
	q := &pgx.Batch{}
	lease := queueFinish(q, f, ms(db.nowMS()))
	how := lossy
	if f.Commit != nil {
		how = durable
	}
	return db.inBatchTx(ctx, "finish run of "+f.Integration, q, lease, how)
}

// queueFinish queues f's statements: its batch commit first, when it has
// one, then the run's close and the status. An unknown run, or a stale
// token, updates nothing; the token read tells which.
func queueFinish(q *pgx.Batch, f store.RunFinish, now int64) *leaseCheck {
	lease := &leaseCheck{token: f.Token}
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
		var closed bool
		if err := row.Scan(&lease.cur, &closed); err != nil {
			return err
		}
		lease.read = true
		if !closed && lease.err() == nil {
			return fmt.Errorf("close run %d: %w", f.RunID, siemsync.ErrNotFound)
		}
		return nil
	})
	return lease
}

// Package sources is the read side of a sync cycle: it streams an account's
// audit records after a cursor, and its job snapshots (jobs changed after a
// cursor plus jobs still active), in bounded pages so that a backlog of any
// size is never held in memory.
//
// The embedded store is the only source today; pull sources that read the
// host product's own HTTP cursor API or database fit the same page shape.
package sources

import (
	"context"
	"iter"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// DefaultPageSize is how many records one page read returns.
const DefaultPageSize = 1000

// Store is what the sources read from.
type Store interface {
	AuditPage(ctx context.Context, q store.AuditQuery, dst []siemsync.Audit) ([]siemsync.Audit, error)
	JobPage(ctx context.Context, q store.JobQuery, dst []siemsync.Job) ([]siemsync.Job, error)
}

// AuditPages yields the account's audit records with sequence > q.After, in
// sequence order, a page at a time. A yielded page is only valid until the
// next one: its backing array is reused.
func AuditPages(ctx context.Context, st Store, q store.AuditQuery) iter.Seq2[[]siemsync.Audit, error] {
	return auditPages(ctx, st, q, nil)
}

// AuditPagesFrom is AuditPages when the first page was read already (as a
// store's BeginCycle may): first is it, of q.Limit records at most.
func AuditPagesFrom(ctx context.Context, st Store, q store.AuditQuery, first []siemsync.Audit) iter.Seq2[[]siemsync.Audit, error] {
	if first == nil {
		first = []siemsync.Audit{}
	}
	return auditPages(ctx, st, q, first)
}

func auditPages(ctx context.Context, st Store, q store.AuditQuery, first []siemsync.Audit) iter.Seq2[[]siemsync.Audit, error] {
	q.Limit = PageSize(q.Limit)
	return pages(func(after int64, dst []siemsync.Audit) ([]siemsync.Audit, error) {
		q.After = after
		return st.AuditPage(ctx, q, dst)
	}, q.After, q.Limit, func(a *siemsync.Audit) int64 { return a.Seq }, first)
}

// JobPages yields one snapshot of every job of the account that changed
// after q.Checkpoint, plus every job still active, in change-sequence
// order, a page at a time. Pages are reused as in AuditPages.
func JobPages(ctx context.Context, st Store, q store.JobQuery) iter.Seq2[[]siemsync.Job, error] {
	q.Limit = PageSize(q.Limit)
	return pages(func(after int64, dst []siemsync.Job) ([]siemsync.Job, error) {
		q.After = after
		return st.JobPage(ctx, q, dst)
	}, q.After, q.Limit, func(j *siemsync.Job) int64 { return j.Seq }, nil)
}

// PageSize is the records per page of a configured page size n (0 or
// less: DefaultPageSize).
func PageSize(n int) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return n
}

// pages walks a keyset-paginated query: each page starts after the sequence
// of the last record of the previous one, so records inserted meanwhile are
// neither skipped nor repeated.
//
// The next page is read while the caller works on the current one: reading
// a page from SQLite costs several times more than encoding it, so the two
// overlap on a second core. Two page buffers alternate; a page the caller
// got is not written to until it asks for the next. A non-nil first is the
// first page, read already.
func pages[T any](fetch func(after int64, dst []T) ([]T, error), after int64, limit int, seq func(*T) int64, first []T) iter.Seq2[[]T, error] {
	type result struct {
		page []T
		err  error
	}
	return func(yield func([]T, error) bool) {
		var spare []T
		page, err := first, error(nil)
		if first == nil {
			page, err = fetch(after, nil)
		}
		for {
			if err != nil {
				yield(nil, err)
				return
			}
			if len(page) == 0 {
				return
			}
			var next chan result
			if len(page) >= limit {
				next = make(chan result, 1)
				after, dst := seq(&page[len(page)-1]), spare[:0]
				go func() {
					p, err := fetch(after, dst)
					next <- result{p, err}
				}()
			}
			more := yield(page, nil)
			if next == nil {
				return
			}
			// Wait for the read ahead even when the caller stopped: it
			// must be done with its connection and buffer first.
			r := <-next
			if !more {
				return
			}
			spare, page, err = page, r.page, r.err
		}
	}
}

package sync

import "github.com/siemsync/siemsync/store"

// window tracks the batches of one source that a cycle has handed to the
// destination, in sequence order, and which of their events the
// destination has accepted (or that were set aside). It turns answers that
// arrive in any order into the two things the store keeps (SPEC §6.4):
//
//   - the checkpoint, which only ever moves over the contiguous prefix of
//     resolved events, and
//   - ranges accepted beyond that prefix, so that neither a retry nor the
//     next cycle sends them again.
//
// It keeps each batch's sequence numbers, not its body: a batch's buffer
// goes back to the pool as soon as its requests are answered, and what is
// left here is 8 bytes an event for at most maxTracked batches.
type window struct {
	checkpoint int64 // resolved up to here (the last value handed to the store)
	entries    []*entry
}

type entry struct {
	seqs       []int64 // sequence of each sent event, ascending
	done       []bool  // event i was accepted or set aside
	ndone      int
	checkpoint int64 // highest sequence the batch covers, filtered events included
	first      int   // events [0, first) are done: where the prefix stands in this batch
}

// add appends a batch's events to the window; it must be called in
// sequence order.
func (w *window) add(seqs []int64, checkpoint int64) *entry {
	e := &entry{seqs: append([]int64(nil), seqs...), done: make([]bool, len(seqs)), checkpoint: checkpoint}
	w.entries = append(w.entries, e)
	return e
}

// resolve marks events [lo, hi) of e as done. It returns the ranges of them
// that lie beyond the contiguous prefix; those the caller stores as
// accepted so that they are not sent again.
func (w *window) resolve(e *entry, lo, hi int) []store.Range {
	for i := lo; i < hi; i++ {
		if !e.done[i] {
			e.done[i] = true
			e.ndone++
		}
	}
	if lo >= hi || (len(w.entries) > 0 && w.entries[0] == e && lo <= e.first) {
		return nil // extends the prefix: the checkpoint says it all
	}
	return []store.Range{{Lo: e.seqs[lo], Hi: e.seqs[hi-1]}}
}

// advance moves the checkpoint over every resolved event at the head of
// the window and drops batches that are wholly behind it. It returns the
// new checkpoint and whether it moved.
func (w *window) advance() (int64, bool) {
	old := w.checkpoint
	for len(w.entries) > 0 {
		e := w.entries[0]
		for e.first < len(e.seqs) && e.done[e.first] {
			e.first++
		}
		if e.first == len(e.seqs) {
			w.checkpoint = max(w.checkpoint, e.checkpoint)
			w.entries[0] = nil
			w.entries = w.entries[1:]
			continue
		}
		// Everything of the account below the first unresolved event is
		// resolved: filtered events before it included.
		w.checkpoint = max(w.checkpoint, e.seqs[e.first]-1)
		break
	}
	return w.checkpoint, w.checkpoint != old
}

// tracked is the number of batches the window still holds.
func (w *window) tracked() int { return len(w.entries) }

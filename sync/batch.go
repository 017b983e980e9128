package sync

import (
	"context"
	gosync "sync"
	"time"

	"github.com/siemsync/siemsync"
)

// batch is a run of encoded events of one source, ready to send as one
// request. ends[i] is where event i ends in body; checkpoint is the highest
// sequence the batch covers, including events the sink filtered out.
//
// The event ids are copied into one buffer (idEnds[i] is where id i ends)
// rather than kept as strings: a record's strings may share memory with
// the whole row the store read, and a batch would then hold thousands of
// rows alive until it is sent.
type batch struct {
	source     string
	upload     time.Time
	body       []byte
	ends       []int
	seqs       []int64
	idBytes    []byte
	idEnds     []int
	checkpoint int64
	// last: the producer's final batch, handed over by finish; nothing of
	// its source follows it in the cycle.
	last bool
}

func (b *batch) reset(source string, upload time.Time) {
	b.source, b.upload = source, upload
	b.body, b.ends, b.seqs = b.body[:0], b.ends[:0], b.seqs[:0]
	b.idBytes, b.idEnds = b.idBytes[:0], b.idEnds[:0]
	b.checkpoint, b.last = 0, false
}

func (b *batch) addID(id string) {
	b.idBytes = append(b.idBytes, id...)
	b.idEnds = append(b.idEnds, len(b.idBytes))
}

// id returns the id of event i.
func (b *batch) id(i int) string {
	start := 0
	if i > 0 {
		start = b.idEnds[i-1]
	}
	return string(b.idBytes[start:b.idEnds[i]])
}

// eventRoom is the free space reserve keeps at the end of a body: more
// than one event takes (HEC truncates events at 9,000 bytes).
const eventRoom = 16 << 10

// firstBody is the size of a batch's first body buffer. Most cycles send a
// few events and never grow it; those buffers are reused across cycles
// (firstBodies) instead of being garbage after each.
const firstBody = 32 << 10

var firstBodies = gosync.Pool{New: func() any { b := make([]byte, 0, firstBody); return &b }}

func newBody() []byte { return (*firstBodies.Get().(*[]byte))[:0] }

// recycleBody keeps a first-size body buffer for another batch.
func recycleBody(body []byte) {
	if cap(body) == firstBody {
		firstBodies.Put(&body)
	}
}

// smallBody is the largest body buffer a cycle may build without a backlog
// turn (Syncer.backlog): a few hundred events.
const smallBody = 256 << 10

// outgrows reports whether the next reserve grows the body beyond
// smallBody.
func (b *batch) outgrows() bool {
	return cap(b.body)-len(b.body) < eventRoom && 2*cap(b.body) > smallBody
}

// reserve makes room for the next event before it is appended. A body
// starts at firstBody (a reused buffer) and doubles; once it is past a
// quarter MiB the batch is clearly a big one and the body goes straight to
// the byte cap (plus room for the event that crosses it). A 4 MiB batch then takes 4 MiB, not up
// to 5 as with append's own growth, and leaves well under 1 MiB of smaller
// buffers behind instead of 4. A larger event still grows the body as
// append does.
func (b *batch) reserve(maxBytes int) {
	if cap(b.body)-len(b.body) >= eventRoom {
		return
	}
	if cap(b.body) == 0 && maxBytes+eventRoom >= firstBody {
		b.body = newBody()
		return
	}
	n := max(2*cap(b.body), firstBody)
	if n > smallBody {
		n = maxBytes + eventRoom
	}
	n = max(min(n, maxBytes+eventRoom), len(b.body)+eventRoom)
	body := make([]byte, len(b.body), n)
	copy(body, b.body)
	b.body = body
}

func (b *batch) start(i int) int {
	if i == 0 {
		return 0
	}
	return b.ends[i-1]
}

// event returns the wire bytes of event i.
func (b *batch) event(i int) []byte { return b.body[b.start(i):b.ends[i]] }

// spanLen is the length of events [lo, hi), also once the body is gone.
func (b *batch) spanLen(lo, hi int) int { return b.ends[hi-1] - b.start(lo) }

// span returns the wire bytes of events [lo, hi).
func (b *batch) span(lo, hi int) []byte { return b.body[b.start(lo):b.ends[hi-1]] }

// builder encodes events into batches and hands full ones to the sender.
// Batches are recycled through free, so at most a handful of them (and so
// a bounded amount of memory) exist at once, however long the backlog.
type builder struct {
	source    string
	host      string
	sink      Sink
	now       func() time.Time
	maxBytes  func() int // the cycle's cap: it shrinks when a 413 teaches a lower one
	maxEvents int
	full      chan<- *batch
	free      <-chan *batch
	bodies    <-chan []byte // with a packer: body buffers travel apart from batches
	// large, when set, is called before a body grows beyond smallBody: it
	// waits for the cycle's backlog turn.
	large func(ctx context.Context) error
	cur   *batch
	carry []byte
	// filled: cur reached a limit. It is handed over when the next record
	// comes (or, marked last, when the producer finishes), so that the
	// producer's final batch is known to be final (batch.last).
	filled bool
}

func (bd *builder) take(ctx context.Context) error {
	select {
	case b := <-bd.free:
		if bd.bodies != nil {
			select {
			case b.body = <-bd.bodies:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		b.reset(bd.source, bd.now())
		bd.cur = b
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// add encodes one event into the current batch, flushing the batch when it
// reaches a limit. An event that would push a non-empty batch over the byte
// cap starts the next batch instead; an event larger than the cap on its
// own travels alone (the destination decides, and a 413 sets it aside).
func (bd *builder) add(ctx context.Context, ev *siemsync.Event) error {
	if err := bd.handOverFull(ctx); err != nil {
		return err
	}
	if bd.cur == nil {
		if err := bd.take(ctx); err != nil {
			return err
		}
	}
	b := bd.cur
	ev.Host, ev.UploadTime = bd.host, b.upload
	seq := ev.Seq()
	start := len(b.body)
	maxBytes := bd.maxBytes()
	if bd.large != nil && b.outgrows() {
		if err := bd.large(ctx); err != nil {
			return err
		}
	}
	b.reserve(maxBytes)
	b.body = bd.sink.Append(b.body, ev)
	if len(b.body) == start {
		b.checkpoint = max(b.checkpoint, seq) // filtered out by the sink
		return nil
	}
	if len(b.ends) > 0 && len(b.body) > maxBytes {
		bd.carry = append(bd.carry[:0], b.body[start:]...)
		b.body = b.body[:start]
		if err := bd.flush(ctx); err != nil {
			return err
		}
		if err := bd.take(ctx); err != nil {
			return err
		}
		b = bd.cur
		b.body = append(b.body, bd.carry...)
	}
	b.ends = append(b.ends, len(b.body))
	b.seqs = append(b.seqs, seq)
	b.addID(ev.ID())
	b.checkpoint = max(b.checkpoint, seq)
	bd.filled = len(b.ends) >= bd.maxEvents || len(b.body) >= maxBytes
	return nil
}

// handOverFull hands over a batch that reached a limit, now that another
// record follows it.
func (bd *builder) handOverFull(ctx context.Context) error {
	if !bd.filled {
		return nil
	}
	return bd.flush(ctx)
}

// skip moves the current batch's checkpoint over a record that is not sent
// (the destination accepted it before, beyond a gap).
func (bd *builder) skip(ctx context.Context, seq int64) error {
	if err := bd.handOverFull(ctx); err != nil {
		return err
	}
	if bd.cur == nil {
		if err := bd.take(ctx); err != nil {
			return err
		}
	}
	bd.cur.checkpoint = max(bd.cur.checkpoint, seq)
	return nil
}

// finish hands the producer's final batch to the sender, marked last.
func (bd *builder) finish(ctx context.Context) error {
	if bd.cur != nil {
		bd.cur.last = true
	}
	return bd.flush(ctx)
}

// flush hands the current batch to the sender. A batch with no events but a
// checkpoint (everything filtered) is still handed over, so the checkpoint
// moves past what the sink chose not to send.
func (bd *builder) flush(ctx context.Context) error {
	b := bd.cur
	bd.filled = false
	if b == nil {
		return nil
	}
	bd.cur = nil
	if len(b.ends) == 0 && b.checkpoint == 0 {
		return nil
	}
	select {
	case bd.full <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

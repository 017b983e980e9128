package sync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sink"
	"github.com/siemsync/siemsync/store"
)

// Backoff is the default wait before retry attempt n: exponential from
// 500 ms, capped at 10 s, with full jitter so that many integrations failing
// together do not retry in lockstep.
func Backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt-1, 5)
	d = min(d, 10*time.Second)
	return d/2 + rand.N(d/2+1)
}

// answer is what a batch's sender reports to the cycle: a span of the
// batch the destination accepted, or (final) the end of the batch with the
// events it set aside or the error that stopped it.
type answer struct {
	b      *batch
	e      *entry
	lo, hi int // accepted events [lo, hi); empty in a final answer
	final  bool
	aside  []setAside
	err    error
}

// whole says whether a is the acceptance of its whole batch at once: its
// sender has nothing left to send, only its final answer.
func (a answer) whole() bool { return !a.final && a.lo == 0 && a.hi == len(a.b.ends) }

// setAside is an event the destination refused on its own, with its index
// in the batch.
type setAside struct {
	i  int
	ev store.SetAside
}

// sender delivers one batch, splitting it or isolating bad events as the
// destination requires, and reports every accepted span as soon as it is
// accepted so that the checkpoint can move inside a batch too.
type sender struct {
	c   *cycle
	b   *batch
	e   *entry
	out chan<- answer

	aside        []setAside
	accepted     int // events accepted so far
	refusedAlone int // events refused when sent alone

	wire sink.Wire // the whole batch packed, until it must be split
}

// run sends the whole batch and reports the final answer.
func (sd *sender) run(ctx context.Context) {
	if c := sd.c; c.packer != nil {
		sd.wire = c.packer.Pack(sd.b.body)
		c.bodies <- sd.b.body[:0]
		sd.b.body = nil
	}
	err := sd.send(ctx, 0, len(sd.b.ends))
	if sd.wire != nil {
		sd.wire.Release()
	}
	if err == nil && len(sd.aside) > 0 && sd.broken() {
		err = sd.brokenError()
	}
	if err != nil {
		sd.aside = nil // nothing is set aside from a batch that failed
	}
	sd.out <- answer{b: sd.b, e: sd.e, final: true, aside: sd.aside, err: err}
}

// broken says whether the events refused one by one are most of the
// batch: then the destination refuses everything (a bad index, a broken
// parser, a full disk answering code 6) and setting the events aside
// would empty the backlog into set-aside while reporting success.
func (sd *sender) broken() bool {
	n := sd.refusedAlone
	return n >= 2 && (2*n > len(sd.b.ends) || (n >= 3 && sd.accepted == 0))
}

func (sd *sender) brokenError() error {
	return &sink.Error{Class: sink.Config, Code: -1, Msg: fmt.Sprintf(
		"the destination refused %d events one by one and accepted %d of this batch of %d: it refuses everything, not a few bad events; "+
			"nothing was set aside and the checkpoint did not move. Check the destination (index, sourcetype, token permissions, disk) and test the connection",
		sd.refusedAlone, sd.accepted, len(sd.b.ends))}
}

// send delivers events [lo, hi) of the batch.
func (sd *sender) send(ctx context.Context, lo, hi int) error {
	c, b := sd.c, sd.b
	for {
		if err := c.retry.ready(ctx, c.s.cfg.Now); err != nil {
			return err
		}
		err := sd.attempt(ctx, lo, hi)
		if err == nil {
			c.retry.reset()
			sd.accepted += hi - lo
			sd.out <- answer{b: b, e: sd.e, lo: lo, hi: hi}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("send batch: %w", context.Cause(ctx))
		}
		var se *sink.Error
		errors.As(err, &se)
		c.countFailure(se)
		if cl := sink.ClassOf(err); cl == sink.TooLarge || cl == sink.BadEvent {
			if err := sd.unpack(); err != nil {
				return err
			}
		}
		switch sink.ClassOf(err) {
		case sink.Retry:
			if err := c.retry.wait(ctx, c.s.cfg, err, se); err != nil {
				return err
			}
		case sink.TooLarge:
			if hi-lo == 1 {
				sd.setAside(lo, "the destination refused the event as too large (HTTP 413) even when sent alone: "+err.Error())
				return nil
			}
			c.learnCap(b.spanLen(lo, hi) / 2)
			mid := lo + (hi-lo)/2
			return sd.sendParts(ctx, lo, mid, hi)
		case sink.BadEvent:
			if hi-lo == 1 {
				sd.refusedAlone++
				if sd.broken() {
					return sd.brokenError()
				}
				sd.setAside(lo, err.Error())
				return nil
			}
			// Trust invalid-event-number only to isolate: the named event is
			// sent alone and set aside only if it is refused on its own.
			if i := se.Index; i >= 0 && i < hi-lo {
				return sd.sendParts(ctx, lo, lo+i, lo+i+1, hi)
			}
			mid := lo + (hi-lo)/2
			return sd.sendParts(ctx, lo, mid, hi)
		default:
			return err
		}
	}
}

// attempt makes one attempt at events [lo, hi): the packed wire form for
// the whole batch, the body's span otherwise.
func (sd *sender) attempt(ctx context.Context, lo, hi int) error {
	if sd.wire != nil && lo == 0 && hi == len(sd.b.ends) {
		return sd.wire.Send(ctx, hi-lo)
	}
	return sd.c.sink.Send(ctx, sd.b.span(lo, hi), hi-lo)
}

// unpack brings the batch's body back from its wire form, before the batch
// is split: parts are sent (and bad events set aside) from the body.
func (sd *sender) unpack() error {
	if sd.wire == nil {
		return nil
	}
	body, err := sd.wire.Body()
	sd.wire.Release()
	sd.wire = nil
	if err != nil {
		return err
	}
	sd.b.body = body
	return nil
}

// sendParts sends the consecutive ranges [bounds[0], bounds[1]), ... in order.
func (sd *sender) sendParts(ctx context.Context, bounds ...int) error {
	for i := 0; i+1 < len(bounds); i++ {
		if bounds[i] == bounds[i+1] {
			continue
		}
		if err := sd.send(ctx, bounds[i], bounds[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (sd *sender) setAside(i int, reason string) {
	c, b := sd.c, sd.b
	sd.aside = append(sd.aside, setAside{i: i, ev: store.SetAside{
		Integration: c.in.ID, Source: b.source, Seq: b.seqs[i], EventID: b.id(i),
		Reason: reason, Body: append([]byte(nil), b.event(i)...), CreatedAt: c.s.cfg.Now(),
	}})
	c.s.cfg.Logger.Warn().Str("integration", c.in.ID).Str("source", b.source).Str("event_id", b.id(i)).
		Int64("seq", b.seqs[i]).Str("reason", reason).Msg("event set aside")
}

// learnCap remembers, in the store so that it outlives this process, that
// requests must stay at or below n bytes. Later batches of this cycle and
// all later cycles are built to fit.
func (c *cycle) learnCap(n int) {
	n = max(n, siemsync.MinBatchBytes)
	c.capMu.Lock()
	defer c.capMu.Unlock()
	if c.in.LearnedBatchBytes > 0 && c.in.LearnedBatchBytes <= n {
		return
	}
	c.in.LearnedBatchBytes = n
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := c.s.cfg.Store.LearnBatchBytes(ctx, c.in.ID, n); err != nil {
		c.s.cfg.Logger.Warn().Err(err).Str("integration", c.in.ID).Msg("remember batch size")
		return
	}
	c.s.cfg.Logger.Info().Str("integration", c.in.ID).Int("max_batch_bytes", n).Msg("destination refused a large request; batches will stay below this size")
}

func (c *cycle) countFailure(se *sink.Error) {
	m := c.s.cfg.Metrics
	if m == nil {
		return
	}
	reason := sink.Retry.String()
	if se != nil {
		reason = se.Reason()
	}
	m.Failures.WithLabelValues(c.in.ID, reason).Inc()
}

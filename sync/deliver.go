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

// deliver sends one batch (splitting it or setting events aside as the
// destination requires) and then commits its checkpoint together with the
// set-aside events in one store transaction.
func (c *cycle) deliver(ctx context.Context, b *batch) error {
	var aside []store.SetAside
	var delivered int64
	if len(b.ends) > 0 {
		var err error
		if delivered, err = c.send(ctx, b, 0, len(b.ends), &aside); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if c.commit != nil { // a replay records its own cursor, never the checkpoint
		if err := c.commit(cctx, b, delivered, aside); err != nil {
			return err
		}
	} else {
		commit := store.BatchCommit{
			RunID: c.runID, Integration: c.in.ID, Source: b.source, Checkpoint: b.checkpoint,
			Events: delivered, Bytes: int64(len(b.body)), SetAside: aside,
		}
		if err := c.s.cfg.Store.CommitBatch(cctx, commit); err != nil {
			return fmt.Errorf("commit checkpoint: %w", err)
		}
	}
	if b.source == siemsync.SourceAudit {
		c.res.Audit += delivered
	} else {
		c.res.Jobs += delivered
	}
	c.res.Bytes += int64(len(b.body))
	c.res.SetAside += int64(len(aside))
	if m := c.s.cfg.Metrics; m != nil {
		m.EventsSent.WithLabelValues(c.in.ID, b.source).Add(float64(delivered))
		m.BytesSent.WithLabelValues(c.in.ID, "raw").Add(float64(len(b.body)))
		if len(aside) > 0 {
			m.SetAside.WithLabelValues(c.in.ID).Add(float64(len(aside)))
		}
	}
	return nil
}

// send delivers events [lo, hi) of b and returns how many the destination
// accepted; the events it rejected one by one are appended to aside.
func (c *cycle) send(ctx context.Context, b *batch, lo, hi int, aside *[]store.SetAside) (int64, error) {
	for {
		err := c.sink.Send(ctx, b.span(lo, hi), hi-lo)
		if err == nil {
			c.attempt = 0
			return int64(hi - lo), nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("send batch: %w", ctx.Err())
		}
		var se *sink.Error
		errors.As(err, &se)
		c.countFailure(se)
		switch sink.ClassOf(err) {
		case sink.Retry:
			if err := c.wait(ctx, err, se); err != nil {
				return 0, err
			}
		case sink.TooLarge:
			if hi-lo == 1 {
				c.setAside(b, lo, aside, "the destination refused the event as too large (HTTP 413) even when sent alone: "+err.Error())
				return 0, nil
			}
			c.learnCap(len(b.span(lo, hi)) / 2)
			mid := lo + (hi-lo)/2
			return c.sendParts(ctx, b, aside, lo, mid, hi)
		case sink.BadEvent:
			if hi-lo == 1 {
				c.setAside(b, lo, aside, err.Error())
				return 0, nil
			}
			// Trust invalid-event-number only to isolate: the named event is
			// sent alone and set aside only if it is refused on its own.
			if i := se.Index; i >= 0 && i < hi-lo {
				return c.sendParts(ctx, b, aside, lo, lo+i, lo+i+1, hi)
			}
			mid := lo + (hi-lo)/2
			return c.sendParts(ctx, b, aside, lo, mid, hi)
		default:
			return 0, err
		}
	}
}

// sendParts sends the consecutive ranges [bounds[0], bounds[1]), ... in order.
func (c *cycle) sendParts(ctx context.Context, b *batch, aside *[]store.SetAside, bounds ...int) (int64, error) {
	var total int64
	for i := 0; i+1 < len(bounds); i++ {
		if bounds[i] == bounds[i+1] {
			continue
		}
		n, err := c.send(ctx, b, bounds[i], bounds[i+1], aside)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// wait sleeps before the next attempt. The cycle's retry budget starts at
// its first transient failure; once spent, the cycle fails and the next one
// resumes from the checkpoint.
func (c *cycle) wait(ctx context.Context, err error, se *sink.Error) error {
	now := c.s.cfg.Now()
	budget := c.s.cfg.RetryBudget
	if c.retryDeadline.IsZero() {
		c.retryDeadline = now.Add(budget)
	}
	c.attempt++
	d := c.s.cfg.Backoff(c.attempt)
	if se != nil && se.RetryAfter > d {
		d = se.RetryAfter
	}
	if now.Add(d).After(c.retryDeadline) {
		return fmt.Errorf("the destination did not accept the batch within the %s retry budget (last answer: %w); the next cycle resends everything since the last success", budget, err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait to retry: %w", ctx.Err())
	}
}

// learnCap remembers, in the store so that it outlives this process, that
// requests must stay at or below n bytes. Later batches of this cycle and
// all later cycles are built to fit.
func (c *cycle) learnCap(n int) {
	n = max(n, siemsync.MinBatchBytes)
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

func (c *cycle) setAside(b *batch, i int, aside *[]store.SetAside, reason string) {
	*aside = append(*aside, store.SetAside{
		Integration: c.in.ID, Source: b.source, Seq: b.seqs[i], EventID: b.id(i),
		Reason: reason, Body: append([]byte(nil), b.event(i)...), CreatedAt: c.s.cfg.Now(),
	})
	c.s.cfg.Logger.Warn().Str("integration", c.in.ID).Str("source", b.source).Str("event_id", b.id(i)).
		Int64("seq", b.seqs[i]).Str("reason", reason).Msg("event set aside")
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

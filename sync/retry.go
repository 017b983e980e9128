package sync

import (
	"context"
	"fmt"
	gosync "sync"
	"time"

	"github.com/siemsync/siemsync/sink"
)

// retryState is the retry budget of one cycle, shared by every request it
// has in flight: the budget starts at the first transient failure of any of
// them and is spent once for all, so a window of four requests against a
// destination that is down fails the cycle after one budget, not four.
type retryState struct {
	mu       gosync.Mutex
	deadline time.Time
	attempt  int
	pause    time.Time // no request starts before this (the destination's Retry-After)
}

// ready waits until the destination's Retry-After, if any, has passed: it
// asked the client to slow down, not one request.
func (r *retryState) ready(ctx context.Context, now func() time.Time) error {
	r.mu.Lock()
	d := r.pause.Sub(now())
	r.mu.Unlock()
	return sleep(ctx, d)
}

// reset starts the backoff over after a success; the budget's deadline
// stays, so a destination that fails most requests still ends the cycle.
func (r *retryState) reset() {
	r.mu.Lock()
	r.attempt = 0
	r.mu.Unlock()
}

// wait sleeps before the next attempt, or fails once the budget is spent;
// the next cycle then resumes from the checkpoint.
func (r *retryState) wait(ctx context.Context, cfg Config, err error, se *sink.Error) error {
	r.mu.Lock()
	now := cfg.Now()
	if r.deadline.IsZero() {
		r.deadline = now.Add(cfg.RetryBudget)
	}
	r.attempt++
	d := cfg.Backoff(r.attempt)
	deadline := r.deadline
	if se != nil && se.RetryAfter > 0 {
		d = max(d, se.RetryAfter)
		r.pause = later(r.pause, now.Add(se.RetryAfter))
	}
	r.mu.Unlock()
	if now.Add(d).After(deadline) {
		return fmt.Errorf("the destination did not accept the batch within the %s retry budget (last answer: %w); the next cycle resends everything not yet accepted", cfg.RetryBudget, err)
	}
	return sleep(ctx, d)
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait to retry: %w", context.Cause(ctx))
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

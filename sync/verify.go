package sync

import (
	"context"
	"fmt"
)

// Verifier is a destination that can prove it works without an event: HEC
// posts the empty request the token must pass, syslog connects and
// completes the TLS handshake.
type Verifier interface {
	Verify(ctx context.Context) error
}

// finish ends a cycle after its data sources (SPEC §8.3): with heartbeat
// on, the heartbeat event proves the destination; otherwise a cycle that
// delivered nothing verifies it, so a destination that refuses the token or
// cannot be reached fails the cycle even when there was nothing to send,
// and is never shown healthy.
func (c *cycle) finish(ctx context.Context, dest Sink) error {
	if c.in.Heartbeat {
		return c.heartbeat(ctx)
	}
	if c.res.Events() > 0 {
		return nil
	}
	v, ok := dest.(Verifier)
	if !ok {
		return nil
	}
	if err := v.Verify(ctx); err != nil {
		return fmt.Errorf("nothing to send, and the destination check failed: %w", err)
	}
	return nil
}

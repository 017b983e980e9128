package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/siemsync/siemsync/store"
)

// DefaultOwner is the worker id when none is configured: host name and
// process id, so two processes on one machine are told apart.
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "siemsync"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// hold keeps lease l while the returned context lives: it renews the lease
// every third of its TTL and cancels the context (cause store.ErrFenced)
// as soon as another worker took the lease over, so a worker that was
// paused past its expiry stops sending instead of racing the new owner.
// release stops renewing and gives the lease back.
func (s *Syncer) hold(ctx context.Context, l store.Lease) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(max(s.cfg.LeaseTTL/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, storeTimeout)
			_, err := s.cfg.Store.RenewLease(rctx, l, s.cfg.LeaseTTL)
			rcancel()
			switch {
			case errors.Is(err, store.ErrFenced):
				s.cfg.Logger.Warn().Str("integration", l.Name).Int64("token", l.Token).Msg("lease taken over by another worker; stopping this cycle")
				cancel(fmt.Errorf("integration %s: %w", l.Name, store.ErrFenced))
				return
			case err != nil && ctx.Err() == nil:
				// The lease may still be ours: keep trying until it expires;
				// the fencing token protects the store if it is not.
				s.cfg.Logger.Warn().Err(err).Str("integration", l.Name).Msg("renew lease")
			}
		}
	}()
	return ctx, func() {
		close(done)
		<-stopped
		cancel(nil)
		rctx, rcancel := context.WithTimeout(context.Background(), storeTimeout)
		defer rcancel()
		if err := s.cfg.Store.ReleaseLease(rctx, l); err != nil && !errors.Is(err, store.ErrFenced) {
			s.cfg.Logger.Warn().Err(err).Str("integration", l.Name).Msg("release lease")
		}
	}
}

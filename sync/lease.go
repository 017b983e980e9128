package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	gosync "sync"
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

// holder keeps a lease while a cycle runs: it renews the lease every third
// of its TTL and cancels ctx (cause store.ErrFenced) as soon as another
// worker took the lease over, so a worker that was paused past its expiry
// stops sending instead of racing the new owner.
type holder struct {
	s     *Syncer
	ctx   context.Context
	lease store.Lease

	cancel   context.CancelCauseFunc
	done     chan struct{} // closed: stop renewing
	stopped  chan struct{} // closed when the renewer has returned
	stopOnce gosync.Once
	given    bool // the lease was given back (FinishRun with Release)
}

// hold starts renewing lease l; release must be called when the cycle ends.
func (s *Syncer) hold(ctx context.Context, l store.Lease) *holder {
	h := &holder{s: s, lease: l, done: make(chan struct{}), stopped: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancelCause(ctx)
	go h.renew()
	return h
}

func (h *holder) renew() {
	defer close(h.stopped)
	s, l := h.s, h.lease
	t := time.NewTicker(max(s.cfg.LeaseTTL/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
		}
		rctx, rcancel := context.WithTimeout(h.ctx, storeTimeout)
		_, err := s.cfg.Store.RenewLease(rctx, l, s.cfg.LeaseTTL)
		rcancel()
		switch {
		case errors.Is(err, store.ErrFenced):
			s.cfg.Logger.Warn().Str("integration", l.Name).Int64("token", l.Token).Msg("lease taken over by another worker; stopping this cycle")
			h.cancel(fmt.Errorf("integration %s: %w", l.Name, store.ErrFenced))
			return
		case err != nil && h.ctx.Err() == nil:
			// The lease may still be ours: keep trying until it expires;
			// the fencing token protects the store if it is not.
			s.cfg.Logger.Warn().Err(err).Str("integration", l.Name).Msg("renew lease")
		}
	}
}

// stopRenewing stops the renewer and waits for it, so that no renewal
// runs after the lease is given back. It reports whether the lease may
// still be ours (it was not found taken over).
func (h *holder) stopRenewing() bool {
	h.stopOnce.Do(func() { close(h.done) })
	<-h.stopped
	return !errors.Is(context.Cause(h.ctx), store.ErrFenced)
}

// released records that the lease was given back with the run's last write.
func (h *holder) released() { h.given = true }

// release ends the hold: it stops renewing and gives the lease back unless
// that happened already.
func (h *holder) release() {
	h.stopRenewing()
	h.cancel(nil)
	if h.given {
		return
	}
	rctx, rcancel := context.WithTimeout(context.Background(), storeTimeout)
	defer rcancel()
	if err := h.s.cfg.Store.ReleaseLease(rctx, h.lease); err != nil && !errors.Is(err, store.ErrFenced) {
		h.s.cfg.Logger.Warn().Err(err).Str("integration", h.lease.Name).Msg("release lease")
	}
}

package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// ReplaysStore is what Replays needs of the store.
type ReplaysStore interface {
	ReplayStore
	StartReplay(ctx context.Context, r *store.Replay) error
	RunningReplays(ctx context.Context) ([]string, error)
	CountReplay(ctx context.Context, account string, since, until time.Time, auditEnd int64) (audit, jobs int64, err error)
}

// Replays starts, runs, resumes and cancels replays. Run (in serve) runs
// every running replay of the store whose lease is free: at start (so a
// replay resumes after a restart or a crash, once the dead worker's lease
// expired), when Begin wakes it, and every interval.
type Replays struct {
	s     *Syncer
	st    ReplaysStore
	owner string
	ttl   time.Duration
	wake  chan struct{}
	now   func() time.Time

	mu      gosync.Mutex
	running map[string]bool
	wg      gosync.WaitGroup
}

// NewReplays returns the replay manager of a worker named owner.
func NewReplays(s *Syncer, st ReplaysStore, owner string, ttl time.Duration) *Replays {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &Replays{s: s, st: st, owner: owner, ttl: ttl, wake: make(chan struct{}, 1), now: s.cfg.Now, running: map[string]bool{}}
}

// Begin starts a replay of the integration's records in [since, until):
// what exists now (records ingested later go live only). It fails with
// siemsync.ErrConflict while a replay of it runs.
func (rp *Replays) Begin(ctx context.Context, in *siemsync.Integration, since, until time.Time) (store.Replay, error) {
	r := store.Replay{Integration: in.ID, Since: since.UTC(), Until: until.UTC()}
	if !in.Enabled {
		return r, siemsync.Invalid("enabled", "the integration is disabled: enable it, then replay")
	}
	if !since.Before(until) {
		return r, siemsync.Invalid("since", "must be before until")
	}
	end, err := rp.s.cfg.Store.MaxAuditSeq(ctx, in.Account)
	if err != nil {
		return r, fmt.Errorf("read the end of the log: %w", err)
	}
	r.AuditEnd = end
	audit, jobs, err := rp.st.CountReplay(ctx, in.Account, r.Since, r.Until, end)
	if err != nil {
		return r, err
	}
	if in.HasSource(siemsync.SourceAudit) {
		r.Total += audit
	}
	if in.HasSource(siemsync.SourceJobs) {
		r.Total += jobs
	}
	if err := rp.st.StartReplay(ctx, &r); err != nil {
		return r, err
	}
	rp.Wake()
	return r, nil
}

// Cancel stops the integration's running replay: its runner stops after
// the batch it is sending.
func (rp *Replays) Cancel(ctx context.Context, id string) error {
	err := rp.st.FinishReplay(ctx, id, store.ReplayCancelled, "cancelled")
	if errors.Is(err, store.ErrReplayStopped) {
		return fmt.Errorf("no replay of this integration is running: %w", siemsync.ErrConflict)
	}
	return err
}

// Get returns the integration's current or last replay with its progress.
func (rp *Replays) Get(ctx context.Context, id string) (store.ReplayStatus, error) {
	r, err := rp.st.GetReplay(ctx, id)
	if err != nil {
		return store.ReplayStatus{}, err
	}
	return store.Progress(r, rp.now()), nil
}

// Wake makes Run look for replays to run now.
func (rp *Replays) Wake() {
	select {
	case rp.wake <- struct{}{}:
	default:
	}
}

// Run runs replays until ctx ends, then waits for the ones it started
// (they stop after their batch in flight; their cursors keep what was
// delivered).
func (rp *Replays) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rp.startDue(ctx)
		select {
		case <-ctx.Done():
			rp.wg.Wait()
			return
		case <-t.C:
		case <-rp.wake:
		}
	}
}

func (rp *Replays) startDue(ctx context.Context) {
	ids, err := rp.st.RunningReplays(ctx)
	if err != nil {
		if ctx.Err() == nil {
			rp.s.cfg.Logger.Warn().Err(err).Msg("list running replays")
		}
		return
	}
	for _, id := range ids {
		rp.mu.Lock()
		busy := rp.running[id]
		if !busy {
			rp.running[id] = true
			rp.wg.Add(1)
		}
		rp.mu.Unlock()
		if busy {
			continue
		}
		go func() {
			defer func() {
				rp.mu.Lock()
				delete(rp.running, id)
				rp.mu.Unlock()
				rp.wg.Done()
			}()
			err := rp.s.RunReplay(ctx, rp.st, id, rp.owner, rp.ttl)
			if err != nil && !errors.Is(err, store.ErrLeaseHeld) && ctx.Err() == nil {
				rp.s.cfg.Logger.Warn().Err(err).Str("integration", id).Msg("replay stopped; it resumes from its cursor")
			}
		}()
	}
}

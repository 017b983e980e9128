package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
)

// DefaultSchedule is how often every enabled integration is synced.
const DefaultSchedule = "@every 5m"

// Scheduler runs a cycle of every enabled integration on a cron schedule.
// The set of enabled integrations is read at every tick, so changes made in
// the admin page or API take effect from the next tick without a restart.
//
// A tick only starts cycles; a pool of concurrency slots runs them. An
// integration whose cycle is still running is skipped, so one slow
// integration (a large backlog, a destination that hangs until the cycle
// timeout) never delays the cycles of the others.
type Scheduler struct {
	syncer *Syncer
	cron   *cron.Cron
	slots  chan struct{} // one per cycle allowed to run at once
	log    zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	quit   chan struct{}    // closed by Stop: no new cycles
	wg     gosync.WaitGroup // the first tick and every cycle started
}

// NewScheduler parses spec (a cron expression or "@every 5m").
func NewScheduler(s *Syncer, spec string, concurrency int, log zerolog.Logger) (*Scheduler, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("parse schedule %q: %w", spec, err)
	}
	if concurrency < 1 {
		concurrency = DefaultConcurrency
	}
	// A tick waits for free slots while the pool is full; the next tick is
	// then skipped rather than queued behind it.
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	sc := &Scheduler{syncer: s, cron: c, slots: make(chan struct{}, concurrency), log: log}
	c.Schedule(sched, cron.FuncJob(sc.tick))
	return sc, nil
}

// Start runs the schedule, and one tick right away, until Stop. Cycles run
// under ctx: cancelling it abandons in-flight batches (their checkpoints do
// not move, so they are sent again next time).
func (sc *Scheduler) Start(ctx context.Context) {
	sc.ctx, sc.cancel = context.WithCancel(ctx)
	sc.quit = make(chan struct{})
	sc.cron.Start()
	sc.wg.Go(sc.tick)
	sc.wg.Go(func() { sc.watch(DefaultWatchEvery) })
}

// Stop stops scheduling, lets running cycles finish the batch they are
// sending (and no other) for up to grace, then cancels them and waits for
// them to return.
func (sc *Scheduler) Stop(grace time.Duration) {
	sc.syncer.Drain()
	close(sc.quit)
	done := sc.cron.Stop()
	waited := make(chan struct{})
	go func() {
		<-done.Done()
		sc.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(grace):
		sc.log.Warn().Dur("grace_ms", grace).Msg("cycles still running after the grace period; abandoning their in-flight batches")
		sc.cancel()
		<-waited
	}
	sc.cancel()
}

// tick starts a cycle of every enabled integration that is not running
// yet. It returns once they are started, not when they finish.
func (sc *Scheduler) tick() {
	if sc.ctx.Err() != nil {
		return
	}
	ids, err := sc.syncer.cfg.Store.EnabledIntegrationIDs(sc.ctx)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			sc.log.Error().Err(err).Msg("scheduled sync: list enabled integrations")
		}
		return
	}
	started, running := 0, 0
	for _, id := range ids {
		if sc.syncer.isRunning(id) {
			running++
			continue
		}
		if !sc.startCycle(id) {
			return
		}
		started++
	}
	sc.log.Debug().Int("started", started).Int("still_running", running).Msg("sync tick")
}

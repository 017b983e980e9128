package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
)

// DefaultSchedule is how often every enabled integration is synced.
const DefaultSchedule = "@every 5m"

// Scheduler runs a cycle of every enabled integration on a cron schedule.
// The set of enabled integrations is read at every tick, so changes made in
// the admin page or API take effect from the next tick without a restart.
type Scheduler struct {
	syncer      *Syncer
	cron        *cron.Cron
	concurrency int
	log         zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     gosync.WaitGroup
}

// NewScheduler parses spec (a cron expression or "@every 5m").
func NewScheduler(s *Syncer, spec string, concurrency int, log zerolog.Logger) (*Scheduler, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("parse schedule %q: %w", spec, err)
	}
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	sc := &Scheduler{syncer: s, cron: c, concurrency: concurrency, log: log}
	c.Schedule(sched, cron.FuncJob(sc.tick))
	return sc, nil
}

// Start runs the schedule, and one tick right away, until Stop. Cycles run
// under ctx: cancelling it abandons in-flight batches (their checkpoints do
// not move, so they are sent again next time).
func (sc *Scheduler) Start(ctx context.Context) {
	sc.ctx, sc.cancel = context.WithCancel(ctx)
	sc.cron.Start()
	sc.wg.Go(sc.tick)
}

// Stop stops scheduling, lets running cycles finish the batch they are
// sending (and no other) for up to grace, then cancels them and waits for
// them to return.
func (sc *Scheduler) Stop(grace time.Duration) {
	sc.syncer.Drain()
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
		sc.log.Warn().Dur("grace", grace).Msg("cycles still running after the grace period; abandoning their in-flight batches")
		sc.cancel()
		<-waited
	}
	sc.cancel()
}

func (sc *Scheduler) tick() {
	if sc.ctx.Err() != nil {
		return
	}
	results, err := sc.syncer.RunAll(sc.ctx, nil, sc.concurrency)
	if err != nil && !errors.Is(err, context.Canceled) {
		sc.log.Error().Err(err).Msg("scheduled sync")
	}
	var ok, failed, busy int
	for _, r := range results {
		switch {
		case r.Err == nil:
			ok++
		case errors.Is(r.Err, siemsync.ErrRunning):
			busy++
		default:
			failed++
		}
	}
	sc.log.Debug().Int("ok", ok).Int("failed", failed).Int("still_running", busy).Msg("sync tick")
}

package sync

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync/store"
)

// DefaultSchedule is how often every enabled integration is synced.
const DefaultSchedule = "@every 5m"

// DefaultPoll is how often a scheduler looks for due integrations. A new
// or re-enabled integration is due at once, so its first cycle starts
// within this time.
const DefaultPoll = time.Second

// Scheduler runs the cycles of due integrations. Due work lives in the
// store, not in this process: every integration has a next_due_at, and the
// scheduler of every worker repeatedly leases due integrations, as many as
// it has free slots. A cycle ends by setting next_due_at from the cron
// schedule. Adding a worker adds capacity; two workers never run one
// integration at once, and a dead worker's integrations are leased by
// another once its leases expire.
//
// One slow integration (a large backlog, a destination that hangs until the
// cycle timeout) holds one slot and never delays the others.
type Scheduler struct {
	syncer *Syncer
	slots  chan struct{} // one per cycle allowed to run at once
	poll   time.Duration
	wake   chan struct{}
	stop   chan struct{} // closed by Stop: no more leasing
	// more: the last look leased as many as it had slots, so more may be
	// due; a slot that frees then looks again at once instead of at the
	// next poll (a backlog of due integrations is worked off at the speed
	// of the cycles, not one look per poll).
	more    atomic.Bool
	onCycle func(Result)
	log     zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	loop   chan struct{}    // closed when the polling loop returns
	wg     gosync.WaitGroup // every runner started
	// work hands leased cycles to idle runners. Runners outlive their
	// cycles: a goroutine per cycle grew its stack from the smallest size,
	// copying it several times, in every cycle.
	work    chan job
	runners atomic.Int32 // started, at most one per slot
}

// NewScheduler parses spec (a cron expression or "@every 5m"); the Syncer
// then sets next_due_at from it after every cycle.
func NewScheduler(s *Syncer, spec string, concurrency int, log zerolog.Logger) (*Scheduler, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("parse schedule %q: %w", spec, err)
	}
	if concurrency < 1 {
		concurrency = DefaultConcurrency
	}
	s.cfg.Schedule = sched
	return &Scheduler{syncer: s, slots: make(chan struct{}, concurrency), poll: DefaultPoll,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), work: make(chan job), log: log}, nil
}

// SetPoll sets how often the scheduler looks for due work when nothing
// wakes it (DefaultPoll). Call it before Start.
func (sc *Scheduler) SetPoll(d time.Duration) { sc.poll = d }

// OnCycle has fn called with the result of every cycle the scheduler runs
// (the bench counts them). Call it before Start.
func (sc *Scheduler) OnCycle(fn func(Result)) { sc.onCycle = fn }

// Start looks for due work now and then every poll interval, until Stop.
// Cycles run under ctx: cancelling it abandons in-flight batches (their
// checkpoints do not move, so they are sent again next time).
func (sc *Scheduler) Start(ctx context.Context) {
	sc.ctx, sc.cancel = context.WithCancel(ctx)
	sc.loop = make(chan struct{})
	go sc.run()
}

// Wake makes the scheduler look for due work now, e.g. right after an
// integration was created or enabled.
func (sc *Scheduler) Wake() {
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

func (sc *Scheduler) run() {
	defer close(sc.loop)
	t := time.NewTicker(sc.poll)
	defer t.Stop()
	for {
		sc.startDue()
		select {
		case <-sc.ctx.Done():
			return
		case <-sc.stop:
			return
		case <-t.C:
		case <-sc.wake:
		}
	}
}

// Stop stops leasing, lets running cycles finish the batches they are
// sending (and no other) for up to grace, then cancels them and waits for
// them to return.
func (sc *Scheduler) Stop(grace time.Duration) {
	sc.syncer.Drain()
	close(sc.stop)
	waited := make(chan struct{})
	go func() {
		<-sc.loop
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

// startDue leases as many due integrations as there are free slots and
// starts their cycles. Only this goroutine fills slots, so the count of
// free ones cannot go stale before the cycles start.
func (sc *Scheduler) startDue() {
	for sc.leaseDue() {
	}
}

// job is a leased integration and its cycle's start, made with the
// others leased with it.
type job struct {
	l     store.Lease
	start *started
}

// dispatch hands j to an idle runner, or to a new one while there are
// fewer runners than slots. With a runner per slot, one is on its way
// back for work: j holds a slot, so not every runner is busy.
func (sc *Scheduler) dispatch(j job) {
	select {
	case sc.work <- j:
		return
	default:
	}
	for n := sc.runners.Load(); int(n) < cap(sc.slots); n = sc.runners.Load() {
		if sc.runners.CompareAndSwap(n, n+1) {
			sc.wg.Go(func() { sc.runner(j) })
			return
		}
	}
	select {
	case sc.work <- j:
	case <-sc.stop: // the lease expires unused and the run stays open, as after a crash
		<-sc.slots
	case <-sc.ctx.Done():
		<-sc.slots
	}
}

// start begins the cycles of leases, which hold a slot each, together and
// hands each to a runner.
func (sc *Scheduler) start(leases []store.Lease) {
	starts := sc.syncer.beginCycles(sc.ctx, leases)
	for i, l := range leases {
		sc.dispatch(job{l: l, start: starts[i]})
	}
}

// runner runs the cycle of j, then the cycles handed to it, until Stop.
func (sc *Scheduler) runner(j job) {
	for {
		sc.runCycle(j)
		select {
		case j = <-sc.work:
		case <-sc.stop:
			return
		case <-sc.ctx.Done():
			return
		}
	}
}

// runCycle runs the cycle of j in its slot and gives the slot back.
func (sc *Scheduler) runCycle(j job) {
	defer func() {
		<-sc.slots
		// A look per freed slot would be a store write per cycle: look
		// when an eighth of the slots are free.
		if sc.more.Load() && cap(sc.slots)-len(sc.slots) >= max(1, cap(sc.slots)/8) {
			sc.Wake()
		}
	}()
	res := sc.syncer.cycleLeased(sc.ctx, j.l, j.start)
	if sc.onCycle != nil {
		sc.onCycle(res)
	}
}

// leaseDue leases due integrations for the largest power of two of free
// slots (a store may prepare a statement per limit, as PostgreSQL does) and
// starts their cycles. It reports whether it got all it asked for and an
// eighth of the slots is still free: worth another look at once.
func (sc *Scheduler) leaseDue() bool {
	free := cap(sc.slots) - len(sc.slots)
	if free == 0 || sc.ctx.Err() != nil || sc.syncer.draining.Load() {
		return false
	}
	free = 1 << (bits.Len(uint(free)) - 1)
	cfg := sc.syncer.cfg
	leases, err := cfg.Store.LeaseDue(sc.ctx, cfg.Owner, cfg.LeaseTTL, free)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			sc.log.Error().Err(err).Msg("lease due integrations")
		}
		return false
	}
	sc.more.Store(len(leases) == free)
	for range leases {
		sc.slots <- struct{}{}
	}
	if len(leases) > 0 {
		// Off the polling loop, which leases the next slots' worth while
		// the store starts these.
		sc.wg.Go(func() { sc.start(leases) })
	}
	left := cap(sc.slots) - len(sc.slots)
	if len(leases) > 0 {
		sc.log.Debug().Int("started", len(leases)).Int("free_slots", left).Msg("leased due integrations")
	}
	return len(leases) == free && left >= max(1, cap(sc.slots)/8)
}

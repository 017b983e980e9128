package sync_test

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
	ssync "github.com/siemsync/siemsync/sync"
)

// TestFeatureOffRefusesCycles: with the account's SIEM feature off, no
// cycle runs (not even a failed run is recorded) and the checkpoint stays;
// turned on again, the integration sends what happened meanwhile.
func TestFeatureOffRefusesCycles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.integration(t, acctA, nil)
	b.audit(t, acctA, "a", "b")
	if err := b.db.SetSIEMEnabled(t.Context(), acctA, false); err != nil {
		t.Fatal(err)
	}
	cp, _ := b.db.Checkpoints(t.Context(), id)
	res := b.s.Cycle(t.Context(), id)
	if !errors.Is(res.Err, ssync.ErrFeatureOff) || b.sink.sends != 0 {
		t.Fatalf("cycle with the feature off: %v, %d sends", res.Err, b.sink.sends)
	}
	if results, _ := b.s.RunAll(t.Context(), nil, 4); len(results) != 0 {
		t.Fatalf("RunAll ran %+v with the feature off", results)
	}
	if runs, _ := b.db.RecentRuns(t.Context(), id, 10); len(runs) != 0 {
		t.Fatalf("runs recorded: %+v", runs)
	}
	if after, _ := b.db.Checkpoints(t.Context(), id); after.Audit != cp.Audit {
		t.Fatalf("checkpoint moved %d -> %d", cp.Audit, after.Audit)
	}
	if err := b.db.SetSIEMEnabled(t.Context(), acctA, true); err != nil {
		t.Fatal(err)
	}
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 2 {
		t.Fatalf("after turning it on: %+v", res)
	}
}

// TestSchedulerStartsNewIntegrationAtOnce: with ticks an hour apart, an
// integration created (or enabled) while the scheduler runs gets its first
// cycle within seconds.
func TestSchedulerStartsNewIntegrationAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc, err := ssync.NewScheduler(b.s, "@every 1h", 4, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	sc.Start(context.Background())
	defer sc.Stop(10 * time.Second)
	time.Sleep(ssync.DefaultPoll + time.Second) // the first tick and first look are over

	waitRun := func(id string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !finishedRun(t, b.db, id) {
			if time.Now().After(deadline) {
				t.Fatalf("integration %s: no cycle within 20 s of its creation or enable, with ticks an hour apart", id)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	created := b.integration(t, acctA, nil)
	waitRun(created)

	if err := b.db.SetEnabled(t.Context(), created, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ssync.DefaultPoll + time.Second) // seen disabled
	b.audit(t, acctA, "while-off")
	if err := b.db.SetEnabled(t.Context(), created, true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for b.sink.count() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("re-enabled integration: no cycle within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSchedulerWorksOffABacklog: with more integrations due than slots, a
// slot that frees leases the next due integration at once. With looks an
// hour apart, only the first look's two cycles would ever run otherwise
// (in serve, 10,000 due integrations took one look — 32 cycles — per
// second).
func TestSchedulerWorksOffABacklog(t *testing.T) {
	t.Parallel()
	// 7 slots: looks ask for powers of two (4, 2, 1), and the slots
	// beyond the first look's are filled at once, not when a cycle ends.
	for _, slots := range []int{2, 7} {
		t.Run(fmt.Sprint(slots, " slots"), func(t *testing.T) {
			t.Parallel()
			workOffBacklog(t, slots)
		})
	}
}

func workOffBacklog(t *testing.T, slots int) {
	b := setup(t)
	const n = 12
	ids := make([]string, n)
	for i := range ids {
		ids[i] = b.integration(t, acctA, nil)
		b.audit(t, acctA, fmt.Sprintf("backlog-%d", i))
	}
	var running, most atomic.Int32
	// The first sends wait at the gate until every slot has a cycle: with
	// none finishing, only the scheduler's first looks can fill them.
	gate := make(chan struct{})
	b.sink.SendFunc = func([]byte, int) error {
		now := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		<-gate
		time.Sleep(5 * time.Millisecond)
		return nil
	}
	sc, err := ssync.NewScheduler(b.s, "@every 1h", slots, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	sc.SetPoll(time.Hour)
	sc.Start(context.Background())
	defer sc.Stop(10 * time.Second)
	release := gosync.OnceFunc(func() { close(gate) })
	defer release() // before Stop, also when the test fails

	deadline := time.Now().Add(30 * time.Second)
	for running.Load() < int32(slots) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slots filled: a look that got all it asked for did not look again for the free ones", running.Load(), slots)
		}
		time.Sleep(5 * time.Millisecond)
	}
	release()
	for _, id := range ids {
		for !finishedRun(t, b.db, id) {
			if time.Now().After(deadline) {
				t.Fatalf("integration %s never ran: a freed slot did not lease the next due integration", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if m := most.Load(); m > int32(slots) {
		t.Errorf("%d cycles sent at once, want at most the %d slots", m, slots)
	}
	// The cycles ran on at most a runner per slot, reused from cycle to cycle.
	if r := sc.Runners(); r < 1 || r > slots {
		t.Errorf("%d runners for %d cycles, want 1 to %d (one per slot)", r, n, slots)
	}
}

// startCounter counts how the scheduler asks the store to start cycles.
type startCounter struct {
	*sqlite.DB
	alone  atomic.Int32 // BeginCycle calls
	calls  atomic.Int32 // BeginCycles calls
	leases atomic.Int32 // leases BeginCycles started
}

func (s *startCounter) BeginCycle(ctx context.Context, l store.Lease, started time.Time, page int) (store.CycleStart, error) {
	s.alone.Add(1)
	return s.DB.BeginCycle(ctx, l, started, page)
}

func (s *startCounter) BeginCycles(ctx context.Context, ls []store.Lease, started time.Time, page int) ([]store.CycleStart, []error) {
	s.calls.Add(1)
	s.leases.Add(int32(len(ls)))
	return s.DB.BeginCycles(ctx, ls, started, page)
}

// TestSchedulerStartsLeasedCyclesTogether: the integrations one look
// leases have their cycles started in one store call (one round trip on
// PostgreSQL), and each cycle then sends its own records.
func TestSchedulerStartsLeasedCyclesTogether(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = b.integration(t, acctA, nil)
	}
	b.audit(t, acctA, "together")
	counter := &startCounter{DB: b.db}
	s := ssync.New(ssync.Config{
		Store: counter, Hostname: "eu-1.example.net", PageSize: 7,
		Open:   func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
		Logger: zerolog.New(zerolog.NewTestWriter(t)),
	})
	sc, err := ssync.NewScheduler(s, "@every 1h", n, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	sc.SetPoll(time.Hour)
	sc.Start(context.Background())
	defer sc.Stop(10 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for !finishedRun(t, b.db, id) {
			if time.Now().After(deadline) {
				t.Fatalf("integration %s never ran", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if a, c, l := counter.alone.Load(), counter.calls.Load(), counter.leases.Load(); a != 0 || c != 1 || l != n {
		t.Errorf("%d cycles started alone and %d calls started %d; want the %d leased by the one look started in one call", a, c, l, n)
	}
	b.sink.deliveredEach(t, []string{"together"}, n)
}

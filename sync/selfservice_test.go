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

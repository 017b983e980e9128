package storetest

import (
	"errors"
	"fmt"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func testLeases(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "l"))
	before := time.Now().Truncate(time.Millisecond)
	a := f.acquire(in.ID, "worker-a", time.Minute)
	if a.Name != in.ID || a.Owner != "worker-a" || a.Token <= 0 || a.Expires.Before(before.Add(time.Minute)) {
		t.Errorf("lease = %+v", a)
	}
	// Held: nobody takes it, not even its owner (one cycle at a time).
	for _, owner := range []string{"worker-b", "worker-a"} {
		_, err := f.b.AcquireLease(ctx, in.ID, owner, time.Minute)
		if !errors.Is(err, store.ErrLeaseHeld) || !errors.Is(err, siemsync.ErrRunning) {
			t.Errorf("acquire of a held lease by %s = %v, want ErrLeaseHeld (ErrRunning)", owner, err)
		}
	}
	renewed, err := f.b.RenewLease(ctx, a, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Token != a.Token || renewed.Owner != a.Owner || !renewed.Expires.After(a.Expires) {
		t.Errorf("renewed %+v from %+v", renewed, a)
	}
	// Deployment-wide names are leases like any other, and independent.
	p := f.acquire(store.PruneLease, "worker-b", time.Minute)
	if _, err := f.b.AcquireLease(ctx, store.PruneLease, "worker-a", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("second prune lease = %v, want ErrLeaseHeld", err)
	}
	if err := f.b.ReleaseLease(ctx, p); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"no owner":  func() error { _, err := f.b.AcquireLease(ctx, "x", "", time.Minute); return err }(),
		"no name":   func() error { _, err := f.b.AcquireLease(ctx, "", "w", time.Minute); return err }(),
		"zero ttl":  func() error { _, err := f.b.AcquireLease(ctx, "x", "w", 0); return err }(),
		"renew ttl": func() error { _, err := f.b.RenewLease(ctx, renewed, -time.Second); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Refused acquires changed nothing: the first lease is still current.
	if _, err := f.b.RenewLease(ctx, renewed, time.Minute); err != nil {
		t.Errorf("renew after refused acquires = %v", err)
	}
}

func testLeaseExpiry(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "x"))
	const ttl = 30 * time.Millisecond

	// Expired and not taken: its holder may renew it.
	a := f.acquire(in.ID, "worker-a", ttl)
	waitExpired(a)
	a, err := f.b.RenewLease(ctx, a, time.Minute)
	if err != nil {
		t.Fatalf("renew of an expired lease nobody took = %v", err)
	}
	if _, err := f.b.AcquireLease(ctx, in.ID, "worker-b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("acquire of a renewed lease = %v, want ErrLeaseHeld", err)
	}

	// Expired: another worker takes it over with a greater token, and the
	// old holder can neither renew nor release it.
	a, err = f.b.RenewLease(ctx, a, ttl)
	if err != nil {
		t.Fatal(err)
	}
	waitExpired(a)
	b := f.acquire(in.ID, "worker-b", time.Minute)
	if b.Token <= a.Token || b.Owner != "worker-b" {
		t.Errorf("takeover lease %+v after %+v", b, a)
	}
	if _, err := f.b.RenewLease(ctx, a, time.Minute); !errors.Is(err, store.ErrFenced) {
		t.Errorf("renew of a lease taken over = %v, want ErrFenced", err)
	}
	if err := f.b.ReleaseLease(ctx, a); !errors.Is(err, store.ErrFenced) {
		t.Errorf("release of a lease taken over = %v, want ErrFenced", err)
	}
	// ... and b still holds it.
	if _, err := f.b.AcquireLease(ctx, in.ID, "worker-c", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("acquire after the stale release = %v, want ErrLeaseHeld", err)
	}
	if _, err := f.b.RenewLease(ctx, b, time.Minute); err != nil {
		t.Errorf("renew by the new holder = %v", err)
	}
}

func testLeaseRelease(t *testing.T, f *fixture) {
	ctx := t.Context()
	a := f.acquire("deployment:test", "worker-a", time.Hour)
	if err := f.b.ReleaseLease(ctx, a); err != nil {
		t.Fatal(err)
	}
	// Free at once, and the token never goes back.
	b := f.acquire("deployment:test", "worker-b", time.Hour)
	if b.Token <= a.Token {
		t.Errorf("token after release %d, before %d", b.Token, a.Token)
	}
	if err := f.b.ReleaseLease(ctx, a); !errors.Is(err, store.ErrFenced) {
		t.Errorf("release of an old lease = %v, want ErrFenced", err)
	}
	if err := f.b.ReleaseLease(ctx, b); err != nil {
		t.Fatal(err)
	}
	c := f.acquire("deployment:test", "worker-a", time.Hour)
	if c.Token <= b.Token {
		t.Errorf("tokens %d then %d", b.Token, c.Token)
	}
}

// Many goroutines race for one lease: exactly one wins, the others are told
// it is held.
func testConcurrentAcquire(t *testing.T, f *fixture) {
	const n = 16
	var wg gosync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = f.b.AcquireLease(t.Context(), "deployment:race", fmt.Sprintf("worker-%d", i), time.Minute)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrLeaseHeld):
			t.Errorf("acquire = %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d acquires won, want 1", won)
	}
}

// Many schedulers lease due work at once: every integration is leased
// exactly once.
func testConcurrentLeaseDue(t *testing.T, f *fixture) {
	const integrations, workers = 24, 8
	want := map[string]bool{}
	for i := range integrations {
		want[f.create(hecIntegration(acctA, fmt.Sprint("due-", i))).ID] = true
	}
	var (
		wg  gosync.WaitGroup
		mu  gosync.Mutex
		got = map[string][]string{} // integration -> owners that leased it
	)
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			for {
				leases, err := f.b.LeaseDue(t.Context(), owner, time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(leases) == 0 {
					return
				}
				if len(leases) > 3 {
					t.Errorf("LeaseDue(limit 3) gave %d", len(leases))
				}
				mu.Lock()
				for _, l := range leases {
					if l.Owner != owner || l.Token <= 0 {
						t.Errorf("lease %+v of %s", l, owner)
					}
					got[l.Name] = append(got[l.Name], owner)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id := range want {
		if len(got[id]) != 1 {
			t.Errorf("integration %s leased by %v, want exactly one worker", id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d integrations leased, want %d", len(got), len(want))
	}
}

func testDueWork(t *testing.T, f *fixture) {
	ctx := t.Context()
	now := time.Now()
	first := f.create(hecIntegration(acctA, "first"))
	second := f.create(hecIntegration(acctB, "second"))
	fresh := f.create(hecIntegration(acctA, "fresh")) // due at creation
	later := f.create(hecIntegration(acctA, "later"))
	off := f.create(hecIntegration(acctA, "off"))
	if err := f.b.SetEnabled(ctx, off.ID, false); err != nil {
		t.Fatal(err)
	}
	for id, at := range map[string]time.Time{
		first.ID:  now.Add(-2 * time.Hour),
		second.ID: now.Add(-time.Hour),
		later.ID:  now.Add(time.Hour),
		off.ID:    now.Add(-3 * time.Hour), // disabled: never due
	} {
		if err := f.b.SetNextDue(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.b.SetNextDue(ctx, unknown, now); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("SetNextDue of an unknown integration = %v, want ErrNotFound", err)
	}

	leaseDue := func(limit int) []string {
		t.Helper()
		leases, err := f.b.LeaseDue(ctx, "worker-a", time.Minute, limit)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range leases {
			names = append(names, l.Name)
		}
		return names
	}
	if got := leaseDue(2); !slices.Equal(got, []string{first.ID, second.ID}) {
		t.Errorf("LeaseDue(2) = %v, want the two longest due in order [first second]", got)
	}
	if got := leaseDue(0); len(got) != 0 {
		t.Errorf("LeaseDue(0) = %v", got)
	}
	// Leased ones are not due again while their lease holds.
	if got := leaseDue(10); !slices.Equal(got, []string{fresh.ID}) {
		t.Errorf("LeaseDue = %v, want [fresh]", got)
	}
	if got := leaseDue(10); len(got) != 0 {
		t.Errorf("LeaseDue with nothing due = %v", got)
	}

	// Enabling makes an integration due now; SetNextDue with the zero time too.
	if err := f.b.SetEnabled(ctx, off.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.b.SetNextDue(ctx, later.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := leaseDue(10); len(got) != 2 || !slices.Contains(got, off.ID) || !slices.Contains(got, later.ID) {
		t.Errorf("LeaseDue = %v, want [off later]", got)
	}

	// A lease LeaseDue gave is a lease: held against AcquireLease.
	if _, err := f.b.AcquireLease(ctx, first.ID, "worker-b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("AcquireLease of a leased due integration = %v, want ErrLeaseHeld", err)
	}
	// And a held lease keeps an integration from LeaseDue: acquire one
	// that is due, it is not handed out.
	if err := f.b.SetNextDue(ctx, fresh.ID, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := leaseDue(10); len(got) != 0 {
		t.Errorf("LeaseDue handed out held leases: %v", got)
	}
}

// A cycle whose lease was taken over is refused every write, and its
// refused writes change nothing.
func testFencing(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "f"))
	a := f.acquire(in.ID, "worker-a", 30*time.Millisecond)
	runA := f.startRun(a)
	sa := []store.SetAside{{Source: "audit", Seq: 3, EventID: "e3", Reason: "bad"}}
	if err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: runA, Integration: in.ID, Token: a.Token, Source: "audit",
		Checkpoint: 5, Events: 5, Accepted: []store.Range{{Lo: 8, Hi: 9}}}); err != nil {
		t.Fatal(err)
	}
	waitExpired(a)
	b := f.acquire(in.ID, "worker-b", time.Minute)
	cpBefore := f.checkpoints(in.ID)

	stale := []struct {
		name string
		err  error
	}{
		{"BeginCycle", func() error { _, err := f.b.BeginCycle(ctx, a, time.Now(), 10); return err }()},
		{"CommitBatch", f.b.CommitBatch(ctx, store.BatchCommit{RunID: runA, Integration: in.ID, Token: a.Token, Source: "audit",
			Checkpoint: 50, Events: 45, Accepted: []store.Range{{Lo: 60, Hi: 70}}, SetAside: sa})},
		{"CommitBatch jobs", f.b.CommitBatch(ctx, store.BatchCommit{RunID: runA, Integration: in.ID, Token: a.Token, Source: "jobs",
			Checkpoint: 50, Events: 1})},
		{"FinishRun", f.b.FinishRun(ctx, store.RunFinish{RunID: runA, Integration: in.ID, Token: a.Token,
			Finished: time.Now(), NextDue: time.Now().Add(time.Hour)})},
		{"token 0 once leased", f.b.CommitBatch(ctx, store.BatchCommit{RunID: runA, Integration: in.ID, Source: "audit", Checkpoint: 50})},
		{"a future token", f.b.CommitBatch(ctx, store.BatchCommit{RunID: runA, Integration: in.ID, Token: b.Token + 1, Source: "audit", Checkpoint: 50})},
	}
	for _, s := range stale {
		if !errors.Is(s.err, store.ErrFenced) {
			t.Errorf("%s with a stale token = %v, want ErrFenced", s.name, s.err)
		}
	}
	if cp := f.checkpoints(in.ID); cp.Audit != cpBefore.Audit || cp.Jobs != cpBefore.Jobs ||
		!slices.Equal(cp.AuditAccepted, []store.Range{{Lo: 8, Hi: 9}}) || cp.JobsAccepted != nil {
		t.Errorf("checkpoints after refused writes = %+v, want %+v", cp, cpBefore)
	}
	runs := f.runs(in.ID)
	if len(runs) != 1 || runs[0].Finished != nil || runs[0].Events != 5 || runs[0].SetAside != 0 {
		t.Errorf("runs after refused writes = %+v, want the one unfinished run of 5 events", runs)
	}
	if list, err := f.b.ListSetAside(ctx, in.ID); err != nil || len(list) != 0 {
		t.Errorf("set-aside after a refused commit = %v, %v", list, err)
	}
	if st := f.get(in.ID).Status; st.LastComplete != nil || st.LastWorker != "" {
		t.Errorf("status after a refused finish = %+v", st)
	}
	// Due work was not moved by the refused finish: once b is done without
	// a next due time, the integration is due again.
	if err := f.b.ReleaseLease(ctx, b); err != nil {
		t.Fatal(err)
	}
	leases, err := f.b.LeaseDue(ctx, "worker-c", time.Minute, 10)
	if err != nil || len(leases) != 1 || leases[0].Name != in.ID || leases[0].Token <= b.Token {
		t.Errorf("LeaseDue after the refused finish = %+v, %v", leases, err)
	}

	// The worker holding the current lease writes as usual.
	c := leases[0]
	runC := f.startRun(c)
	if err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: runC, Integration: in.ID, Token: c.Token, Source: "audit", Checkpoint: 9, Events: 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.b.FinishRun(ctx, store.RunFinish{RunID: runC, Integration: in.ID, Token: c.Token, Finished: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if cp := f.checkpoints(in.ID); cp.Audit != 9 || cp.AuditAccepted != nil {
		t.Errorf("checkpoints after the current worker's commit = %+v", cp)
	}
}

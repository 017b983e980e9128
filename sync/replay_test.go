package sync_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sink"
	"github.com/siemsync/siemsync/store"
	ssync "github.com/siemsync/siemsync/sync"
)

// auditAt ingests records of acctA that occurred at the given times.
func (b *bundle) auditAt(t *testing.T, prefix string, times ...time.Time) []string {
	t.Helper()
	ing, err := b.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, at := range times {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		if _, err := ing.Audit(&siemsync.Audit{ID: id, Account: acctA, Time: at, Event: "Sign in"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := ing.Commit(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func minutes(base time.Time, from, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = base.Add(time.Duration(from+i) * time.Minute)
	}
	return out
}

// startReplay starts a replay of [since, until) as the API does.
func (b *bundle) startReplay(t *testing.T, id string, since, until time.Time) store.Replay {
	t.Helper()
	end, err := b.db.MaxAuditSeq(t.Context(), acctA)
	if err != nil {
		t.Fatal(err)
	}
	audit, jobs, err := b.db.CountReplay(t.Context(), acctA, since, until, end)
	if err != nil {
		t.Fatal(err)
	}
	r := store.Replay{Integration: id, Since: since, Until: until, AuditEnd: end, Total: audit + jobs}
	if err := b.db.StartReplay(t.Context(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReplaySendsTheWindowBesideTheCheckpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	b.auditAt(t, "before", minutes(base, 0, 10)...)
	window := b.auditAt(t, "in", minutes(base, 10, 10)...)
	b.auditAt(t, "after", minutes(base, 20, 10)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.BackfillSince = nil; in.MaxBatchEvents = 3 })
	cpBefore, _ := b.db.Checkpoints(t.Context(), id)

	r := b.startReplay(t, id, base.Add(10*time.Minute), base.Add(20*time.Minute))
	if r.Total != 10 {
		t.Fatalf("total %d, want 10", r.Total)
	}
	// Records arriving after the start go live, not into the replay.
	b.auditAt(t, "late-in-window", base.Add(15*time.Minute))
	if err := b.s.RunReplay(t.Context(), b.db, id, "w1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(b.sink.delivered) != 10 {
		t.Fatalf("delivered %v, want the 10 records of the window", b.sink.delivered)
	}
	b.sink.deliveredEach(t, window, 1)
	got, _ := b.db.GetReplay(t.Context(), id)
	if got.State != store.ReplayDone || got.Sent != 10 || got.Finished == nil {
		t.Errorf("replay %+v", got)
	}
	if cp, _ := b.db.Checkpoints(t.Context(), id); cp.Audit != cpBefore.Audit || cp.Jobs != cpBefore.Jobs {
		t.Errorf("the replay moved the checkpoint: %+v -> %+v", cpBefore, cp)
	}
	// The live cycle is untouched: it sends the late record, once.
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 1 || b.sink.delivered["late-in-window-000"] != 1 {
		t.Fatalf("live cycle after the replay: %+v", res)
	}
}

func TestReplayResumesFromItsCursorAndCancels(t *testing.T) {
	t.Parallel()
	b := setup(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	window := b.auditAt(t, "in", minutes(base, 0, 20)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.BackfillSince = nil; in.MaxBatchEvents = 4 })
	b.startReplay(t, id, base, base.Add(time.Hour))

	sends := 0
	b.sink.SendFunc = func([]byte, int) error {
		if sends++; sends > 2 {
			return &sink.Error{Class: sink.Retry, Msg: "down"}
		}
		return nil
	}
	quick := ssync.New(ssync.Config{
		Store: b.db, Hostname: "h", PageSize: 7, RetryBudget: 50 * time.Millisecond,
		Open:    func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
		Backoff: func(int) time.Duration { return time.Millisecond },
	})
	if err := quick.RunReplay(t.Context(), b.db, id, "w1", time.Minute); err == nil {
		t.Fatal("a replay whose destination went down reported success")
	}
	mid, _ := b.db.GetReplay(t.Context(), id)
	if mid.State != store.ReplayRunning || mid.Sent != 8 {
		t.Fatalf("after the failure: %+v, want running with 8 sent", mid)
	}
	b.sink.SendFunc = nil
	if err := b.s.RunReplay(t.Context(), b.db, id, "w2", time.Minute); err != nil {
		t.Fatal(err)
	}
	b.sink.deliveredEach(t, window, 1) // across the resume

	// Held lease: another worker runs it.
	b.startReplay(t, id, base, base.Add(time.Hour))
	l, err := b.db.AcquireLease(t.Context(), store.ReplayLease(id), "other", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.s.RunReplay(t.Context(), b.db, id, "w1", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("with the lease held elsewhere: %v", err)
	}
	b.db.ReleaseLease(t.Context(), l)

	// Cancelled: nothing more is sent; a second start is refused while one runs.
	r := store.Replay{Integration: id, Since: base, Until: base.Add(time.Hour)}
	if err := b.db.StartReplay(t.Context(), &r); !errors.Is(err, siemsync.ErrConflict) {
		t.Fatalf("second replay while one runs: %v", err)
	}
	if err := b.db.FinishReplay(t.Context(), id, store.ReplayCancelled, ""); err != nil {
		t.Fatal(err)
	}
	n := b.sink.sends
	if err := b.s.RunReplay(context.Background(), b.db, id, "w1", time.Minute); err != nil || b.sink.sends != n {
		t.Fatalf("cancelled replay: %v, %d sends", err, b.sink.sends-n)
	}
}

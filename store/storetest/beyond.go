package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// The profile and the webhook are stored; the webhook URL is sealed, kept
// by an update that does not name it and removed by one that clears it.
// The alert state moves by compare-and-swap: of two workers one wins.
func testProfileAndAlerts(t *testing.T, f *fixture) {
	ctx := t.Context()
	const hook = "https://hooks.example.com/services/T0/B0/SECRETPATH"
	in := hecIntegration(acctA, "alerts")
	in.Profile, in.NotifyURL, in.AlertAfter = siemsync.ProfileOCSF, hook, siemsync.Duration(5*time.Minute)
	in.ApplyDefaults()
	f.create(in)
	got := f.get(in.ID)
	if got.Profile != siemsync.ProfileOCSF || got.NotifyURL != "" || !got.NotifyURLSet || got.NotifyHost != "hooks.example.com" ||
		got.AlertAfter.D() != 5*time.Minute {
		t.Fatalf("without secrets: %+v", got)
	}
	got.Name = "renamed"
	if err := f.b.UpdateIntegration(ctx, got); err != nil {
		t.Fatal(err)
	}
	if s, err := f.b.GetIntegration(ctx, in.ID, true); err != nil || s.NotifyURL != hook {
		t.Fatalf("after an update without it: %q %v", s.NotifyURL, err)
	}
	got.NotifyURLSet = false
	got.ApplyDefaults()
	if err := f.b.UpdateIntegration(ctx, got); err != nil {
		t.Fatal(err)
	}
	if s := f.get(in.ID); s.NotifyURLSet || s.NotifyHost != "" {
		t.Fatalf("after removal: set %v host %q", s.NotifyURLSet, s.NotifyHost)
	}
	if ok, err := f.b.SwapAlertState(ctx, in.ID, siemsync.AlertOK, siemsync.AlertFiring); err != nil || !ok {
		t.Fatalf("first swap: %v %v", ok, err)
	}
	if ok, _ := f.b.SwapAlertState(ctx, in.ID, siemsync.AlertOK, siemsync.AlertFiring); ok {
		t.Fatal("a second swap from the old state succeeded")
	}
	if err := f.b.SetAlertError(ctx, in.ID, "webhook answered 500"); err != nil {
		t.Fatal(err)
	}
	if s := f.get(in.ID); s.Status.Alert != siemsync.AlertFiring || s.Status.AlertError != "webhook answered 500" {
		t.Errorf("status %+v", s.Status)
	}
}

// A replay counts its window, runs alone, moves its own cursor while
// running, and stops being writable once finished.
func testReplays(t *testing.T, f *fixture) {
	ctx := t.Context()
	f.ingestAudit(Audit(acctA, "a0", 0), Audit(acctA, "a1", 10), Audit(acctA, "a2", 20), Audit(acctB, "b0", 10))
	in := f.create(hecIntegration(acctA, "replayed"))
	end, err := f.b.MaxAuditSeq(ctx, acctA)
	if err != nil {
		t.Fatal(err)
	}
	audit, jobs, err := f.b.CountReplay(ctx, acctA, t0.Add(5*time.Minute), t0.Add(20*time.Minute), end)
	if err != nil || audit != 1 || jobs != 0 {
		t.Fatalf("count: %d %d %v, want the one record at minute 10", audit, jobs, err)
	}
	r := store.Replay{Integration: in.ID, Since: t0, Until: t0.Add(time.Hour), AuditEnd: end, Total: 3}
	if err := f.b.StartReplay(ctx, &r); err != nil {
		t.Fatal(err)
	}
	again := r
	if err := f.b.StartReplay(ctx, &again); !errors.Is(err, siemsync.ErrConflict) {
		t.Fatalf("second start while running: %v", err)
	}
	if err := f.b.ReplayProgress(ctx, in.ID, 2, 0, 2); err != nil {
		t.Fatal(err)
	}
	if err := f.b.ReplayProgress(ctx, in.ID, 1, 0, 1); err != nil { // a late answer: the cursor never goes back
		t.Fatal(err)
	}
	got, err := f.b.GetReplay(ctx, in.ID)
	if err != nil || got.State != store.ReplayRunning || got.AuditCursor != 2 || got.Sent != 3 || got.Total != 3 || !got.Since.Equal(t0) {
		t.Fatalf("running: %+v %v", got, err)
	}
	if ids, err := f.b.RunningReplays(ctx); err != nil || len(ids) != 1 || ids[0] != in.ID {
		t.Fatalf("running replays: %v %v", ids, err)
	}
	if err := f.b.FinishReplay(ctx, in.ID, store.ReplayCancelled, "cancelled"); err != nil {
		t.Fatal(err)
	}
	if err := f.b.ReplayProgress(ctx, in.ID, 3, 0, 1); !errors.Is(err, store.ErrReplayStopped) {
		t.Fatalf("progress after cancel: %v", err)
	}
	if err := f.b.FinishReplay(ctx, in.ID, store.ReplayDone, ""); !errors.Is(err, store.ErrReplayStopped) {
		t.Fatalf("finish after cancel: %v", err)
	}
	if got, _ := f.b.GetReplay(ctx, in.ID); got.State != store.ReplayCancelled || got.Finished == nil {
		t.Fatalf("after cancel: %+v", got)
	}
	if err := f.b.StartReplay(ctx, &r); err != nil || r.Sent != 0 {
		t.Fatalf("a new replay after the last ended: %v %+v", err, r)
	}
	if _, err := f.b.GetReplay(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("unknown integration: %v", err)
	}
}

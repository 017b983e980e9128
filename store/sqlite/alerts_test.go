package sqlite_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

func TestNotifyURLSealedKeptAndRemoved(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const hook = "https://hooks.example.com/services/T0/B0/WEBHOOKSECRETPATH"
	in := hecIntegration(acctA, "alerts")
	in.Profile, in.NotifyURL, in.AlertAfter = siemsync.ProfileOCSF, hook, siemsync.Duration(5*time.Minute)
	f.create(t, in)

	got, err := f.db.GetIntegration(t.Context(), in.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.NotifyURL != "" || !got.NotifyURLSet || got.NotifyHost != "hooks.example.com" ||
		got.Profile != siemsync.ProfileOCSF || got.AlertAfter.D() != 5*time.Minute {
		t.Fatalf("without secrets: %+v", got)
	}
	// An update that does not name the webhook keeps it.
	got.Name = "renamed"
	if err := f.db.UpdateIntegration(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.db.GetIntegration(t.Context(), in.ID, true); s.NotifyURL != hook || s.NotifyHost != "hooks.example.com" {
		t.Fatalf("after an update without it: webhook %q host %q", s.NotifyURL, s.NotifyHost)
	}
	f.db.Close()
	for _, p := range []string{f.path, f.path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("WEBHOOKSECRETPATH")) {
			t.Errorf("%s holds the webhook URL in plaintext", p)
		}
	}
}

func TestNotifyURLRemovedAndAlertState(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := hecIntegration(acctA, "alerts")
	in.NotifyURL = "https://hooks.example.com/x"
	f.create(t, in)
	got, _ := f.db.GetIntegration(t.Context(), in.ID, false)
	got.NotifyURLSet = false // what a PATCH with "notify_url": "" does
	got.ApplyDefaults()      // as every caller does before storing: clears NotifyHost
	if err := f.db.UpdateIntegration(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.db.GetIntegration(t.Context(), in.ID, true); s.NotifyURL != "" || s.NotifyURLSet || s.NotifyHost != "" {
		t.Fatalf("after removal: %q set %v host %q", s.NotifyURL, s.NotifyURLSet, s.NotifyHost)
	}

	ok, err := f.db.SwapAlertState(t.Context(), in.ID, siemsync.AlertOK, siemsync.AlertFiring)
	if err != nil || !ok {
		t.Fatalf("first swap: %v %v", ok, err)
	}
	if ok, _ := f.db.SwapAlertState(t.Context(), in.ID, siemsync.AlertOK, siemsync.AlertFiring); ok {
		t.Fatal("a second swap from the old state succeeded: two workers would both alert")
	}
	if err := f.db.SetAlertError(t.Context(), in.ID, "webhook answered 500"); err != nil {
		t.Fatal(err)
	}
	s, _ := f.db.GetIntegration(t.Context(), in.ID, false)
	if s.Status.Alert != siemsync.AlertFiring || s.Status.AlertError != "webhook answered 500" {
		t.Errorf("status %+v", s.Status)
	}
}

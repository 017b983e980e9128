package sqlite_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

// The rules are in the conformance suite (ProfileAndAlerts); here: the
// webhook URL is not on disk in plaintext.
func TestNotifyURLSealedOnDisk(t *testing.T) {
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

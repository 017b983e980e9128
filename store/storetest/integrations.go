package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func testIntegrationLifecycle(t *testing.T, f *fixture) {
	ctx := t.Context()
	b := f.create(hecIntegration(acctB, "b"))
	a2 := f.create(hecIntegration(acctA, "zeta"))
	a1 := f.create(hecIntegration(acctA, "alpha"))

	list, err := f.b.ListIntegrations(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range list {
		names = append(names, in.Name)
	}
	if !slices.Equal(names, []string{"alpha", "zeta", "b"}) {
		t.Errorf("ListIntegrations = %v, want by account then name", names)
	}
	if list, err := f.b.ListIntegrations(ctx, acctB); err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("ListIntegrations(B) = %v, %v", list, err)
	}
	if err := f.b.SetEnabled(ctx, a2.ID, false); err != nil {
		t.Fatal(err)
	}
	if enabled, err := f.b.EnabledIntegrationIDs(ctx); err != nil || !slices.Equal(enabled, []string{a1.ID, b.ID}) {
		t.Errorf("EnabledIntegrationIDs = %v, %v", enabled, err)
	}
	if f.get(a2.ID).Enabled {
		t.Error("disabled integration reads as enabled")
	}
	if err := f.b.DeleteIntegration(ctx, a1.ID); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"get deleted":    func() error { _, err := f.b.GetIntegration(ctx, a1.ID, false); return err }(),
		"delete again":   f.b.DeleteIntegration(ctx, a1.ID),
		"enable unknown": f.b.SetEnabled(ctx, unknown, true),
		"checkpoints":    func() error { _, err := f.b.Checkpoints(ctx, unknown); return err }(),
		"start run": func() error {
			_, err := f.b.BeginCycle(ctx, store.Lease{Name: unknown, Owner: "w"}, time.Now(), 10)
			return err
		}(),
	} {
		if !errors.Is(err, siemsync.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", name, err)
		}
	}
}

func testIntegrationNewAccount(t *testing.T, f *fixture) {
	before := time.Now().Add(-time.Second)
	in := f.create(hecIntegration(acctB, "first"))
	if _, err := f.b.GetAccount(t.Context(), acctB); err != nil {
		t.Errorf("account not created: %v", err)
	}
	if len(in.ID) != 36 || in.CreatedAt.Before(before) || !in.UpdatedAt.Equal(in.CreatedAt) || !in.TokenSet {
		t.Errorf("created = %+v", in)
	}
	got := f.get(in.ID)
	if !got.CreatedAt.Equal(in.CreatedAt) || got.Name != "first" || got.Account != acctB || !got.Enabled {
		t.Errorf("read back = %+v, created %+v", got, in)
	}
	if cp := f.checkpoints(in.ID); !reflect.DeepEqual(cp, store.Checkpoints{}) {
		t.Errorf("checkpoints of an empty account = %+v", cp)
	}
}

func testIntegrationNameConflict(t *testing.T, f *fixture) {
	a := f.create(hecIntegration(acctA, "splunk"))
	f.create(hecIntegration(acctB, "splunk")) // another account may use the name
	other := f.create(hecIntegration(acctA, "other"))
	check := func(what string, err error) {
		t.Helper()
		var fe *siemsync.FieldError
		if !errors.As(err, &fe) || fe.Field != "name" || !errors.Is(err, siemsync.ErrConflict) {
			t.Fatalf("%s = %v, want a name FieldError that is ErrConflict", what, err)
		}
		if err.Error() != "field name: an integration with this name already exists in the account" {
			t.Errorf("%s message = %q", what, err)
		}
	}
	check("create", f.b.CreateIntegration(t.Context(), hecIntegration(acctA, "splunk")))
	other.Name = a.Name
	check("update", f.b.UpdateIntegration(t.Context(), other))
}

func testUpdateIntegration(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := hecIntegration(acctA, "u")
	in.ClientCertPEM, in.ClientKeyPEM = "cert", "key-1"
	f.create(in)
	cp0 := f.checkpoints(in.ID)
	get := func() *siemsync.Integration {
		t.Helper()
		got, err := f.b.GetIntegration(ctx, in.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	upd := get()
	upd.Token, upd.ClientKeyPEM = "", "" // keep both
	upd.Name, upd.Index, upd.Sources, upd.Gzip, upd.AckTimeout = "renamed", "main", []string{"jobs"}, true, siemsync.Duration(time.Minute)
	upd.Account, upd.CreatedAt = acctB, in.CreatedAt.Add(time.Hour) // ignored
	if err := f.b.UpdateIntegration(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got := get()
	if got.Name != "renamed" || got.Index != "main" || !slices.Equal(got.Sources, []string{"jobs"}) || !got.Gzip ||
		got.AckTimeout.D() != time.Minute || got.Token != in.Token || got.ClientKeyPEM != "key-1" ||
		got.Account != acctA || !got.CreatedAt.Equal(in.CreatedAt) || got.UpdatedAt.Before(in.UpdatedAt) {
		t.Errorf("after update: %+v", got)
	}
	if cp := f.checkpoints(in.ID); !reflect.DeepEqual(cp, cp0) {
		t.Errorf("update moved checkpoints: %+v -> %+v", cp0, cp)
	}
	tests := []struct {
		name             string
		token, cert, key string
		wantToken        string
		wantKey          string
	}{
		{"new token", "tok-2", "cert", "", "tok-2", "key-1"},
		{"new key", "", "cert", "key-2", "tok-2", "key-2"},
		{"cert removed clears key", "", "", "", "tok-2", ""},
	}
	for _, tt := range tests {
		upd := get()
		upd.Token, upd.ClientCertPEM, upd.ClientKeyPEM = tt.token, tt.cert, tt.key
		if err := f.b.UpdateIntegration(ctx, upd); err != nil {
			t.Fatal(err)
		}
		got := get()
		if got.Token != tt.wantToken || got.ClientKeyPEM != tt.wantKey || got.ClientKeySet != (tt.wantKey != "") {
			t.Errorf("%s: token %q key %q (set %v), want %q %q", tt.name, got.Token, got.ClientKeyPEM, got.ClientKeySet, tt.wantToken, tt.wantKey)
		}
	}
	missing := hecIntegration(acctA, "missing")
	missing.ID = unknown
	if err := f.b.UpdateIntegration(ctx, missing); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("update of an unknown id = %v", err)
	}
}

func testSecrets(t *testing.T, f *fixture) {
	ctx := t.Context()
	const token, key = "b7e5c1d2-super-secret-hec-token", "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----"
	in := hecIntegration(acctA, "sealed")
	in.Token, in.ClientCertPEM, in.ClientKeyPEM = token, "cert", key
	f.create(in)
	got := f.get(in.ID)
	if got.Token != "" || got.ClientKeyPEM != "" || !got.TokenSet || !got.ClientKeySet {
		t.Errorf("without secrets: token %q key %q set %v/%v", got.Token, got.ClientKeyPEM, got.TokenSet, got.ClientKeySet)
	}
	got, err := f.b.GetIntegration(ctx, in.ID, true)
	if err != nil || got.Token != token || got.ClientKeyPEM != key {
		t.Fatalf("with secrets: %q %q %v", got.Token, got.ClientKeyPEM, err)
	}
	list, err := f.b.ListIntegrations(ctx, "")
	if err != nil || len(list) != 1 || list[0].Token != "" || list[0].ClientKeyPEM != "" || !list[0].TokenSet {
		t.Errorf("list leaks or loses the secrets: %+v, %v", list, err)
	}
}

// Deleting an integration takes everything of it along: checkpoints,
// accepted ranges, runs, set-aside events and its lease.
func testDeleteIntegration(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "d"))
	l := f.acquire(in.ID, "worker-a", time.Hour)
	run := f.startRun(l)
	sa := []store.SetAside{{Source: "audit", Seq: 1, EventID: "e", Reason: "r"}}
	if err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: run, Integration: in.ID, Token: l.Token, Source: "audit",
		Checkpoint: 1, Accepted: []store.Range{{Lo: 5, Hi: 6}}, SetAside: sa}); err != nil {
		t.Fatal(err)
	}
	if err := f.b.DeleteIntegration(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	runs, err := f.b.RecentRuns(ctx, in.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.b.ListSetAside(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs)+len(list) != 0 {
		t.Errorf("left behind: %d runs, %d set-aside", len(runs), len(list))
	}
	// The stale cycle can write nothing more.
	if err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: run, Integration: in.ID, Token: l.Token, Source: "audit", Checkpoint: 9}); err == nil {
		t.Error("a commit of the deleted integration went through")
	}
	// An integration created again with the same id starts clean: no
	// accepted ranges, and the hour-long lease is gone with the old one.
	again := hecIntegration(acctA, "d") // the name is free again
	again.ID = in.ID
	f.create(again)
	if cp := f.checkpoints(in.ID); cp.AuditAccepted != nil || cp.JobsAccepted != nil {
		t.Errorf("ranges survived the delete: %+v", cp)
	}
	if _, err := f.b.AcquireLease(ctx, in.ID, "worker-b", time.Minute); err != nil {
		t.Errorf("lease after delete = %v, want the old lease gone", err)
	}
}

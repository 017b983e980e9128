package sqlite_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

func TestCreateIntegrationCheckpoints(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// History: two audit records and two jobs before minute 30, one of each after.
	recs := []siemsync.Audit{audit(acctA, "old1", 0), audit(acctA, "old2", 10), audit(acctA, "new", 40), audit(acctB, "b", 50)}
	f.clock.Set(t0.Add(5 * time.Minute))
	f.ingestJobs(t, job(acctA, jobID(1), siemsync.JobSuccessful), job(acctA, jobID(2), siemsync.JobInProgress))
	f.clock.Set(t0.Add(35 * time.Minute))
	f.ingestJobs(t, job(acctA, jobID(3), siemsync.JobSuccessful), job(acctB, jobID(4), siemsync.JobSuccessful))
	f.ingestAudit(t, recs...)
	f.clock.Set(t0.Add(time.Hour))
	endAudit, endJobs := recs[2].Seq, int64(3)

	since := t0.Add(30 * time.Minute)
	tests := []struct {
		name     string
		backfill *time.Time
		want     store.Checkpoints
	}{
		{"start at the end", nil, store.Checkpoints{Audit: endAudit, Jobs: endJobs}},
		{"backfill", &since, store.Checkpoints{Audit: 0, Jobs: 2, BackfillSince: since, BackfillUntil: endAudit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := hecIntegration(acctA, tt.name)
			in.BackfillSince = tt.backfill
			f.create(t, in)
			cp, err := f.db.Checkpoints(t.Context(), in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if cp.Audit != tt.want.Audit || cp.Jobs != tt.want.Jobs || !cp.BackfillSince.Equal(tt.want.BackfillSince) || cp.BackfillUntil != tt.want.BackfillUntil {
				t.Errorf("Checkpoints = %+v, want %+v", cp, tt.want)
			}
		})
	}
	// With the backfill checkpoints the first cycle reads only records of
	// the account that occurred since the backfill time (and what came later).
	in := hecIntegration(acctA, "read")
	in.BackfillSince = &since
	f.create(t, in)
	cp, _ := f.db.Checkpoints(t.Context(), in.ID)
	page := f.auditPage(t, store.AuditQuery{Account: acctA, After: cp.Audit, BackfillSince: cp.BackfillSince, BackfillUntil: cp.BackfillUntil})
	if !slices.Equal(ids(page), []string{"new"}) {
		t.Errorf("backfill page = %v, want [new]", ids(page))
	}
	f.ingestAudit(t, audit(acctA, "later-but-old", 0)) // ingested after creation: always sent
	page = f.auditPage(t, store.AuditQuery{Account: acctA, After: cp.Audit, BackfillSince: cp.BackfillSince, BackfillUntil: cp.BackfillUntil})
	if !slices.Equal(ids(page), []string{"new", "later-but-old"}) {
		t.Errorf("backfill page = %v, want [new later-but-old]", ids(page))
	}
	jobs, _ := f.db.JobPage(t.Context(), store.JobQuery{Account: acctA, Checkpoint: cp.Jobs, Limit: 10}, nil)
	if !slices.Equal(jobIDs(jobs), []string{jobID(2), jobID(3)}) {
		t.Errorf("backfill jobs = %v, want the active job and the one changed since", jobIDs(jobs))
	}
}

func TestCreateIntegrationNewAccount(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctB, "first"))
	if _, err := f.db.GetAccount(t.Context(), acctB); err != nil {
		t.Errorf("account not created: %v", err)
	}
	if len(in.ID) != 36 || !in.CreatedAt.Equal(t0) || !in.UpdatedAt.Equal(t0) || !in.TokenSet {
		t.Errorf("created = %+v", in)
	}
	cp, _ := f.db.Checkpoints(t.Context(), in.ID)
	if !reflect.DeepEqual(cp, store.Checkpoints{}) {
		t.Errorf("checkpoints of an empty account = %+v", cp)
	}
}

func TestSecretsSealed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const token, key = "b7e5c1d2-super-secret-hec-token", "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----"
	in := hecIntegration(acctA, "sealed")
	in.Token, in.ClientCertPEM, in.ClientKeyPEM = token, "cert", key
	f.create(t, in)

	got, err := f.db.GetIntegration(t.Context(), in.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != "" || got.ClientKeyPEM != "" || !got.TokenSet || !got.ClientKeySet {
		t.Errorf("without secrets: token %q key %q set %v/%v", got.Token, got.ClientKeyPEM, got.TokenSet, got.ClientKeySet)
	}
	got, err = f.db.GetIntegration(t.Context(), in.ID, true)
	if err != nil || got.Token != token || got.ClientKeyPEM != key {
		t.Fatalf("with secrets: %q %q %v", got.Token, got.ClientKeyPEM, err)
	}
	list, _ := f.db.ListIntegrations(t.Context(), "")
	if len(list) != 1 || list[0].Token != "" || !list[0].TokenSet {
		t.Errorf("list leaks or loses the token: %+v", list)
	}
	// Neither the database nor its WAL holds the plaintext.
	f.db.Close()
	for _, p := range []string{f.path, f.path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, s := range []string{token, "TOPSECRETKEYMATERIAL"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in plaintext", p, s)
			}
		}
	}
}

func TestNoCipher(t *testing.T) {
	t.Parallel()
	f := setup(t)
	db, err := sqlite.Open(t.Context(), f.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateIntegration(t.Context(), hecIntegration(acctA, "x")); !errors.Is(err, store.ErrNoCipher) {
		t.Errorf("create without a cipher = %v, want ErrNoCipher", err)
	}
}

func TestIntegrationNameConflict(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := f.create(t, hecIntegration(acctA, "splunk"))
	f.create(t, hecIntegration(acctB, "splunk")) // another account may use the name
	other := f.create(t, hecIntegration(acctA, "other"))

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
	check("create", f.db.CreateIntegration(t.Context(), hecIntegration(acctA, "splunk")))
	other.Name = a.Name
	check("update", f.db.UpdateIntegration(t.Context(), other))
}

func TestUpdateIntegration(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := hecIntegration(acctA, "u")
	in.ClientCertPEM, in.ClientKeyPEM = "cert", "key-1"
	f.create(t, in)
	cp0, _ := f.db.Checkpoints(t.Context(), in.ID)

	get := func() *siemsync.Integration {
		t.Helper()
		got, err := f.db.GetIntegration(t.Context(), in.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	f.clock.Set(t0.Add(time.Hour))
	upd := get()
	upd.Token, upd.ClientKeyPEM = "", "" // keep both
	upd.Name, upd.Index, upd.Sources, upd.Gzip, upd.AckTimeout = "renamed", "main", []string{"jobs"}, true, siemsync.Duration(time.Minute)
	upd.Account, upd.CreatedAt = acctB, t0.Add(time.Hour) // ignored
	if err := f.db.UpdateIntegration(t.Context(), upd); err != nil {
		t.Fatal(err)
	}
	got := get()
	if got.Name != "renamed" || got.Index != "main" || !slices.Equal(got.Sources, []string{"jobs"}) || !got.Gzip ||
		got.AckTimeout.D() != time.Minute || got.Token != in.Token || got.ClientKeyPEM != "key-1" ||
		got.Account != acctA || !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after update: %+v", got)
	}
	if cp, _ := f.db.Checkpoints(t.Context(), in.ID); !reflect.DeepEqual(cp, cp0) {
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
		if err := f.db.UpdateIntegration(t.Context(), upd); err != nil {
			t.Fatal(err)
		}
		got := get()
		if got.Token != tt.wantToken || got.ClientKeyPEM != tt.wantKey || got.ClientKeySet != (tt.wantKey != "") {
			t.Errorf("%s: token %q key %q (set %v), want %q %q", tt.name, got.Token, got.ClientKeyPEM, got.ClientKeySet, tt.wantToken, tt.wantKey)
		}
	}
	missing := hecIntegration(acctA, "missing")
	missing.ID = "00000000-0000-4000-8000-000000000000"
	if err := f.db.UpdateIntegration(t.Context(), missing); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("update of an unknown id = %v", err)
	}
}

func TestIntegrationLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.create(t, hecIntegration(acctB, "b"))
	a2 := f.create(t, hecIntegration(acctA, "zeta"))
	a1 := f.create(t, hecIntegration(acctA, "alpha"))

	list, err := f.db.ListIntegrations(t.Context(), "")
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
	if list, _ := f.db.ListIntegrations(t.Context(), acctB); len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("ListIntegrations(B) = %v", list)
	}
	if err := f.db.SetEnabled(t.Context(), a2.ID, false); err != nil {
		t.Fatal(err)
	}
	enabled, _ := f.db.EnabledIntegrationIDs(t.Context())
	if !slices.Equal(enabled, []string{a1.ID, b.ID}) {
		t.Errorf("EnabledIntegrationIDs = %v", enabled)
	}
	if got, _ := f.db.GetIntegration(t.Context(), a2.ID, false); got.Enabled {
		t.Error("disabled integration reads as enabled")
	}
	if err := f.db.DeleteIntegration(t.Context(), a1.ID); err != nil {
		t.Fatal(err)
	}
	const unknown = "00000000-0000-4000-8000-000000000000"
	for name, err := range map[string]error{
		"get deleted":    func() error { _, err := f.db.GetIntegration(t.Context(), a1.ID, false); return err }(),
		"delete again":   f.db.DeleteIntegration(t.Context(), a1.ID),
		"enable unknown": f.db.SetEnabled(t.Context(), unknown, true),
		"checkpoints":    func() error { _, err := f.db.Checkpoints(t.Context(), unknown); return err }(),
		"start run":      func() error { _, err := f.db.StartRun(t.Context(), store.Lease{Name: unknown}, t0); return err }(),
	} {
		if !errors.Is(err, siemsync.ErrNotFound) {
			t.Errorf("%s = %v, want ErrNotFound", name, err)
		}
	}
}

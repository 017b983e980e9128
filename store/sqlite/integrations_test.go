package sqlite_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
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

// TestCreateIntegrationUnknownAccount: an integration for an account the
// store has never seen is refused unless the caller asks to create it; an
// upper-case id names the canonical, lower-case account.
func TestCreateIntegrationUnknownAccount(t *testing.T) {
	t.Parallel()
	f := setup(t)
	unasked := hecIntegration(strings.ToUpper(acctB), "first")
	unasked.CreateAccount = false
	err := f.db.CreateIntegration(t.Context(), unasked)
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) || fe.Field != "account" || !strings.Contains(fe.Msg, acctB+" is not a known account") {
		t.Fatalf("integration of an unknown account, not asked to create it: %v", err)
	}
	if accts, _ := f.db.ListAccounts(t.Context()); len(accts) != 0 {
		t.Fatalf("refused create made accounts %+v", accts)
	}
	in := f.create(t, hecIntegration(strings.ToUpper(acctB), "first"))
	if in.Account != acctB {
		t.Errorf("account stored as %q, want the canonical %q", in.Account, acctB)
	}
	if list, _ := f.db.ListIntegrations(t.Context(), strings.ToUpper(acctB)); len(list) != 1 || list[0].Account != acctB {
		t.Errorf("list by the upper-case id = %+v", list)
	}
	if _, err := f.db.GetAccount(t.Context(), acctB); err != nil {
		t.Errorf("account not created: %v", err)
	}
}

// The conformance suite checks what the API returns; this checks the file.
func TestSecretsSealed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const token, key = "b7e5c1d2-super-secret-hec-token", "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----"
	in := hecIntegration(acctA, "sealed")
	in.Token, in.ClientCertPEM, in.ClientKeyPEM = token, "cert", key
	f.create(t, in)
	if got, err := f.db.GetIntegration(t.Context(), in.ID, true); err != nil || got.Token != token {
		t.Fatalf("stored token = %q, %v", got.Token, err)
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

// TestUpdateAccountRefusesControlCharacters: `accounts list` prints names
// and hosts as they are, so they cannot hold a terminal escape sequence.
func TestUpdateAccountRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.create(t, hecIntegration(acctA, "x"))
	bad := "Acme\x1b]0;pwned\x07"
	for _, args := range [][2]*string{{&bad, nil}, {nil, &bad}} {
		err := f.db.UpdateAccount(t.Context(), acctA, args[0], args[1])
		var fe *siemsync.FieldError
		if !errors.As(err, &fe) || !strings.Contains(fe.Msg, "control characters") {
			t.Errorf("UpdateAccount(%v, %v) = %v", args[0] != nil, args[1] != nil, err)
		}
	}
	if a, _ := f.db.GetAccount(t.Context(), acctA); a.Name != "" || a.Host != "" {
		t.Errorf("stored %+v", a)
	}
}

// TestUpdateURLHostNeedsToken: an update that moves the URL to another
// host must give the token again; the stored token is never sent to a host
// it was not entered for. Another path or port on the same host keeps it.
func TestUpdateURLHostNeedsToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctA, "splunk"))
	edit := func(url, token string) error {
		up, err := f.db.GetIntegration(t.Context(), in.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		up.URL, up.Token = url, token
		return f.db.UpdateIntegration(t.Context(), up)
	}
	err := edit("https://collector.attacker.example:8088", "")
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) || fe.Field != "token" || !strings.Contains(fe.Msg, "splunk.example.com to collector.attacker.example") {
		t.Fatalf("new host without the token: %v", err)
	}
	if got, _ := f.db.GetIntegration(t.Context(), in.ID, true); got.URL != "https://splunk.example.com:8088" || got.Token != "tok-splunk" {
		t.Fatalf("refused update changed %s %q", got.URL, got.Token)
	}
	if err := edit("https://SPLUNK.example.com:443/services/collector", ""); err != nil {
		t.Errorf("same host, another port and path: %v", err)
	}
	if err := edit("https://collector.example.net", "tok-new"); err != nil {
		t.Errorf("new host with its token: %v", err)
	}
	if got, _ := f.db.GetIntegration(t.Context(), in.ID, true); got.URL != "https://collector.example.net" || got.Token != "tok-new" {
		t.Errorf("stored %s %q", got.URL, got.Token)
	}
}

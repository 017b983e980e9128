package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// testJobOwner: a job belongs to the account that first stored it. An
// upsert of its id for another account is refused as an input error on
// the job field, and the owner's job is as it was.
func testJobOwner(t *testing.T, f *fixture) {
	const id = "00000000-0000-4000-8000-0000000000a1"
	a := Job(acctA, id, siemsync.JobInProgress)
	f.ingestJobs(a)
	in, err := f.b.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	taken := Job(acctB, id, siemsync.JobCancelled)
	_, err = in.Job(&taken)
	in.Rollback()
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) || fe.Field != "job" || !strings.Contains(fe.Msg, "belongs to another account") {
		t.Fatalf("another account's upsert of the job: %v", err)
	}
	jobs, err := f.b.JobPage(t.Context(), store.JobQuery{Account: acctA, Limit: 10}, nil)
	if err != nil || len(jobs) != 1 || jobs[0].Status != siemsync.JobInProgress {
		t.Errorf("owner's jobs = %+v, %v", jobs, err)
	}
}

// testIntegrationUnknownAccount: an integration for an account the store
// has never seen is refused unless the caller asks to create it, and an
// upper-case account id names the canonical lower-case account.
func testIntegrationUnknownAccount(t *testing.T, f *fixture) {
	in := hecIntegration(strings.ToUpper(acctB), "first")
	in.CreateAccount = false
	err := f.b.CreateIntegration(t.Context(), in)
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) || fe.Field != "account" {
		t.Fatalf("integration of an unknown account: %v", err)
	}
	if _, err := f.b.GetAccount(t.Context(), acctB); err == nil {
		t.Fatal("a refused create made the account")
	}
	in.CreateAccount = true
	f.create(in)
	if got := f.get(in.ID); got.Account != acctB {
		t.Errorf("account stored as %q, want %q", got.Account, acctB)
	}
}

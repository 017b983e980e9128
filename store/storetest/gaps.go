package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// testBackfillAfterPrune: an integration created with a backfill reaching
// back into what retention already deleted says so in its status; one
// whose backfill starts after it, or without a backfill, does not.
func testBackfillAfterPrune(t *testing.T, f *fixture) {
	ctx := t.Context()
	f.ingestAudit(Audit(acctA, "r0", 0), Audit(acctA, "r10", 10), Audit(acctA, "r30", 30))
	f.ingestJobs(Job(acctA, JobID(1), siemsync.JobSuccessful))
	jobs := f.jobPage(store.JobQuery{Account: acctA})
	if len(jobs) != 1 {
		t.Fatalf("jobs = %+v", jobs)
	}
	changed := jobs[0].ChangedAt
	// The job changed now (the store's clock): a cutoff a minute ahead
	// takes it and every record.
	res, err := f.b.Prune(ctx, time.Now().Add(time.Minute))
	if err != nil || res.Audit != 3 || res.Jobs != 1 || res.Missed != 0 {
		t.Fatalf("Prune = %+v, %v; want 3 audit records and 1 job, none missed", res, err)
	}
	create := func(name string, since *time.Time, sources ...string) []string {
		in := hecIntegration(acctA, name)
		in.BackfillSince = since
		if len(sources) > 0 {
			in.Sources = sources
		}
		f.create(in)
		return f.get(in.ID).Status.Warnings
	}
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	all := *at(-time.Hour)
	want := []string{
		store.GapWarning(siemsync.SourceAudit, all, 3, t0, t0.Add(30*time.Minute)),
		store.GapWarning(siemsync.SourceJobs, all, 1, changed, changed),
	}
	if got := create("all history", &all); !slices.Equal(got, want) {
		t.Errorf("backfill from before everything:\n got %q\nwant %q", got, want)
	}
	inside := *at(5 * time.Minute)
	want = []string{store.GapWarning(siemsync.SourceAudit, inside, 3, t0, t0.Add(30*time.Minute))}
	if got := create("audit from 10:05", &inside, siemsync.SourceAudit); !slices.Equal(got, want) {
		t.Errorf("backfill from inside the pruned range:\n got %q\nwant %q", got, want)
	}
	after := time.Now().Add(time.Hour)
	if got := create("after the pruned range", &after); len(got) != 0 {
		t.Errorf("backfill after everything pruned: %q", got)
	}
	if got := create("no backfill", nil); len(got) != 0 {
		t.Errorf("no backfill: %q", got)
	}
}

package sqlite_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

func TestPrune(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	behind := f.create(t, hecIntegration(acctA, "behind"))     // checkpoint 0: loses what is pruned
	uptodate := f.create(t, hecIntegration(acctA, "uptodate")) // delivered past the pruned records
	disabled := f.create(t, hecIntegration(acctA, "disabled")) // disabled integrations lose records too
	jobsOnly := hecIntegration(acctA, "jobs-only")
	jobsOnly.Sources = []string{siemsync.SourceJobs}
	f.create(t, jobsOnly)
	other := f.create(t, hecIntegration(acctB, "other"))
	if err := f.db.SetEnabled(ctx, disabled.ID, false); err != nil {
		t.Fatal(err)
	}

	recs := []siemsync.Audit{audit(acctA, "r0", 0), audit(acctA, "r10", 10), audit(acctB, "b5", 5), audit(acctA, "r20", 20),
		audit(acctA, "r30", 30), audit(acctA, "r40", 40)}
	f.ingestAudit(t, recs...)
	f.clock.Set(t0.Add(5 * time.Minute))
	oldEnded := job(acctA, jobID(1), siemsync.JobSuccessful)
	oldActive := job(acctA, jobID(2), siemsync.JobInProgress)
	f.ingestJobs(t, oldEnded, oldActive)
	f.clock.Set(t0.Add(40 * time.Minute))
	f.ingestJobs(t, job(acctA, jobID(3), siemsync.JobCancelled))

	// Backfill from minute 25: r0..r20 were never to be sent to it.
	since := t0.Add(25 * time.Minute)
	backfill := hecIntegration(acctA, "backfill")
	backfill.BackfillSince = &since
	f.create(t, backfill)

	cs, err := f.db.BeginCycle(ctx, store.Lease{Name: uptodate.ID, Owner: "w"}, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	run := cs.RunID
	for _, b := range []store.BatchCommit{
		{RunID: run, Integration: uptodate.ID, Source: "audit", Checkpoint: recs[3].Seq},
		{RunID: run, Integration: uptodate.ID, Source: "jobs", Checkpoint: 3},
	} {
		if err := f.db.CommitBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.db.FinishRun(ctx, store.RunFinish{RunID: run, Integration: uptodate.ID, Finished: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	res, err := f.db.Prune(ctx, t0.Add(25*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.PruneResult{Audit: 4, Jobs: 1, Runs: 1, Missed: 3 + 1 + 3 + 1 + 1 + 1}); res != want {
		// behind: 3 audit + 1 job; disabled: same; jobs-only: 1 job; other: b5.
		t.Errorf("PruneResult = %+v, want %+v", res, want)
	}
	a := f.auditPage(t, store.AuditQuery{Account: acctA})
	if !slices.Equal(ids(a), []string{"r30", "r40"}) {
		t.Errorf("audit left: %v", ids(a))
	}
	jobs, err := f.db.JobPage(ctx, store.JobQuery{Account: acctA, Limit: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(jobIDs(jobs), []string{jobID(2), jobID(3)}) {
		t.Errorf("jobs left: %v (the old active job must stay)", jobIDs(jobs))
	}

	const (
		audit3 = "retention pruned 3 audit records (2026-11-21T10:00:00Z to 2026-11-21T10:20:00Z) before this integration delivered them"
		job1   = "retention pruned 1 job update (2026-11-21T10:05:00Z to 2026-11-21T10:05:00Z) before this integration delivered them"
	)
	want := map[string][]string{
		behind.ID:   {audit3, job1},
		uptodate.ID: nil,
		disabled.ID: {audit3, job1},
		jobsOnly.ID: {job1},
		backfill.ID: nil,
		other.ID:    {"retention pruned 1 audit record (2026-11-21T10:05:00Z to 2026-11-21T10:05:00Z) before this integration delivered them"},
	}
	for id, w := range want {
		got, err := f.db.GetIntegration(ctx, id, false)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Status.Warnings, w) {
			t.Errorf("%s warnings:\n got %q\nwant %q", got.Name, got.Status.Warnings, w)
		}
	}

	// A later prune adds to the same warning.
	if _, err := f.db.Prune(ctx, t0.Add(35*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// ListIntegrations reads the warnings of all integrations at once.
	list, err := f.db.ListIntegrations(ctx, acctA)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(in *siemsync.Integration) bool { return in.ID == behind.ID })
	if i < 0 {
		t.Fatalf("ListIntegrations(A) has no %s", behind.Name)
	}
	if got, want := list[i].Status.Warnings, []string{
		"retention pruned 4 audit records (2026-11-21T10:00:00Z to 2026-11-21T10:30:00Z) before this integration delivered them", job1,
	}; !slices.Equal(got, want) {
		t.Errorf("accumulated warnings:\n got %q\nwant %q", got, want)
	}
	// Pruned seqs are never handed out again.
	f.ingestAudit(t, audit(acctA, "after", 50))
	a = f.auditPage(t, store.AuditQuery{Account: acctA})
	if last := a[len(a)-1]; last.ID != "after" || last.Seq <= recs[len(recs)-1].Seq {
		t.Errorf("new record seq %d after pruning, last was %d", last.Seq, recs[len(recs)-1].Seq)
	}
}

func TestPruneChunks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctA, "p"))
	n := 2*sqlite.PruneChunk + 123
	recs := make([]siemsync.Audit, n)
	for i := range recs {
		recs[i] = siemsync.Audit{ID: fmt.Sprint(i), Account: acctA, Time: t0.Add(time.Duration(n-i) * time.Second), Event: "e"}
	}
	ing, err := f.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ing.AuditBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := ing.Commit(); err != nil {
		t.Fatal(err)
	}
	res, err := f.db.Prune(t.Context(), t0.Add(time.Duration(n)*time.Second)) // all but the newest
	if err != nil {
		t.Fatal(err)
	}
	if res.Audit != int64(n-1) || res.Missed != int64(n-1) {
		t.Errorf("PruneResult = %+v, want %d deleted and missed", res, n-1)
	}
	got, _ := f.db.GetIntegration(t.Context(), in.ID, false)
	if want := fmt.Sprintf("retention pruned 10,122 audit records (2026-11-21T10:00:01Z to %s) before this integration delivered them",
		t0.Add(time.Duration(n-1)*time.Second).Format(time.RFC3339)); !slices.Equal(got.Status.Warnings, []string{want}) {
		t.Errorf("warnings = %q, want %q", got.Status.Warnings, want)
	}
}

package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// testBeginCycle: one call reads what a cycle needs and starts its run
// only when the lease is current and the integration and account are on.
func testBeginCycle(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := HECIntegration(acctA, "begin")
	in.Token = "tok-begin-secret"
	f.create(in)
	if err := f.b.UpdateAccount(ctx, acctA, nil, ptr("host-a.example.net")); err != nil {
		t.Fatal(err)
	}
	// A short lease: it expires unrenewed, yet stays current (fencing
	// compares tokens) until another worker takes it at the end.
	l := f.acquire(in.ID, "worker-a", 200*time.Millisecond)
	run := f.startRun(l)
	if err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: run, Integration: in.ID, Token: l.Token, Source: siemsync.SourceAudit,
		Checkpoint: 7, Events: 7, Accepted: []store.Range{{Lo: 9, Hi: 12}}}); err != nil {
		t.Fatal(err)
	}

	cs, err := f.b.BeginCycle(ctx, l, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if cs.RunID == 0 || cs.RunID == run {
		t.Errorf("RunID = %d, want a new run (the first was %d)", cs.RunID, run)
	}
	if cs.Integration == nil || cs.Integration.ID != in.ID || cs.Integration.Token != "tok-begin-secret" || !cs.Integration.Enabled {
		t.Errorf("Integration = %+v, want %s with its token opened", cs.Integration, in.ID)
	}
	if cs.Account.ID != acctA || cs.Account.Host != "host-a.example.net" || !cs.Account.SIEMEnabled {
		t.Errorf("Account = %+v, want %s with its host and the SIEM feature on", cs.Account, acctA)
	}
	if cs.Checkpoints.Audit != 7 || len(cs.Checkpoints.AuditAccepted) != 1 || cs.Checkpoints.AuditAccepted[0] != (store.Range{Lo: 9, Hi: 12}) {
		t.Errorf("Checkpoints = %+v, want audit 7 with 9-12 accepted beyond it", cs.Checkpoints)
	}
	runs := f.runs(in.ID)
	if len(runs) != 2 || runs[0].ID != cs.RunID || runs[0].Worker != "worker-a" || runs[0].Finished != nil {
		t.Errorf("runs = %+v, want the new run of worker-a first, unfinished", runs)
	}

	// Off: read, but no run recorded.
	for _, off := range []struct {
		name       string
		turn       func(on bool) error
		wantEnable bool
	}{
		{"integration disabled", func(on bool) error { return f.b.SetEnabled(ctx, in.ID, on) }, false},
		{"SIEM feature off", func(on bool) error { return f.b.SetSIEMEnabled(ctx, acctA, on) }, true},
	} {
		if err := off.turn(false); err != nil {
			t.Fatal(err)
		}
		cs, err := f.b.BeginCycle(ctx, l, time.Now(), 0)
		if err != nil {
			t.Fatalf("%s: %v", off.name, err)
		}
		if cs.RunID != 0 || cs.Integration == nil || cs.Integration.Enabled != off.wantEnable || cs.Checkpoints.Audit != 7 {
			t.Errorf("%s: RunID %d, integration %+v, checkpoints %+v; want no run, the integration and its checkpoints", off.name, cs.RunID, cs.Integration, cs.Checkpoints)
		}
		if n := len(f.runs(in.ID)); n != 2 {
			t.Errorf("%s: %d runs recorded, want still 2", off.name, n)
		}
		if err := off.turn(true); err != nil {
			t.Fatal(err)
		}
	}

	// A stale lease starts nothing.
	f.acquireAfter(l, "worker-b")
	if _, err := f.b.BeginCycle(ctx, l, time.Now(), 0); !errors.Is(err, store.ErrFenced) {
		t.Errorf("BeginCycle with a stale lease = %v, want ErrFenced", err)
	}
	if n := len(f.runs(in.ID)); n != 2 {
		t.Errorf("a stale BeginCycle recorded a run: %d runs, want 2", n)
	}
}

// testBeginCycles: starting several cycles in one call starts each as
// BeginCycle would, and refuses a stale lease or an unknown integration
// alone, writing nothing for it.
func testBeginCycles(t *testing.T, f *fixture) {
	ctx := t.Context()
	a := f.create(HECIntegration(acctA, "many-a"))
	b := f.create(HECIntegration(acctB, "many-b"))
	stale := f.create(HECIntegration(acctA, "many-stale"))
	off := f.create(HECIntegration(acctB, "many-off"))
	if err := f.b.SetEnabled(ctx, off.ID, false); err != nil {
		t.Fatal(err)
	}
	f.ingestAudit(Audit(acctA, "bc-1", 1), Audit(acctB, "bc-b", 2), Audit(acctA, "bc-2", 3))
	la, lb, lo := f.acquire(a.ID, "worker-a", time.Minute), f.acquire(b.ID, "worker-a", time.Minute), f.acquire(off.ID, "worker-a", time.Minute)
	ls := f.acquire(stale.ID, "worker-a", 200*time.Millisecond)
	f.acquireAfter(ls, "worker-b")
	unknown := store.Lease{Name: "00000000-0000-4000-8000-00000000dead", Owner: "worker-a"} // never leased: token 0

	starts, errs := f.b.BeginCycles(ctx, []store.Lease{la, ls, unknown, lb, lo}, time.Now(), 10)
	if len(starts) != 5 || len(errs) != 5 {
		t.Fatalf("%d starts and %d errors for 5 leases", len(starts), len(errs))
	}
	if !errors.Is(errs[1], store.ErrFenced) {
		t.Errorf("stale lease: %v, want ErrFenced", errs[1])
	}
	if !errors.Is(errs[2], siemsync.ErrNotFound) {
		t.Errorf("unknown integration: %v, want ErrNotFound", errs[2])
	}
	for _, c := range []struct {
		i    int
		in   *siemsync.Integration
		acct string
		want []string
	}{{0, a, acctA, []string{"bc-1", "bc-2"}}, {3, b, acctB, []string{"bc-b"}}} {
		cs, err := starts[c.i], errs[c.i]
		if err != nil {
			t.Fatalf("%s: %v", c.in.Name, err)
		}
		if cs.RunID == 0 || cs.Integration == nil || cs.Integration.ID != c.in.ID || cs.Integration.Token != c.in.Token || cs.Account.ID != c.acct {
			t.Errorf("%s: start %+v, want a run of %s in %s with its token opened", c.in.Name, cs, c.in.ID, c.acct)
		}
		if got := ids(cs.FirstAudit); cs.FirstAuditRead && !slices.Equal(got, c.want) {
			t.Errorf("%s: first page %v, want its own account's %v", c.in.Name, got, c.want)
		}
		if runs := f.runs(c.in.ID); len(runs) != 1 || runs[0].ID != cs.RunID || runs[0].Worker != "worker-a" {
			t.Errorf("%s: runs %+v, want run %d of worker-a", c.in.Name, runs, cs.RunID)
		}
	}
	if starts[0].RunID == starts[3].RunID {
		t.Errorf("two cycles started as run %d", starts[0].RunID)
	}
	if errs[4] != nil || starts[4].RunID != 0 || starts[4].Integration == nil || starts[4].Integration.Enabled {
		t.Errorf("disabled integration: %+v, %v; want it read, with no run", starts[4], errs[4])
	}
	for _, id := range []string{stale.ID, off.ID} {
		if runs := f.runs(id); len(runs) != 0 {
			t.Errorf("%s: %d runs recorded, want none", id, len(runs))
		}
	}
}

// testJobsPending: BeginCycle tells a cycle whether its account has a job
// to send (an active one, or one changed after the jobs checkpoint), so
// that a cycle of an account without job news does not read jobs.
func testJobsPending(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(HECIntegration(acctA, "pending"))
	f.create(HECIntegration(acctB, "pending-b"))
	// begin runs an empty cycle that moves the jobs checkpoint to cp
	// (when > 0) and returns what BeginCycle said.
	begin := func(cp int64) bool {
		t.Helper()
		l := f.acquire(in.ID, "worker-a", time.Minute)
		cs, err := f.b.BeginCycle(ctx, l, time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if cp > 0 {
			if err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: cs.RunID, Integration: in.ID, Token: l.Token,
				Source: siemsync.SourceJobs, Checkpoint: cp}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.b.FinishRun(ctx, store.RunFinish{RunID: cs.RunID, Integration: in.ID, Token: l.Token,
			Finished: time.Now(), Release: true}); err != nil {
			t.Fatal(err)
		}
		return cs.JobsPending
	}
	f.ingestJobs(Job(acctB, JobID(1), siemsync.JobInProgress)) // another account's
	if begin(0) {
		t.Error("JobsPending with no job in the account (another account has an active one)")
	}
	ended := []siemsync.Job{Job(acctA, JobID(2), siemsync.JobSuccessful)}
	f.ingestJobs(ended...)
	if !begin(ended[0].Seq) {
		t.Error("no JobsPending with a job changed after the checkpoint")
	}
	if begin(0) {
		t.Error("JobsPending with an ended job the checkpoint passed")
	}
	running := []siemsync.Job{Job(acctA, JobID(3), siemsync.JobInProgress)}
	f.ingestJobs(running...)
	begin(running[0].Seq)
	if !begin(0) {
		t.Error("no JobsPending with an active job behind the checkpoint (its progress is sent every cycle)")
	}
	done := []siemsync.Job{Job(acctA, JobID(3), siemsync.JobSuccessful)}
	f.ingestJobs(done...)
	if !begin(done[0].Seq) {
		t.Error("no JobsPending with a job that ended after the checkpoint")
	}
	if begin(0) {
		t.Error("JobsPending once every job ended before the checkpoint")
	}
}

// testFirstAudit: the first audit page BeginCycle may read with the cycle's
// start is the page the cycle would read itself: its account's records
// after the checkpoint, within the backfill, at most page of them.
func testFirstAudit(t *testing.T, f *fixture) {
	ctx := t.Context()
	f.ingestAudit(Audit(acctA, "fa-old1", 1), Audit(acctA, "fa-old2", 10))
	since := t0.Add(5 * time.Minute)
	backfill := HECIntegration(acctA, "first-backfill")
	backfill.BackfillSince = &since
	f.create(backfill)
	plain := f.create(HECIntegration(acctA, "first-plain"))
	jobsOnly := HECIntegration(acctA, "first-jobs")
	jobsOnly.Sources = []string{siemsync.SourceJobs}
	f.create(jobsOnly)
	f.ingestAudit(Audit(acctA, "fa-new1", 2), Audit(acctB, "fa-b", 3), Audit(acctA, "fa-new2", 4), Audit(acctA, "fa-new3", 5))

	for _, c := range []struct {
		name string
		in   *siemsync.Integration
		page int
		want []string // nil: not read
	}{
		{"backfill", backfill, 10, []string{"fa-old2", "fa-new1", "fa-new2", "fa-new3"}},
		{"a page's worth", plain, 2, []string{"fa-new1", "fa-new2"}},
		{"not asked", plain, 0, nil},
		{"no audit source", jobsOnly, 10, []string{}},
	} {
		l := f.acquire(c.in.ID, "worker-a", time.Minute)
		cs, err := f.b.BeginCycle(ctx, l, time.Now(), c.page)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		switch got := ids(cs.FirstAudit); {
		case c.want == nil && cs.FirstAuditRead:
			t.Errorf("%s: a first page was read (%v) though none was asked for", c.name, got)
		case c.want != nil && cs.FirstAuditRead && !slices.Equal(got, c.want):
			t.Errorf("%s: first page %v, want %v", c.name, got, c.want)
		}
		for _, a := range cs.FirstAudit {
			if a.Account != acctA || a.Seq == 0 || a.Metadata == nil {
				t.Errorf("%s: record %+v, want account A's with its seq and metadata", c.name, a)
			}
		}
		if err := f.b.FinishRun(ctx, store.RunFinish{RunID: cs.RunID, Integration: c.in.ID, Token: l.Token,
			Finished: time.Now(), Release: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// testFinishRunRelease: FinishRun with Release gives the lease back in the
// same transaction, and a stale one neither finishes nor releases.
func testFinishRunRelease(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(HECIntegration(acctA, "release"))
	l := f.acquire(in.ID, "worker-a", time.Minute)
	run := f.startRun(l)
	if err := f.b.FinishRun(ctx, store.RunFinish{RunID: run, Integration: in.ID, Token: l.Token, Finished: time.Now(), Release: true}); err != nil {
		t.Fatal(err)
	}
	if runs := f.runs(in.ID); len(runs) != 1 || runs[0].Finished == nil {
		t.Fatalf("runs = %+v, want one finished", runs)
	}
	// Free at once, long before the minute of the ttl.
	b, err := f.b.AcquireLease(ctx, in.ID, "worker-b", time.Minute)
	if err != nil {
		t.Fatalf("lease after FinishRun with Release: %v", err)
	}
	if b.Token <= l.Token {
		t.Errorf("token after release = %d, want more than %d", b.Token, l.Token)
	}

	// worker-a, stale now, cannot release worker-b's lease.
	runB := f.startRun(b)
	err = f.b.FinishRun(ctx, store.RunFinish{RunID: runB, Integration: in.ID, Token: l.Token, Finished: time.Now(), Release: true})
	if !errors.Is(err, store.ErrFenced) {
		t.Errorf("stale FinishRun with Release = %v, want ErrFenced", err)
	}
	if _, err := f.b.AcquireLease(ctx, in.ID, "worker-c", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("lease after a stale release = %v, want ErrLeaseHeld (worker-b keeps it)", err)
	}

	// Without Release the lease stays.
	if err := f.b.FinishRun(ctx, store.RunFinish{RunID: runB, Integration: in.ID, Token: b.Token, Finished: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.AcquireLease(ctx, in.ID, "worker-c", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("lease after FinishRun without Release = %v, want ErrLeaseHeld", err)
	}
}

// acquireAfter waits for l to expire and has owner take the name's lease.
func (f *fixture) acquireAfter(l store.Lease, owner string) store.Lease {
	f.t.Helper()
	waitExpired(l)
	return f.acquire(l.Name, owner, time.Minute)
}

func ptr[T any](v T) *T { return &v }

// testFinishRunCommit: a finish that carries the cycle's last batch commit
// applies both in one transaction, and whatever refuses one refuses both.
func testFinishRunCommit(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(HECIntegration(acctA, "finish-commit"))
	l := f.acquire(in.ID, "worker-a", time.Minute)
	run := f.startRun(l)
	commit := func(run, token, cp int64) *store.BatchCommit {
		return &store.BatchCommit{RunID: run, Integration: in.ID, Token: token, Source: siemsync.SourceAudit,
			Checkpoint: cp, Accepted: []store.Range{{Lo: cp + 5, Hi: cp + 6}}, Events: 7, Bytes: 700,
			SetAside: []store.SetAside{{Source: siemsync.SourceAudit, Seq: cp - 1, EventID: "bad", Reason: "code 6", Body: []byte(`{}`)}}}
	}
	finish := func(run, token int64, c *store.BatchCommit) error {
		return f.b.FinishRun(ctx, store.RunFinish{RunID: run, Integration: in.ID, Token: token, Finished: time.Now(), Commit: c})
	}
	unchanged := func(step string) {
		t.Helper()
		if cp := f.checkpoints(in.ID); cp.Audit != 0 || len(cp.AuditAccepted) != 0 {
			t.Errorf("%s: checkpoints = %+v, want none moved", step, cp)
		}
		if runs := f.runs(in.ID); runs[0].Finished != nil || runs[0].Events != 0 {
			t.Errorf("%s: run = %+v, want open and empty", step, runs[0])
		}
		if sa := f.setAside(in.ID); len(sa) != 0 {
			t.Errorf("%s: set aside = %+v, want none", step, sa)
		}
	}

	// The commit's checks roll the finish back, and the finish's the commit.
	if err := finish(run+99, l.Token, commit(run+99, l.Token, 20)); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("finish with a commit of an unknown run = %v, want ErrNotFound", err)
	}
	unchanged("unknown run")
	if err := finish(run, l.Token, commit(run+1, l.Token, 20)); err == nil {
		t.Error("finish with another run's commit: accepted")
	}
	unchanged("another run's commit")
	if err := finish(run, l.Token+1, commit(run, l.Token+1, 20)); !errors.Is(err, store.ErrFenced) {
		t.Errorf("finish with a commit under a stale token = %v, want ErrFenced", err)
	}
	unchanged("stale token")

	if err := finish(run, l.Token, commit(run, l.Token, 20)); err != nil {
		t.Fatal(err)
	}
	cp := f.checkpoints(in.ID)
	if cp.Audit != 20 || !slices.Equal(cp.AuditAccepted, []store.Range{{Lo: 25, Hi: 26}}) {
		t.Errorf("checkpoints = %+v, want audit 20 and 25-26 accepted", cp)
	}
	runs := f.runs(in.ID)
	if runs[0].Finished == nil || runs[0].Events != 7 || runs[0].Bytes != 700 || runs[0].SetAside != 1 {
		t.Errorf("run = %+v, want finished with the commit's counts", runs[0])
	}
	// The status counts the commit: it was applied before the run closed.
	if st := f.get(in.ID).Status; st.EventsLastCycle != 7 || st.LastComplete == nil {
		t.Errorf("status = %+v, want 7 events last cycle", st)
	}
	if sa := f.setAside(in.ID); len(sa) != 1 || sa[0].EventID != "bad" {
		t.Errorf("set aside = %+v", sa)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func testIngestAuditDedupe(t *testing.T, f *fixture) {
	// Same id twice in one ingest, and again in a second; the same id in
	// another account is another record.
	got := f.ingestAudit(audit(acctA, "r1", 1), audit(acctA, "r2", 2), audit(acctA, "r1", 3))
	if want := []bool{true, true, false}; !slices.Equal(got, want) {
		t.Errorf("first ingest stored %v, want %v", got, want)
	}
	got = f.ingestAudit(audit(acctA, "r2", 2), audit(acctA, "r3", 4), audit(acctB, "r1", 1))
	if want := []bool{false, true, true}; !slices.Equal(got, want) {
		t.Errorf("second ingest stored %v, want %v", got, want)
	}
	page := f.auditPage(store.AuditQuery{Account: acctA})
	if want := []string{"r1", "r2", "r3"}; !slices.Equal(ids(page), want) {
		t.Fatalf("account A has %v, want %v", ids(page), want)
	}
	// The first copy of r1 is kept, not the later one.
	if !page[0].Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("r1 time = %v, want the first copy's", page[0].Time)
	}
	if page := f.auditPage(store.AuditQuery{Account: acctB}); len(page) != 1 || page[0].ID != "r1" || !page[0].Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("account B has %+v", page)
	}
}

func testIngestSeqFollowsOrder(t *testing.T, f *fixture) {
	// Occurred times deliberately out of order: seq follows ingest order.
	recs := []siemsync.Audit{audit(acctA, "c", 30), audit(acctB, "x", 0), audit(acctA, "a", 10), audit(acctA, "b", 20)}
	f.ingestAudit(recs...)
	var last int64
	for _, r := range recs {
		if r.Seq <= last {
			t.Errorf("record %s seq %d not after %d", r.ID, r.Seq, last)
		}
		last = r.Seq
	}
	page := f.auditPage(store.AuditQuery{Account: acctA})
	if want := []string{"c", "a", "b"}; !slices.Equal(ids(page), want) {
		t.Errorf("page = %v, want %v", ids(page), want)
	}
	for i, r := range page {
		if want := []int64{recs[0].Seq, recs[2].Seq, recs[3].Seq}[i]; r.Seq != want {
			t.Errorf("page record %s has seq %d, ingest gave %d", r.ID, r.Seq, want)
		}
	}
	if max, err := f.b.MaxAuditSeq(t.Context(), acctA); err != nil || max != recs[3].Seq {
		t.Errorf("MaxAuditSeq = %d, %v, want %d", max, err, recs[3].Seq)
	}
	if max, err := f.b.MaxAuditSeq(t.Context(), unknown); err != nil || max != 0 {
		t.Errorf("MaxAuditSeq of an unknown account = %d, %v", max, err)
	}
	// A later ingest comes after, per account.
	more := []siemsync.Audit{audit(acctB, "y", 0), audit(acctA, "d", 0)}
	f.ingestAudit(more...)
	if more[1].Seq <= recs[3].Seq || more[0].Seq <= recs[1].Seq {
		t.Errorf("later ingest got seqs %d, %d", more[0].Seq, more[1].Seq)
	}
}

func testIngestAuditBatch(t *testing.T, f *fixture) {
	var recs []siemsync.Audit
	for i := range 300 { // several multi-row statements and a remainder
		n := i % 200 // 100 repeats
		acct := acctA
		if n%3 == 2 {
			acct = acctB
		}
		recs = append(recs, audit(acct, fmt.Sprintf("%s-%d", acct[:4], n), i))
	}
	var stored int
	f.ingest(func(in store.IngestTx) error {
		var err error
		stored, err = in.AuditBatch(recs)
		return err
	})
	if stored != 200 {
		t.Errorf("stored %d, want 200", stored)
	}
	// Again: all duplicates.
	f.ingest(func(in store.IngestTx) error {
		var err error
		stored, err = in.AuditBatch(recs[:150])
		return err
	})
	if stored != 0 {
		t.Errorf("stored %d duplicates", stored)
	}
	for _, acct := range []string{acctA, acctB} {
		page := f.auditPage(store.AuditQuery{Account: acct})
		var want []string
		for _, r := range recs[:200] {
			if r.Account == acct {
				want = append(want, r.ID)
			}
		}
		if !slices.Equal(ids(page), want) {
			t.Errorf("account %s: %v, want %v in file order", acct, ids(page), want)
		}
		for i, r := range page {
			if i > 0 && r.Seq <= page[i-1].Seq {
				t.Errorf("seq %d after %d", r.Seq, page[i-1].Seq)
			}
		}
	}
}

func testIngestRollback(t *testing.T, f *fixture) {
	in, err := f.b.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	a := audit(acctA, "r1", 1)
	j := job(acctA, jobID(1), siemsync.JobInProgress)
	if _, err := in.Audit(&a); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Job(&j); err != nil {
		t.Fatal(err)
	}
	if err := in.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := in.Rollback(); err != nil {
		t.Errorf("second Rollback = %v", err)
	}
	if page := f.auditPage(store.AuditQuery{Account: acctA}); len(page) != 0 {
		t.Errorf("rolled back records are visible: %v", ids(page))
	}
	if _, err := f.b.GetAccount(t.Context(), acctA); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("rolled back account exists: %v", err)
	}
	// The id is free again, and the first job change after the rollback
	// is above every change before it (there was none).
	if got := f.ingestAudit(a); !got[0] {
		t.Error("the id of a rolled back record is taken")
	}
	j2 := job(acctA, jobID(2), siemsync.JobInProgress)
	f.ingestJobs(j2)
	if page := f.jobPage(store.JobQuery{Account: acctA}); !slices.Equal(jobIDs(page), []string{jobID(2)}) {
		t.Errorf("jobs after a rolled back ingest = %v", jobIDs(page))
	}
	// Rollback after Commit does nothing.
	in, err = f.b.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := in.Rollback(); err != nil {
		t.Errorf("Rollback after Commit = %v", err)
	}
}

func testIngestJobChanges(t *testing.T, f *fixture) {
	half := 0.5
	base := job(acctA, jobID(1), siemsync.JobInProgress)
	base.StartTime = t0
	base.Progress = &half
	tests := []struct {
		name    string
		edit    func(j *siemsync.Job)
		changed bool
	}{
		{"new job", func(j *siemsync.Job) {}, true},
		{"identical", func(j *siemsync.Job) {}, false},
		{"progress", func(j *siemsync.Job) { p := 0.75; j.Progress = &p }, true},
		{"same progress again", func(j *siemsync.Job) { p := 0.75; j.Progress = &p }, false},
		{"progress removed", func(j *siemsync.Job) { j.Progress = nil }, true},
		{"paused", func(j *siemsync.Job) { j.Paused = t0.Add(time.Hour) }, true},
		{"field cleared (whole record replaced)", func(j *siemsync.Job) { j.Description = "" }, true},
		{"ended", func(j *siemsync.Job) { j.Status = siemsync.JobSuccessful; j.EndTime = t0.Add(2 * time.Hour) }, true},
		{"ended identical", func(j *siemsync.Job) { j.Status = siemsync.JobSuccessful; j.EndTime = t0.Add(2 * time.Hour) }, false},
	}
	cur := base
	var lastSeq int64
	var lastChange time.Time
	for _, tt := range tests {
		j := cur
		tt.edit(&j)
		if got := f.ingestJobs(j)[0]; got != tt.changed {
			t.Errorf("%s: changed = %v, want %v", tt.name, got, tt.changed)
		}
		max, err := f.b.MaxJobSeq(t.Context(), acctA)
		if err != nil {
			t.Fatal(err)
		}
		if tt.changed && max <= lastSeq || !tt.changed && max != lastSeq {
			t.Errorf("%s: job seq %d after %d", tt.name, max, lastSeq)
		}
		page := f.jobPage(store.JobQuery{Account: acctA})
		if len(page) != 1 {
			t.Fatalf("%s: JobPage = %v", tt.name, jobIDs(page))
		}
		if !tt.changed && !page[0].ChangedAt.Equal(lastChange) {
			t.Errorf("%s: ChangedAt moved from %v to %v on an identical upsert", tt.name, lastChange, page[0].ChangedAt)
		}
		lastSeq, lastChange, cur = max, page[0].ChangedAt, j
		time.Sleep(2 * time.Millisecond) // so that a ChangedAt that moves shows it
	}
	got := f.jobPage(store.JobQuery{Account: acctA})[0]
	if got.Seq != lastSeq || got.Status != siemsync.JobSuccessful || !got.EndTime.Equal(t0.Add(2*time.Hour)) ||
		got.Description != "" || got.Progress != nil || !got.StartTime.Equal(t0) || !got.Paused.Equal(t0.Add(time.Hour)) {
		t.Errorf("stored job = %+v", got)
	}
}

func testAuditPage(t *testing.T, f *fixture) {
	// Account A: a1..a5 occurred at minutes 50, 10, 40, 20, 60; account B
	// records interleave with them.
	recs := []siemsync.Audit{
		audit(acctA, "a1", 50), audit(acctB, "b1", 0), audit(acctA, "a2", 10), audit(acctA, "a3", 40),
		audit(acctB, "b2", 0), audit(acctA, "a4", 20), audit(acctA, "a5", 60),
	}
	f.ingestAudit(recs...)
	seq := map[string]int64{}
	for _, r := range recs {
		seq[r.ID] = r.Seq
	}
	tests := []struct {
		name string
		q    store.AuditQuery
		want []string
	}{
		{"all of A", store.AuditQuery{Account: acctA, Limit: 100}, []string{"a1", "a2", "a3", "a4", "a5"}},
		{"all of B", store.AuditQuery{Account: acctB, Limit: 100}, []string{"b1", "b2"}},
		{"unknown account", store.AuditQuery{Account: unknown, Limit: 100}, nil},
		{"limit", store.AuditQuery{Account: acctA, Limit: 2}, []string{"a1", "a2"}},
		{"after cursor", store.AuditQuery{Account: acctA, After: seq["a2"], Limit: 2}, []string{"a3", "a4"}},
		{"after a B seq", store.AuditQuery{Account: acctA, After: seq["b2"], Limit: 10}, []string{"a4", "a5"}},
		{"at the end", store.AuditQuery{Account: acctA, After: seq["a5"], Limit: 10}, nil},
		{"zero limit", store.AuditQuery{Account: acctA}, nil},
		// Backfill since minute 30 up to a4: a2 (10) and a4 (20) are older;
		// a5 is past the backfill end, so it is sent whatever its time.
		{"backfill", store.AuditQuery{Account: acctA, Limit: 10, BackfillSince: t0.Add(30 * time.Minute), BackfillUntil: seq["a4"]},
			[]string{"a1", "a3", "a5"}},
		{"backfill boundary is inclusive", store.AuditQuery{Account: acctA, Limit: 10, BackfillSince: t0.Add(40 * time.Minute), BackfillUntil: seq["a4"]},
			[]string{"a1", "a3", "a5"}},
		{"backfill after cursor", store.AuditQuery{Account: acctA, After: seq["a1"], Limit: 10, BackfillSince: t0.Add(45 * time.Minute), BackfillUntil: seq["a5"]},
			[]string{"a5"}},
	}
	for _, tt := range tests {
		page, err := f.b.AuditPage(t.Context(), tt.q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(page), tt.want) {
			t.Errorf("%s: page = %v, want %v", tt.name, ids(page), tt.want)
		}
		for _, r := range page {
			if r.Seq != seq[r.ID] {
				t.Errorf("%s: record %s has seq %d, ingest gave %d", tt.name, r.ID, r.Seq, seq[r.ID])
			}
		}
	}
}

func testAuditPageFields(t *testing.T, f *fixture) {
	full := siemsync.Audit{
		ID: "full", Time: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC), Account: acctA,
		Connector: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", ACL: "connectors:write", Method: "POST",
		User: "alice@example.com", IP: "2001:db8::1", Metadata: []byte(`{"a":[1,{"b":null}]}`), Event: "connector.created",
	}
	bare := siemsync.Audit{ID: "bare", Time: t0, Account: acctA, Event: "e"}
	f.ingestAudit(full, bare, audit(acctA, "third", 3))
	dst := make([]siemsync.Audit, 5, 10)
	dst[0].Metadata = []byte(`{"stale":1}`)
	page, err := f.b.AuditPage(t.Context(), store.AuditQuery{Account: acctA, Limit: 10}, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || &page[0] != &dst[0] {
		t.Fatalf("page did not reuse dst: len %d", len(page))
	}
	full.Seq = page[0].Seq
	if got := page[0]; !equalAudit(got, full) {
		t.Errorf("full record = %+v\nwant %+v", got, full)
	}
	bare.Seq = page[1].Seq
	if got := page[1]; !equalAudit(got, bare) || got.Metadata != nil {
		t.Errorf("bare record = %+v\nwant %+v", got, bare)
	}
	// One record's metadata cannot run into the next one's.
	_ = append(page[0].Metadata, "garbage"...)
	if string(page[2].Metadata) != `{"n":3}` {
		t.Errorf("append to one record's metadata changed the next: %s", page[2].Metadata)
	}
}

func equalAudit(a, b siemsync.Audit) bool {
	return a.Seq == b.Seq && a.ID == b.ID && a.Time.Equal(b.Time) && a.Account == b.Account && a.Connector == b.Connector &&
		a.ACL == b.ACL && a.Method == b.Method && a.User == b.User && a.IP == b.IP &&
		string(a.Metadata) == string(b.Metadata) && a.Event == b.Event
}

func testJobPage(t *testing.T, f *fixture) {
	// Changes: j1 (ends later), j2 active, j3 ended, jb (account B, active), j4 active, j1 ended.
	f.ingestJobs(job(acctA, jobID(1), siemsync.JobInProgress), job(acctA, jobID(2), siemsync.JobScheduled))
	ended := job(acctA, jobID(3), siemsync.JobInProgress)
	ended.EndTime = t0 // an end time makes a job inactive whatever its status
	f.ingestJobs(ended, job(acctB, jobID(9), siemsync.JobInProgress), job(acctA, jobID(4), siemsync.JobInProgress))
	checkpoint, err := f.b.MaxJobSeq(t.Context(), acctA) // j4's change
	if err != nil {
		t.Fatal(err)
	}
	done := job(acctA, jobID(1), siemsync.JobSuccessful)
	f.ingestJobs(done)
	seqs := map[string]int64{}
	for _, j := range f.jobPage(store.JobQuery{Account: acctA}) {
		seqs[j.Job] = j.Seq
	}
	tests := []struct {
		name string
		q    store.JobQuery
		want []string
	}{
		{"from scratch", store.JobQuery{Account: acctA, Limit: 10}, []string{jobID(2), jobID(3), jobID(4), jobID(1)}},
		{"since checkpoint: changed plus active", store.JobQuery{Account: acctA, Checkpoint: checkpoint, Limit: 10}, []string{jobID(2), jobID(4), jobID(1)}},
		{"checkpoint at j2", store.JobQuery{Account: acctA, Checkpoint: seqs[jobID(2)], Limit: 10}, []string{jobID(2), jobID(3), jobID(4), jobID(1)}},
		{"paged", store.JobQuery{Account: acctA, Checkpoint: checkpoint, Limit: 2}, []string{jobID(2), jobID(4)}},
		{"next page", store.JobQuery{Account: acctA, Checkpoint: checkpoint, After: seqs[jobID(4)], Limit: 2}, []string{jobID(1)}},
		{"after inside active half", store.JobQuery{Account: acctA, Checkpoint: checkpoint, After: seqs[jobID(2)], Limit: 10}, []string{jobID(4), jobID(1)}},
		{"up to date: only active", store.JobQuery{Account: acctA, Checkpoint: seqs[jobID(1)], Limit: 10}, []string{jobID(2), jobID(4)}},
		{"other account", store.JobQuery{Account: acctB, Limit: 10}, []string{jobID(9)}},
		{"zero limit", store.JobQuery{Account: acctA}, nil},
	}
	for _, tt := range tests {
		page, err := f.b.JobPage(t.Context(), tt.q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(jobIDs(page), tt.want) {
			t.Errorf("%s: page = %v, want %v", tt.name, jobIDs(page), tt.want)
		}
		for i, j := range page {
			if i > 0 && j.Seq <= page[i-1].Seq {
				t.Errorf("%s: job %s (seq %d) after seq %d", tt.name, j.Job, j.Seq, page[i-1].Seq)
			}
		}
	}
}

// Records of one account never show in another's pages. Pages stamp the
// queried account on every record, so this checks the ids, which come from
// the stored rows: every account has ids of its own.
func testTenantIsolation(t *testing.T, f *fixture) {
	accounts := []string{acctA, acctB, "c3d4e5f6-0000-4000-8000-00000000000c"}
	owner := map[string]string{} // record or job id -> account
	var recs []siemsync.Audit
	var jobs []siemsync.Job
	for i := range 90 {
		acct := accounts[i%len(accounts)]
		id := fmt.Sprintf("%s-%03d", acct[:8], i)
		recs = append(recs, audit(acct, id, i))
		owner[id] = acct
		j := job(acct, jobID(i), siemsync.JobInProgress)
		jobs = append(jobs, j)
		owner[j.Job] = acct
	}
	f.ingestAudit(recs...)
	f.ingestJobs(jobs...)
	for _, acct := range accounts {
		var got []string
		for after := int64(0); ; {
			page := f.auditPage(store.AuditQuery{Account: acct, After: after, Limit: 7})
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got = append(got, r.ID)
				if owner[r.ID] != acct {
					t.Errorf("audit record %s of account %q in a page of %s", r.ID, owner[r.ID], acct)
				}
			}
			after = page[len(page)-1].Seq
		}
		if len(got) != 30 {
			t.Errorf("account %s paged %d audit records, want 30", acct, len(got))
		}
		var gotJobs int
		for after := int64(0); ; {
			page := f.jobPage(store.JobQuery{Account: acct, After: after, Limit: 7})
			if len(page) == 0 {
				break
			}
			for _, j := range page {
				gotJobs++
				if owner[j.Job] != acct {
					t.Errorf("job %s of account %q in a page of %s", j.Job, owner[j.Job], acct)
				}
			}
			after = page[len(page)-1].Seq
		}
		if gotJobs != 30 {
			t.Errorf("account %s paged %d jobs, want 30", acct, gotJobs)
		}
	}
}

// Prune deletes what is older than the cutoff and counts, per integration,
// what it deleted before the integration delivered it. The cutoff is a
// minute past the store's clock, so that it reaches the jobs the store
// stamped just now; audit records are placed by their occurred time.
func testPrune(t *testing.T, f *fixture) {
	ctx := t.Context()
	behind := f.create(hecIntegration(acctA, "behind"))
	uptodate := f.create(hecIntegration(acctA, "uptodate"))
	disabled := f.create(hecIntegration(acctA, "disabled"))
	jobsOnly := hecIntegration(acctA, "jobs-only")
	jobsOnly.Sources = []string{siemsync.SourceJobs}
	f.create(jobsOnly)
	other := f.create(hecIntegration(acctB, "other"))
	if err := f.b.SetEnabled(ctx, disabled.ID, false); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	old, fresh := now.Add(-2*time.Hour), now.Add(2*time.Hour)
	at := func(acct, id string, when time.Time) siemsync.Audit {
		a := audit(acct, id, 0)
		a.Time = when
		return a
	}
	recs := []siemsync.Audit{at(acctA, "r0", old), at(acctA, "r1", old.Add(time.Minute)), at(acctB, "b0", old),
		at(acctA, "r2", old.Add(2*time.Minute)), at(acctA, "new1", fresh), at(acctA, "new2", fresh)}
	f.ingestAudit(recs...)
	jobs := []siemsync.Job{job(acctA, jobID(1), siemsync.JobSuccessful), job(acctA, jobID(2), siemsync.JobInProgress)}
	f.ingestJobs(jobs...)

	// A backfill of audit since an hour ago: the old records were never
	// to be sent to it, so pruning them loses nothing.
	since := now.Add(-time.Hour)
	backfill := hecIntegration(acctA, "backfill")
	backfill.Sources = []string{siemsync.SourceAudit}
	backfill.BackfillSince = &since
	f.create(backfill)

	// uptodate delivered everything up to r2 and the jobs.
	l := f.acquire(uptodate.ID, "w", time.Minute)
	run := f.startRun(l)
	for _, b := range []store.BatchCommit{
		{RunID: run, Integration: uptodate.ID, Token: l.Token, Source: "audit", Checkpoint: recs[3].Seq},
		{RunID: run, Integration: uptodate.ID, Token: l.Token, Source: "jobs", Checkpoint: jobs[1].Seq},
	} {
		if err := f.b.CommitBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.b.FinishRun(ctx, store.RunFinish{RunID: run, Integration: uptodate.ID, Token: l.Token, Finished: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.startRun(l) // unfinished: kept

	res, err := f.b.Prune(ctx, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// behind and disabled: 3 audit + 1 job each; jobs-only: 1 job; other: b0.
	if want := (store.PruneResult{Audit: 4, Jobs: 1, Runs: 1, Missed: 4 + 4 + 1 + 1}); res != want {
		t.Errorf("PruneResult = %+v, want %+v", res, want)
	}
	if page := f.auditPage(store.AuditQuery{Account: acctA}); !slices.Equal(ids(page), []string{"new1", "new2"}) {
		t.Errorf("audit left: %v", ids(page))
	}
	if page := f.jobPage(store.JobQuery{Account: acctA}); !slices.Equal(jobIDs(page), []string{jobID(2)}) {
		t.Errorf("jobs left: %v (the active job must stay)", jobIDs(page))
	}
	if runs := f.runs(uptodate.ID); len(runs) != 1 || runs[0].Finished != nil {
		t.Errorf("runs left: %+v, want the unfinished one", runs)
	}
	const audit3, job1 = "retention pruned 3 audit records (", "retention pruned 1 job update ("
	want := map[string][]string{
		behind.ID:   {audit3, job1},
		uptodate.ID: nil,
		disabled.ID: {audit3, job1},
		jobsOnly.ID: {job1},
		backfill.ID: nil,
		other.ID:    {"retention pruned 1 audit record ("},
	}
	list, err := f.b.ListIntegrations(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(want) {
		t.Fatalf("ListIntegrations has %d, want %d", len(list), len(want))
	}
	for _, in := range list {
		w := want[in.ID]
		got := f.get(in.ID).Status.Warnings
		if !slices.Equal(in.Status.Warnings, got) {
			t.Errorf("%s: list warnings %q, get warnings %q", in.Name, in.Status.Warnings, got)
		}
		ok := len(got) == len(w)
		for i := 0; ok && i < len(w); i++ {
			ok = strings.HasPrefix(got[i], w[i])
		}
		if !ok {
			t.Errorf("%s warnings:\n got %q\nwant prefixes %q", in.Name, got, w)
		}
	}
	if got := f.get(behind.ID).Status.Warnings[0]; !strings.Contains(got, old.Format(time.RFC3339Nano)+" to "+old.Add(2*time.Minute).Format(time.RFC3339Nano)) {
		t.Errorf("warning %q does not name the occurred times of the lost records", got)
	}
	// Pruned seqs are never handed out again.
	late := []siemsync.Audit{at(acctA, "late", fresh)}
	f.ingestAudit(late...)
	if late[0].Seq <= recs[len(recs)-1].Seq {
		t.Errorf("new record seq %d after pruning, last was %d", late[0].Seq, recs[len(recs)-1].Seq)
	}
}

func testAccounts(t *testing.T, f *fixture) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	f.ingestAudit(audit(acctB, "r1", 1))
	f.ingestJobs(job(acctA, jobID(1), siemsync.JobScheduled))
	accts, err := f.b.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) != 2 || accts[0].ID != acctA || accts[1].ID != acctB || accts[0].CreatedAt.Before(before) {
		t.Fatalf("accounts = %+v", accts)
	}
	name, host := "Acme", "eu-1.example.net"
	if err := f.b.UpdateAccount(ctx, acctA, &name, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.b.UpdateAccount(ctx, acctA, nil, &host); err != nil {
		t.Fatal(err)
	}
	a, err := f.b.GetAccount(ctx, acctA)
	if err != nil || a.Name != name || a.Host != host {
		t.Errorf("GetAccount = %+v, %v", a, err)
	}
	if b, err := f.b.GetAccount(ctx, acctB); err != nil || b.Name != "" || b.Host != "" {
		t.Errorf("the other account = %+v, %v", b, err)
	}
	if err := f.b.UpdateAccount(ctx, unknown, &name, nil); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("UpdateAccount of an unknown account = %v, want ErrNotFound", err)
	}
	if _, err := f.b.GetAccount(ctx, unknown); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("GetAccount of an unknown account = %v, want ErrNotFound", err)
	}
}

func testSettings(t *testing.T, f *fixture) {
	if _, err := f.b.Setting(t.Context(), "schedule"); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("unset setting = %v, want ErrNotFound", err)
	}
	for _, v := range []string{"@every 5m", "@every 1m"} {
		if err := f.b.SetSetting(t.Context(), "schedule", v); err != nil {
			t.Fatal(err)
		}
		if got, err := f.b.Setting(t.Context(), "schedule"); got != v || err != nil {
			t.Errorf("Setting = %q, %v; want %q", got, err, v)
		}
	}
}

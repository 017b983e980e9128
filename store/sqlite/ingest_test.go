package sqlite_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func TestIngestAuditDedupe(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Same id twice in one file, and again in a second file; the same id in
	// another account is another record.
	got := f.ingestAudit(t, audit(acctA, "r1", 1), audit(acctA, "r2", 2), audit(acctA, "r1", 3))
	if want := []bool{true, true, false}; !slices.Equal(got, want) {
		t.Errorf("first file stored %v, want %v", got, want)
	}
	got = f.ingestAudit(t, audit(acctA, "r2", 2), audit(acctA, "r3", 4), audit(acctB, "r1", 1))
	if want := []bool{false, true, true}; !slices.Equal(got, want) {
		t.Errorf("second file stored %v, want %v", got, want)
	}
	page := f.auditPage(t, store.AuditQuery{Account: acctA})
	if want := []string{"r1", "r2", "r3"}; !slices.Equal(ids(page), want) {
		t.Errorf("account A has %v, want %v", ids(page), want)
	}
	// The first copy of r1 is kept, not the later one.
	if !page[0].Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("r1 time = %v, want the first copy's", page[0].Time)
	}
}

func TestIngestSeqFollowsOrder(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Occurred times deliberately out of order: seq follows ingest order.
	recs := []siemsync.Audit{audit(acctA, "c", 30), audit(acctB, "x", 0), audit(acctA, "a", 10), audit(acctA, "b", 20)}
	f.ingestAudit(t, recs...)
	var last int64
	for _, r := range recs {
		if r.Seq <= last {
			t.Errorf("record %s seq %d not after %d", r.ID, r.Seq, last)
		}
		last = r.Seq
	}
	page := f.auditPage(t, store.AuditQuery{Account: acctA})
	if want := []string{"c", "a", "b"}; !slices.Equal(ids(page), want) {
		t.Errorf("page = %v, want %v", ids(page), want)
	}
	if max, _ := f.db.MaxAuditSeq(t.Context(), acctA); max != recs[3].Seq {
		t.Errorf("MaxAuditSeq = %d, want %d", max, recs[3].Seq)
	}
}

func TestIngestAuditBatch(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var recs []siemsync.Audit
	for i := range 200 { // several multi-row statements and a remainder
		recs = append(recs, audit(acctA, jobID(i%150), i)) // 50 repeats
	}
	in, err := f.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n, err := in.AuditBatch(recs)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	if n != 150 {
		t.Errorf("stored %d, want 150", n)
	}
	page := f.auditPage(t, store.AuditQuery{Account: acctA, Limit: 1000})
	if len(page) != 150 {
		t.Fatalf("page has %d records", len(page))
	}
	for i, r := range page {
		if r.ID != jobID(i) || !r.Time.Equal(t0.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("record %d = %s at %v, want %s in file order", i, r.ID, r.Time, jobID(i))
		}
	}
}

func TestIngestRollback(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in, err := f.db.BeginIngest(t.Context())
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
	if page := f.auditPage(t, store.AuditQuery{Account: acctA}); len(page) != 0 {
		t.Errorf("rolled back records are visible: %v", ids(page))
	}
	if _, err := f.db.GetAccount(t.Context(), acctA); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("rolled back account exists: %v", err)
	}
	// The job sequence was not consumed.
	j2 := job(acctA, jobID(2), siemsync.JobInProgress)
	f.ingestJobs(t, j2)
	if max, _ := f.db.MaxJobSeq(t.Context(), acctA); max != 1 {
		t.Errorf("job seq after a rolled back ingest = %d, want 1", max)
	}
}

func TestIngestJobChanges(t *testing.T) {
	t.Parallel()
	f := setup(t)
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
	for i, tt := range tests {
		f.clock.Set(t0.Add(time.Duration(i) * time.Minute))
		j := cur
		tt.edit(&j)
		got := f.ingestJobs(t, j)[0]
		if got != tt.changed {
			t.Errorf("%s: changed = %v, want %v", tt.name, got, tt.changed)
		}
		max, _ := f.db.MaxJobSeq(t.Context(), acctA)
		if tt.changed && max <= lastSeq || !tt.changed && max != lastSeq {
			t.Errorf("%s: job seq %d after %d", tt.name, max, lastSeq)
		}
		lastSeq = max
		cur = j
	}
	page, err := f.db.JobPage(t.Context(), store.JobQuery{Account: acctA, Limit: 10}, nil)
	if err != nil || len(page) != 1 {
		t.Fatalf("JobPage = %v, %v", page, err)
	}
	got := page[0]
	if got.Seq != lastSeq || got.Status != siemsync.JobSuccessful || !got.EndTime.Equal(t0.Add(2*time.Hour)) ||
		got.Description != "" || got.Progress != nil || !got.StartTime.Equal(t0) || !got.Paused.Equal(t0.Add(time.Hour)) {
		t.Errorf("stored job = %+v", got)
	}
	// changed_at is the time of the last change, not of the identical upsert.
	if !got.ChangedAt.Equal(t0.Add(7 * time.Minute)) {
		t.Errorf("ChangedAt = %v, want %v", got.ChangedAt, t0.Add(7*time.Minute))
	}
}

func TestIngestCreatesAccounts(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.ingestAudit(t, audit(acctB, "r1", 1))
	f.ingestJobs(t, job(acctA, jobID(1), siemsync.JobScheduled))
	accts, err := f.db.ListAccounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) != 2 || accts[0].ID != acctA || accts[1].ID != acctB || !accts[0].CreatedAt.Equal(t0) {
		t.Fatalf("accounts = %+v", accts)
	}
	name, host := "Acme", "eu-1.example.net"
	if err := f.db.UpdateAccount(t.Context(), acctA, &name, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.db.UpdateAccount(t.Context(), acctA, nil, &host); err != nil {
		t.Fatal(err)
	}
	a, err := f.db.GetAccount(t.Context(), acctA)
	if err != nil || a.Name != name || a.Host != host {
		t.Errorf("GetAccount = %+v, %v", a, err)
	}
	if err := f.db.UpdateAccount(t.Context(), "00000000-0000-4000-8000-000000000000", &name, nil); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("UpdateAccount of an unknown account = %v, want ErrNotFound", err)
	}
}

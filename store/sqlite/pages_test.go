package sqlite_test

import (
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func TestAuditPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Account A: a1..a5 occurred at minutes 50, 10, 40, 20, 60; account B
	// records interleave with them.
	recs := []siemsync.Audit{
		audit(acctA, "a1", 50), audit(acctB, "b1", 0), audit(acctA, "a2", 10), audit(acctA, "a3", 40),
		audit(acctB, "b2", 0), audit(acctA, "a4", 20), audit(acctA, "a5", 60),
	}
	f.ingestAudit(t, recs...)
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
		{"unknown account", store.AuditQuery{Account: "00000000-0000-4000-8000-000000000000", Limit: 100}, nil},
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
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page, err := f.db.AuditPage(t.Context(), tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(page), tt.want) {
				t.Errorf("page = %v, want %v", ids(page), tt.want)
			}
			for _, r := range page {
				if r.Account != tt.q.Account {
					t.Errorf("record %s of account %s in a page of %s", r.ID, r.Account, tt.q.Account)
				}
			}
		})
	}
}

func TestAuditPageFields(t *testing.T) {
	t.Parallel()
	f := setup(t)
	full := siemsync.Audit{
		ID: "full", Time: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC), Account: acctA,
		Connector: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", ACL: "connectors:write", Method: "POST",
		User: "alice@example.com", IP: "2001:db8::1", Metadata: []byte(`{"a":[1,{"b":null}]}`), Event: "connector.created",
	}
	bare := siemsync.Audit{ID: "bare", Time: t0, Account: acctA, Event: "e"}
	f.ingestAudit(t, full, bare, audit(acctA, "third", 3))
	dst := make([]siemsync.Audit, 5, 10)
	dst[0].Metadata = []byte(`{"stale":1}`)
	page, err := f.db.AuditPage(t.Context(), store.AuditQuery{Account: acctA, Limit: 10}, dst)
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
	// Metadata slices share a buffer but cannot overwrite each other.
	m := append(page[0].Metadata, "garbage"...)
	_ = m
	if string(page[2].Metadata) != `{"n":3}` {
		t.Errorf("append to one record's metadata changed the next: %s", page[2].Metadata)
	}
}

func equalAudit(a, b siemsync.Audit) bool {
	return a.Seq == b.Seq && a.ID == b.ID && a.Time.Equal(b.Time) && a.Account == b.Account && a.Connector == b.Connector &&
		a.ACL == b.ACL && a.Method == b.Method && a.User == b.User && a.IP == b.IP &&
		string(a.Metadata) == string(b.Metadata) && a.Event == b.Event
}

func TestJobPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Seqs: j1=1 (ends later), j2=2 active, j3=3 ended, jb=4 (account B, active), j4=5 active, j1=6 ended.
	f.ingestJobs(t, job(acctA, jobID(1), siemsync.JobInProgress), job(acctA, jobID(2), siemsync.JobScheduled))
	ended := job(acctA, jobID(3), siemsync.JobInProgress)
	ended.EndTime = t0 // an end time makes a job inactive whatever its status
	f.ingestJobs(t, ended, job(acctB, jobID(9), siemsync.JobInProgress), job(acctA, jobID(4), siemsync.JobInProgress))
	checkpoint, _ := f.db.MaxJobSeq(t.Context(), acctA) // 5
	done := job(acctA, jobID(1), siemsync.JobSuccessful)
	f.ingestJobs(t, done)
	tests := []struct {
		name string
		q    store.JobQuery
		want []string
	}{
		{"from scratch", store.JobQuery{Account: acctA, Limit: 10}, []string{jobID(2), jobID(3), jobID(4), jobID(1)}},
		{"since checkpoint: changed plus active", store.JobQuery{Account: acctA, Checkpoint: checkpoint, Limit: 10}, []string{jobID(2), jobID(4), jobID(1)}},
		{"checkpoint 2", store.JobQuery{Account: acctA, Checkpoint: 2, Limit: 10}, []string{jobID(2), jobID(3), jobID(4), jobID(1)}},
		{"paged", store.JobQuery{Account: acctA, Checkpoint: checkpoint, Limit: 2}, []string{jobID(2), jobID(4)}},
		{"next page", store.JobQuery{Account: acctA, Checkpoint: checkpoint, After: 5, Limit: 2}, []string{jobID(1)}},
		{"after inside active half", store.JobQuery{Account: acctA, Checkpoint: checkpoint, After: 2, Limit: 10}, []string{jobID(4), jobID(1)}},
		{"up to date: only active", store.JobQuery{Account: acctA, Checkpoint: 6, Limit: 10}, []string{jobID(2), jobID(4)}},
		{"other account", store.JobQuery{Account: acctB, Limit: 10}, []string{jobID(9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page, err := f.db.JobPage(t.Context(), tt.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(jobIDs(page), tt.want) {
				t.Errorf("page = %v, want %v", jobIDs(page), tt.want)
			}
			for i, j := range page {
				if j.Account != tt.q.Account || (i > 0 && j.Seq <= page[i-1].Seq) {
					t.Errorf("job %+v out of place", j)
				}
			}
		})
	}
}

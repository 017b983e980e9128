// Package storetest is the conformance suite of the store contract: every
// backend (store/sqlite, store/postgres) runs it from its own tests with
//
//	storetest.Run(t, openBackend)
//
// It uses only the store.Backend interface and the backend's own clock
// (real time): lease expiry is waited for, never timed.
package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Run runs every conformance test. open returns a new, empty backend that
// can seal secrets (it has a Cipher); it is called once per test, and Run
// closes the backend when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Leases", testLeases},
		{"LeaseExpiryAndTakeover", testLeaseExpiry},
		{"LeaseRelease", testLeaseRelease},
		{"ConcurrentAcquire", testConcurrentAcquire},
		{"ConcurrentLeaseDue", testConcurrentLeaseDue},
		{"DueWork", testDueWork},
		{"Fencing", testFencing},
		{"Checkpoints", testCheckpoints},
		{"AcceptedRanges", testAcceptedRanges},
		{"CommitBatch", testCommitBatch},
		{"Runs", testRuns},
		{"BeginCycle", testBeginCycle},
		{"BeginCycles", testBeginCycles},
		{"FinishRunRelease", testFinishRunRelease},
		{"FinishRunCommit", testFinishRunCommit},
		{"FinishRunConcurrent", testFinishRunConcurrent},
		{"JobsPending", testJobsPending},
		{"FirstAudit", testFirstAudit},
		{"SetAside", testSetAside},
		{"IngestAuditDedupe", testIngestAuditDedupe},
		{"IngestSeqFollowsOrder", testIngestSeqFollowsOrder},
		{"IngestAuditBatch", testIngestAuditBatch},
		{"IngestRollback", testIngestRollback},
		{"IngestJobChanges", testIngestJobChanges},
		{"AuditPage", testAuditPage},
		{"AuditPageFields", testAuditPageFields},
		{"JobPage", testJobPage},
		{"TenantIsolation", testTenantIsolation},
		{"Prune", testPrune},
		{"BackfillAfterPrune", testBackfillAfterPrune},
		{"Accounts", testAccounts},
		{"IntegrationLifecycle", testIntegrationLifecycle},
		{"IntegrationNewAccount", testIntegrationNewAccount},
		{"IntegrationUnknownAccount", testIntegrationUnknownAccount},
		{"JobOwner", testJobOwner},
		{"IntegrationNameConflict", testIntegrationNameConflict},
		{"UpdateIntegration", testUpdateIntegration},
		{"Secrets", testSecrets},
		{"DeleteIntegration", testDeleteIntegration},
		{"Scope", testScope},
		{"Settings", testSettings},
		{"AccountKeys", testAccountKeys},
		{"Sessions", testSessions},
		{"SIEMFeature", testSIEMFeature},
		{"ProfileAndAlerts", testProfileAndAlerts},
		{"Replays", testReplays},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			t.Cleanup(func() { b.Close() })
			tt.fn(t, &fixture{t: t, b: b})
		})
	}
}

// Fixtures, exported for the backends' own tests.
const (
	AcctA = "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"
	AcctB = "b1c2d3e4-0000-4000-8000-00000000000b"

	acctA, acctB = AcctA, AcctB
	unknown      = "00000000-0000-4000-8000-000000000000"
)

// T0 is a fixed occurred time for records; the store's own clock (real
// time) stamps ingest and change times.
var T0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var t0 = T0

type fixture struct {
	t *testing.T
	b store.Backend
}

// Audit builds a record of account that occurred at T0+minutes.
func Audit(account, id string, minutes int) siemsync.Audit {
	return siemsync.Audit{
		ID: id, Account: account, Time: t0.Add(time.Duration(minutes) * time.Minute),
		Event: "login", User: "alice", Metadata: json.RawMessage(`{"n":` + fmt.Sprint(minutes) + `}`),
	}
}

// Job builds a job of account.
func Job(account, id, status string) siemsync.Job {
	return siemsync.Job{Job: id, Account: account, Status: status, Description: "backup"}
}

// JobID is a valid job UUID for n.
func JobID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// ingestAudit stores records in one ingest with Audit (which sets their
// Seq) and returns the stored flags.
func (f *fixture) ingestAudit(recs ...siemsync.Audit) []bool {
	f.t.Helper()
	var stored []bool
	f.ingest(func(in store.IngestTx) error {
		for i := range recs {
			ok, err := in.Audit(&recs[i])
			if err != nil {
				return err
			}
			stored = append(stored, ok)
		}
		return nil
	})
	return stored
}

// ingestJobs upserts jobs in one ingest and returns the changed flags.
func (f *fixture) ingestJobs(jobs ...siemsync.Job) []bool {
	f.t.Helper()
	var changed []bool
	f.ingest(func(in store.IngestTx) error {
		for i := range jobs {
			ok, err := in.Job(&jobs[i])
			if err != nil {
				return err
			}
			changed = append(changed, ok)
		}
		return nil
	})
	return changed
}

func (f *fixture) ingest(fn func(in store.IngestTx) error) {
	f.t.Helper()
	in, err := f.b.BeginIngest(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	defer in.Rollback()
	if err := fn(in); err != nil {
		f.t.Fatal(err)
	}
	if err := in.Commit(); err != nil {
		f.t.Fatal(err)
	}
}

// HECIntegration is a valid HEC integration of account.
func HECIntegration(account, name string) *siemsync.Integration {
	in := &siemsync.Integration{
		Account: account, Name: name, Kind: siemsync.KindHEC, Enabled: true,
		Sources: []string{siemsync.SourceAudit, siemsync.SourceJobs},
		URL:     "https://splunk.example.com:8088", Token: "tok-" + name,
		CreateAccount: true,
	}
	in.ApplyDefaults()
	return in
}

func (f *fixture) create(in *siemsync.Integration) *siemsync.Integration {
	f.t.Helper()
	if err := f.b.CreateIntegration(f.t.Context(), in); err != nil {
		f.t.Fatal(err)
	}
	return in
}

func (f *fixture) get(id string) *siemsync.Integration {
	f.t.Helper()
	in, err := f.b.GetIntegration(f.t.Context(), id, false)
	if err != nil {
		f.t.Fatal(err)
	}
	return in
}

func (f *fixture) checkpoints(id string) store.Checkpoints {
	f.t.Helper()
	cp, err := f.b.Checkpoints(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return cp
}

func (f *fixture) auditPage(q store.AuditQuery) []siemsync.Audit {
	f.t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	page, err := f.b.AuditPage(f.t.Context(), q, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return page
}

func (f *fixture) jobPage(q store.JobQuery) []siemsync.Job {
	f.t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	page, err := f.b.JobPage(f.t.Context(), q, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return page
}

func (f *fixture) acquire(name, owner string, ttl time.Duration) store.Lease {
	f.t.Helper()
	l, err := f.b.AcquireLease(f.t.Context(), name, owner, ttl)
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

func (f *fixture) startRun(l store.Lease) int64 {
	f.t.Helper()
	cs, err := f.b.BeginCycle(f.t.Context(), l, time.Now(), 10)
	if err != nil {
		f.t.Fatal(err)
	}
	if cs.RunID == 0 {
		f.t.Fatalf("BeginCycle of %s started no run", l.Name)
	}
	return cs.RunID
}

func (f *fixture) setAside(id string) []store.SetAside {
	f.t.Helper()
	sa, err := f.b.ListSetAside(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return sa
}

func (f *fixture) runs(id string) []store.Run {
	f.t.Helper()
	runs, err := f.b.RecentRuns(f.t.Context(), id, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return runs
}

// waitExpired waits until l has expired by the clock of this machine,
// which the backends' clocks follow. It is a wait, not an assertion: a slow
// machine only makes it wait longer.
func waitExpired(l store.Lease) {
	time.Sleep(time.Until(l.Expires) + 5*time.Millisecond)
}

// IDs are the ids of recs.
func IDs(recs []siemsync.Audit) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// JobIDs are the job ids of jobs.
func JobIDs(jobs []siemsync.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Job)
	}
	return out
}

// Short names inside the suite.
var (
	audit          = Audit
	job            = Job
	jobID          = JobID
	hecIntegration = HECIntegration
	ids            = IDs
	jobIDs         = JobIDs
)

package sqlite_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

const (
	acctA = "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"
	acctB = "b1c2d3e4-0000-4000-8000-00000000000b"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// clock is a settable store clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type fixture struct {
	db    *sqlite.DB
	clock *clock
	path  string
}

// setup opens a fresh store with a real cipher in a temp dir.
func setup(t testing.TB) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "siemsync.db")
	c, err := secret.New(bytes.Repeat([]byte{9}, secret.KeySize), "test")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: t0}
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Cipher: c, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{db: db, clock: clk, path: path}
}

// audit builds a record of account at t0+minutes.
func audit(account, id string, minutes int) siemsync.Audit {
	return siemsync.Audit{
		ID: id, Account: account, Time: t0.Add(time.Duration(minutes) * time.Minute),
		Event: "login", User: "alice", Metadata: json.RawMessage(`{"n":` + fmt.Sprint(minutes) + `}`),
	}
}

// ingestAudit stores records in one ingest with Audit and returns the
// stored flags.
func (f *fixture) ingestAudit(t testing.TB, recs ...siemsync.Audit) []bool {
	t.Helper()
	in, err := f.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Rollback()
	var stored []bool
	for i := range recs {
		ok, err := in.Audit(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, ok)
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	return stored
}

// ingestJobs upserts jobs in one ingest and returns the changed flags.
func (f *fixture) ingestJobs(t testing.TB, jobs ...siemsync.Job) []bool {
	t.Helper()
	in, err := f.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Rollback()
	var changed []bool
	for i := range jobs {
		ok, err := in.Job(&jobs[i])
		if err != nil {
			t.Fatal(err)
		}
		changed = append(changed, ok)
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	return changed
}

func job(account, id, status string) siemsync.Job {
	return siemsync.Job{Job: id, Account: account, Status: status, Description: "backup"}
}

// jobID is a valid job UUID for n.
func jobID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// hecIntegration is a valid HEC integration of account.
func hecIntegration(account, name string) *siemsync.Integration {
	in := &siemsync.Integration{
		Account: account, Name: name, Kind: siemsync.KindHEC, Enabled: true,
		Sources: []string{siemsync.SourceAudit, siemsync.SourceJobs},
		URL:     "https://splunk.example.com:8088", Token: "tok-" + name,
		CreateAccount: true,
	}
	in.ApplyDefaults()
	return in
}

func (f *fixture) create(t testing.TB, in *siemsync.Integration) *siemsync.Integration {
	t.Helper()
	if err := f.db.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	return in
}

func (f *fixture) auditPage(t testing.TB, q store.AuditQuery) []siemsync.Audit {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	page, err := f.db.AuditPage(t.Context(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func ids(recs []siemsync.Audit) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func jobIDs(jobs []siemsync.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Job)
	}
	return out
}

package sqlite_test

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
	"github.com/siemsync/siemsync/store/storetest"
)

// The fixtures of the conformance suite.
const acctA, acctB = storetest.AcctA, storetest.AcctB

var (
	t0             = storetest.T0
	audit          = storetest.Audit
	job            = storetest.Job
	jobID          = storetest.JobID
	hecIntegration = storetest.HECIntegration
	ids            = storetest.IDs
	jobIDs         = storetest.JobIDs
)

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
	clk := &clock{t: t0}
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Cipher: testCipher(t), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{db: db, clock: clk, path: path}
}

func testCipher(t testing.TB) store.Cipher {
	t.Helper()
	c, err := secret.New(bytes.Repeat([]byte{9}, secret.KeySize), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
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

package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

const (
	acctA = "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"
	acctB = "b1c2d3e4-0000-4000-8000-00000000000b"
)

func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "i.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func auditOf(t *testing.T, db *sqlite.DB, account string) []siemsync.Audit {
	t.Helper()
	page, err := db.AuditPage(t.Context(), store.AuditQuery{Account: account, Limit: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func TestAuditFile(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	data := readFile(t, "audit.ndjson")
	res, err := ingest.Audit(t.Context(), db, bytes.NewReader(data), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.IngestResult{Lines: 6, Stored: 4, Duplicates: 2}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	// Ingesting the file again stores nothing: ids, given or generated, dedupe.
	res, err = ingest.Audit(t.Context(), db, bytes.NewReader(data), ingest.Options{})
	if err != nil || res.Stored != 0 || res.Duplicates != 6 {
		t.Errorf("second ingest = %+v, %v", res, err)
	}

	a := auditOf(t, db, acctA)
	if len(a) != 3 {
		t.Fatalf("account A has %d records", len(a))
	}
	first := siemsync.Audit{
		Seq: a[0].Seq, ID: "a-1", Time: time.Date(2026, 11, 21, 10, 15, 30, 123e6, time.UTC), Account: acctA,
		Connector: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", ACL: "connectors:write", Method: "POST", User: "alice@example.com",
		IP: "203.0.113.42", Metadata: json.RawMessage(`{"request_id":"r-1","path":"/api/v2/connectors","status":201}`), Event: "connector.created",
	}
	if !equalAudit(a[0], first) {
		t.Errorf("record 1 = %+v\nwant %+v", a[0], first)
	}
	// Upper-case account normalized, offset time in UTC, metadata compacted.
	if a[1].ID != "a-2" || !a[1].Time.Equal(time.Date(2026, 11, 21, 10, 15, 30, 0, time.UTC)) || string(a[1].Metadata) != `{"nested":[1,2,{"deep":null}]}` {
		t.Errorf("record 2 = %+v (metadata %s)", a[1], a[1].Metadata)
	}
	// A generated id is a UUID; empty and null optional fields are absent.
	if len(a[2].ID) != 36 || a[2].ACL != "" || a[2].Method != "" || a[2].Metadata != nil {
		t.Errorf("record 3 = %+v", a[2])
	}
	b := auditOf(t, db, acctB)
	if len(b) != 1 || b[0].User != "café 😀" || !b[0].Time.Equal(time.Date(2026, 11, 21, 10, 19, 0, 500e6, time.UTC)) {
		t.Errorf("account B = %+v", b)
	}
}

func equalAudit(a, b siemsync.Audit) bool {
	return a.Seq == b.Seq && a.ID == b.ID && a.Time.Equal(b.Time) && a.Account == b.Account && a.Connector == b.Connector &&
		a.ACL == b.ACL && a.Method == b.Method && a.User == b.User && a.IP == b.IP &&
		string(a.Metadata) == string(b.Metadata) && a.Event == b.Event
}

func TestJobsFile(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	res, err := ingest.Jobs(t.Context(), db, bytes.NewReader(readFile(t, "jobs.ndjson")), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.IngestResult{Lines: 4, Stored: 3, Duplicates: 1}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	jobs, err := db.JobPage(t.Context(), store.JobQuery{Account: acctA, Limit: 10}, nil)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("JobPage = %v, %v", jobs, err)
	}
	j := jobs[0]
	if j.Job != "0b9e7c1a-1111-4a2b-8c3d-000000000001" || j.Connector != "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" ||
		!j.StartTime.Equal(time.Date(2026, 11, 21, 10, 0, 5, 0, time.UTC)) || !j.Paused.IsZero() || *j.Progress != 0.25 ||
		j.Status != siemsync.JobInProgress || j.Description != "Backup of connector Payroll (Salesforce)" || !j.Active() {
		t.Errorf("job 1 = %+v", j)
	}
	if jobs[2].Active() || jobs[2].User != "" || *jobs[2].Progress != 1 {
		t.Errorf("job 3 = %+v", jobs[2])
	}
}

func TestAccountOption(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	in := `{"time":"2026-11-21T10:00:00Z","event":"no account"}` + "\n" +
		`{"time":"2026-11-21T10:00:00Z","event":"same account","account":"` + strings.ToUpper(acctA) + `"}` + "\n"
	res, err := ingest.Audit(t.Context(), db, strings.NewReader(in), ingest.Options{Account: acctA})
	if err != nil || res.Stored != 2 {
		t.Fatalf("Audit = %+v, %v", res, err)
	}
	if a := auditOf(t, db, acctA); len(a) != 2 || a[0].Account != acctA {
		t.Errorf("records = %+v", a)
	}
	bad := `{"time":"2026-11-21T10:00:00Z","event":"x","account":"` + acctB + `"}`
	_, err = ingest.Audit(t.Context(), db, strings.NewReader(bad), ingest.Options{Account: acctA})
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) || fe.Field != "account" || fe.Line != 1 {
		t.Errorf("other account = %v", err)
	}
	_, err = ingest.Jobs(t.Context(), db, strings.NewReader(`{"job":"0b9e7c1a-1111-4a2b-8c3d-000000000001","status":"scheduled"}`), ingest.Options{Account: acctB})
	if err != nil {
		t.Fatal(err)
	}
	if max, _ := db.MaxJobSeq(t.Context(), acctB); max != 1 {
		t.Errorf("job without account not stored under the path account")
	}
	if _, err := ingest.Audit(t.Context(), db, strings.NewReader(""), ingest.Options{Account: "nope"}); !errors.As(err, &fe) || fe.Field != "account" {
		t.Errorf("bad Options.Account = %v", err)
	}
}

func TestBadLineStoresNothing(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	var b strings.Builder
	for i := range 1000 { // several batches before the bad line
		b.WriteString(`{"time":"2026-11-21T10:00:00Z","account":"` + acctA + `","event":"e` + strings.Repeat("x", i%7) + `","id":"` + time.Duration(i).String() + `"}` + "\n")
	}
	b.WriteString(`{"time":"yesterday","account":"` + acctA + `","event":"e"}` + "\n")
	_, err := ingest.Audit(t.Context(), db, strings.NewReader(b.String()), ingest.Options{})
	if err == nil || err.Error() != `line 1001: field time: must be an RFC 3339 time such as 2026-11-21T15:04:05Z, not "yesterday"` {
		t.Fatalf("err = %v", err)
	}
	if a := auditOf(t, db, acctA); len(a) != 0 {
		t.Errorf("%d records stored from a rejected file", len(a))
	}
	if accts, _ := db.ListAccounts(t.Context()); len(accts) != 0 {
		t.Errorf("account created by a rejected file")
	}
}

func TestLineEndings(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	// A byte order mark, CRLF line ends, blank and white-space lines, and
	// no newline at the end.
	in := "\xef\xbb\xbf{" + `"time":"2026-11-21T10:00:00Z","account":"` + acctA + `","event":"a"}` + "\r\n\r\n   \t\r\n" +
		`{"time":"2026-11-21T10:00:01Z","account":"` + acctA + `","event":"b"}`
	res, err := ingest.Audit(t.Context(), db, strings.NewReader(in), ingest.Options{})
	if err != nil || res.Lines != 2 || res.Stored != 2 {
		t.Fatalf("Audit = %+v, %v", res, err)
	}
	bad := in + "\r\n{}\r\n"
	if _, err := ingest.Audit(t.Context(), db, strings.NewReader(bad), ingest.Options{}); err == nil || !strings.HasPrefix(err.Error(), "line 5: field time:") {
		t.Errorf("error on the fifth line = %v", err)
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := ingest.Audit(ctx, db, bytes.NewReader(readFile(t, "audit.ndjson")), ingest.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ingest = %v", err)
	}
}

// TestJobBelongsToItsAccount: account B naming account A's job id is
// refused at its line, nothing of B's file is stored, and A's job is as
// it was (A's integration still sees it finish). An audit id, by
// contrast, is kept apart per account: B's record with A's id is B's own.
func TestJobBelongsToItsAccount(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	const jobID = "0b9e7c1a-1111-4a2b-8c3d-000000000001"
	a := `{"job":"` + jobID + `","account":"` + acctA + `","status":"in progress","description":"A's backup"}`
	if _, err := ingest.Jobs(t.Context(), db, strings.NewReader(a), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	b := `{"job":"0b9e7c1a-1111-4a2b-8c3d-0000000000b1","account":"` + acctB + `","status":"scheduled"}` + "\n" +
		`{"job":"` + strings.ToUpper(jobID) + `","account":"` + acctB + `","status":"cancelled","description":"taken over"}` + "\n"
	_, err := ingest.Jobs(t.Context(), db, strings.NewReader(b), ingest.Options{})
	want := "line 2: field job: " + jobID + " belongs to another account: a job id is its account's for ever; give this job a new id"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	jobs, err := db.JobPage(t.Context(), store.JobQuery{Account: acctA, Limit: 10}, nil)
	if err != nil || len(jobs) != 1 || jobs[0].Status != siemsync.JobInProgress || jobs[0].Description != "A's backup" {
		t.Errorf("A's jobs = %+v, %v", jobs, err)
	}
	if max, _ := db.MaxJobSeq(t.Context(), acctB); max != 0 {
		t.Errorf("B's file was partly stored (job seq %d)", max)
	}

	rec := func(acct, event string) string {
		return `{"id":"same-id","time":"2026-11-21T10:00:00Z","account":"` + acct + `","event":"` + event + `"}`
	}
	for _, in := range []string{rec(acctA, "A's"), rec(acctB, "B's")} {
		if res, err := ingest.Audit(t.Context(), db, strings.NewReader(in), ingest.Options{}); err != nil || res.Stored != 1 {
			t.Fatalf("Audit %s = %+v, %v", in, res, err)
		}
	}
	if a := auditOf(t, db, acctA); len(a) != 1 || a[0].Event != "A's" {
		t.Errorf("A's audit = %+v", a)
	}
	if b := auditOf(t, db, acctB); len(b) != 1 || b[0].Event != "B's" {
		t.Errorf("B's audit = %+v", b)
	}
}

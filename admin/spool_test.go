package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

// realIngester is the ingester `serve` wires: the ingest package over the
// real store.
type realIngester struct{ db *sqlite.DB }

func (ri realIngester) Audit(ctx context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return ingest.Audit(ctx, ri.db, r, ingest.Options{Account: account})
}

func (ri realIngester) Jobs(ctx context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return ingest.Jobs(ctx, ri.db, r, ingest.Options{Account: account})
}

func auditLine(id string) string {
	return `{"id":"` + id + `","time":"2026-11-21T10:00:00Z","event":"login"}` + "\n"
}

// trickle starts an ingest whose body arrives as the test writes it to the
// returned pipe; the response comes on the channel.
func trickle(t *testing.T, srv *httptest.Server) (*io.PipeWriter, <-chan *http.Response) {
	t.Helper()
	pr, pw := io.Pipe()
	// Fail rather than hang where the server never answers.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/v1/accounts/"+acct+"/audit", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp := make(chan *http.Response, 1)
	go func() {
		r, err := srv.Client().Do(req)
		if err != nil {
			t.Errorf("ingest request: %v", err)
		}
		resp <- r
	}()
	return pw, resp
}

func spoolServer(t *testing.T, timeout time.Duration) (*httptest.Server, *sqlite.DB, string) {
	t.Helper()
	db, _ := openStore(t)
	dir := t.TempDir()
	b := setup(t, func(c *admin.Config) {
		c.Store, c.Ingest, c.SpoolDir, c.IngestBodyTimeout = db, realIngester{db}, dir, timeout
	})
	srv := httptest.NewServer(b.srv)
	t.Cleanup(srv.Close)
	return srv, db, dir
}

// TestSlowIngestDoesNotBlockWrites: a client trickling an ingest body does
// not hold the store's single writer; an integration edit goes through
// while the body is still arriving, and the body is spooled to a 0600
// file that is gone afterwards.
func TestSlowIngestDoesNotBlockWrites(t *testing.T) {
	t.Parallel()
	srv, db, dir := spoolServer(t, 0)
	in := hecIntegrationFor(acct)
	if err := db.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	pw, resp := trickle(t, srv)
	if _, err := io.WriteString(pw, auditLine("first")); err != nil {
		t.Fatal(err)
	}
	// The handler is reading the body once its spool file exists (without
	// a spool, give it a moment to take the writer, then edit).
	var files []os.DirEntry
	for end := time.Now().Add(5 * time.Second); len(files) == 0 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		files, _ = os.ReadDir(dir)
	}
	if len(files) != 1 {
		t.Errorf("spool directory holds %d files while the body arrives, want 1", len(files))
	} else if fi, err := files[0].Info(); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("spool file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}

	edited := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), "PATCH", srv.URL+"/api/v1/integrations/"+in.ID, strings.NewReader(`{"name":"renamed"}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		r, err := srv.Client().Do(req)
		if err != nil {
			t.Errorf("PATCH: %v", err)
			edited <- 0
			return
		}
		r.Body.Close()
		edited <- r.StatusCode
	}()
	select {
	case code := <-edited:
		if code != http.StatusOK {
			t.Errorf("PATCH answered %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Error("an integration edit waited for a trickling ingest body: the upload holds the store's writer")
	}
	io.WriteString(pw, auditLine("second"))
	pw.Close()
	r := <-resp
	if r == nil {
		t.FailNow()
	}
	defer r.Body.Close()
	var res store.IngestResult
	if err := json.NewDecoder(r.Body).Decode(&res); err != nil || r.StatusCode != 200 || res.Stored != 2 {
		t.Errorf("ingest: %d %+v %v", r.StatusCode, res, err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("spool file left behind: %v", files)
	}
}

// TestIngestBodyDeadline: a body that never finishes arriving is answered
// 408 once its time is up, nothing is stored and the spool file is gone.
func TestIngestBodyDeadline(t *testing.T) {
	t.Parallel()
	srv, db, dir := spoolServer(t, 300*time.Millisecond)
	pw, resp := trickle(t, srv)
	defer pw.Close()
	io.WriteString(pw, auditLine("first"))
	r := <-resp
	if r == nil {
		t.FailNow()
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "took longer than 300ms") {
		t.Errorf("stalled body: %d %s", r.StatusCode, body)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("spool file left behind: %v", files)
	}
	if accts, _ := db.ListAccounts(t.Context()); len(accts) != 0 {
		t.Errorf("a stalled body stored something: %+v", accts)
	}
}

func hecIntegrationFor(account string) *siemsync.Integration {
	in := &siemsync.Integration{
		Account: account, Name: "splunk", Kind: siemsync.KindHEC, Enabled: true, Sources: []string{"audit"},
		URL: "https://splunk.example.com:8088", Token: hecToken, CreateAccount: true,
	}
	in.ApplyDefaults()
	return in
}

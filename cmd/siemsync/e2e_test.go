package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/pgtest"
	"github.com/siemsync/siemsync/internal/testbin"
)

// binary is the siemsync built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	var dir string
	var err error
	if binary, dir, err = testbin.Build(repoRoot); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	hecToken = "7d4c2b9e-5f1a-4e8b-9c3d-2a6f0e1b8c47"
	accA     = "0b5d6f1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
	accB     = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
)

// e2e is one isolated installation: a database directory, a HEC receiver,
// and every output the binary printed (checked for secrets at the end).
type e2e struct {
	t    *testing.T
	dir  string
	db   string   // SIEMSYNC_DB
	env  []string // more environment for every command
	recv *hecrecv.Receiver
	url  string
	out  bytes.Buffer
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	e := &e2e{t: t, dir: t.TempDir()}
	e.db, e.env = database(t, e.dir)
	e.recv = hecrecv.New(hecrecv.Options{Tokens: []string{hecToken}})
	srv := httptest.NewServer(e.recv)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	t.Cleanup(func() {
		if strings.Contains(e.out.String(), hecToken) {
			t.Errorf("the HEC token appeared in siemsync's output")
		}
	})
	return e
}

// run runs siemsync and returns stdout, stderr and the exit code.
func (e *e2e) run(stdin string, args ...string) (string, string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(),
		"SIEMSYNC_DB="+e.db,
		"SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS=true",
		"SIEMSYNC_LOG_LEVEL=warn",
		// These tests count the host product's records exactly; siemsync's
		// own audit trail has its own test (TestSelfServiceEndToEnd).
		"SIEMSYNC_AUDIT_TRAIL=false",
		"SIEMSYNC_RETRY_BUDGET=1s",
	)
	cmd.Env = append(cmd.Env, e.env...)
	stdout, stderr, code := testbin.Run(e.t, cmd, stdin)
	e.out.WriteString(stdout + stderr)
	return stdout, stderr, code
}

// ok runs siemsync and fails the test unless it exits 0.
func (e *e2e) ok(stdin string, args ...string) string {
	e.t.Helper()
	stdout, stderr, code := e.run(stdin, args...)
	return testbin.Succeeded(e.t, args, stdout, stderr, code)
}

func auditLines(account string, ids ...string) string {
	var b strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&b, `{"id":%q,"time":"2026-11-20T10:%02d:00Z","account":%q,"user":"alice@example.com","ip":"203.0.113.7","method":"POST","metadata":{"n":%d},"event":"Sign in"}`+"\n", id, i%60, account, i)
	}
	return b.String()
}

func seqIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

func (e *e2e) addHEC(account string, extra ...string) string {
	e.t.Helper()
	args := append([]string{"integrations", "add", "--account", account, "--create-account", "--name", "splunk", "--kind", "splunk_hec",
		"--url", e.url, "--token", hecToken, "--sources", "audit,jobs", "--backfill-since", "2000-01-01T00:00:00Z"}, extra...)
	return strings.TrimSpace(e.ok("", args...))
}

func TestE2EAuditExactlyOnceAcrossCyclesAndAccounts(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.ok(auditLines(accA, seqIDs("a", 120)...)+auditLines(accB, seqIDs("b", 30)...), "ingest", "audit", "-")
	id := e.addHEC(accA, "--max-batch-events", "50")
	if !validUUID(id) {
		t.Fatalf("add printed %q, want the id alone", id)
	}
	out := e.ok("", "sync", "--once")
	if !strings.Contains(out, "audit=120") {
		t.Errorf("summary: %s", out)
	}
	e.ok(auditLines(accA, seqIDs("c", 10)...), "ingest", "audit", "-")
	e.ok("", "sync", "--once", "--integration", id)
	got := e.recv.IDs()
	for _, x := range append(seqIDs("a", 120), seqIDs("c", 10)...) {
		if got[x] != 1 {
			t.Errorf("%s arrived %d times, want once", x, got[x])
		}
	}
	for _, x := range seqIDs("b", 30) {
		if got[x] != 0 {
			t.Fatalf("record %s of another account arrived", x)
		}
	}
	// The wire format: epoch time with milliseconds, _json, host, every field.
	ev := e.recv.Events()[0]
	if ev.Sourcetype != "_json" || ev.Source != "siemsync:audit" || ev.Host == "" || ev.Index != "" {
		t.Errorf("envelope = %+v", ev)
	}
	var body map[string]any
	if err := json.Unmarshal(ev.Event, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"kind", "id", "time", "upload_time", "host", "account", "connector", "acl", "method", "user", "ip", "metadata", "event"} {
		if _, ok := body[k]; !ok {
			t.Errorf("event lacks %q: %v", k, body)
		}
	}
	if body["connector"] != nil || body["kind"] != "audit" {
		t.Errorf("event = %v", body)
	}
}

func TestE2EJobsRunningResentFinishedNot(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	const running, done = "5a1d3c4e-0000-4000-8000-00000000000a", "5a1d3c4e-0000-4000-8000-00000000000b"
	job := func(id, status string, progress float64, end string) string {
		return fmt.Sprintf(`{"job":%q,"account":%q,"status":%q,"progress":%g,"end_time":%s,"type":"backup","description":"backup of Microsoft 365"}`+"\n", id, accA, status, progress, end)
	}
	e.ok(job(running, "in progress", 0.25, "null")+job(done, "successful", 1, `"2026-11-20T09:00:00Z"`), "ingest", "jobs", "-")
	e.addHEC(accA)
	e.ok("", "sync", "--once")
	e.ok("", "sync", "--once")
	e.ok(job(running, "in progress", 0.5, "null"), "ingest", "jobs", "-")
	e.ok("", "sync", "--once")
	var progress []float64
	doneCount := 0
	for _, ev := range e.recv.Events() {
		var j struct {
			Kind, Job, ID string
			Progress      float64
		}
		json.Unmarshal(ev.Event, &j)
		switch j.Job {
		case running:
			progress = append(progress, j.Progress)
		case done:
			doneCount++
		}
		if ev.Source != "siemsync:job" || j.Kind != "job" {
			t.Errorf("job event envelope %+v", ev)
		}
	}
	if want := []float64{0.25, 0.25, 0.5}; fmt.Sprint(progress) != fmt.Sprint(want) {
		t.Errorf("running job progress per cycle = %v, want %v", progress, want)
	}
	if doneCount != 1 {
		t.Errorf("finished job sent %d times, want once", doneCount)
	}
	if ids := e.recv.IDs(); len(ids) != 4 {
		t.Errorf("snapshot ids %v: want 4 distinct (one per snapshot)", ids)
	}
}

func TestE2EOutageThenCatchUp(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.ok(auditLines(accA, seqIDs("before", 5)...), "ingest", "audit", "-")
	id := e.addHEC(accA)
	e.ok("", "sync", "--once")
	e.recv.SetFault(hecrecv.Fault{Status: 503})
	for i := range 3 {
		e.ok(auditLines(accA, seqIDs(fmt.Sprint("outage", i), 7)...), "ingest", "audit", "-")
		stdout, _, code := e.run("", "sync", "--once")
		if code != 1 || !strings.Contains(stdout, "FAIL") {
			t.Fatalf("cycle %d during the outage: exit %d, %s", i, code, stdout)
		}
	}
	show := e.ok("", "integrations", "show", id, "--json")
	if !strings.Contains(show, `"last_error": "20`) || strings.Contains(show, hecToken) {
		t.Errorf("status during outage: %s", show)
	}
	e.recv.SetFault(hecrecv.Fault{})
	e.ok("", "sync", "--once")
	got := e.recv.IDs()
	for i := range 3 {
		for _, x := range seqIDs(fmt.Sprint("outage", i), 7) {
			if got[x] != 1 {
				t.Errorf("%s arrived %d times after recovery", x, got[x])
			}
		}
	}
	for _, x := range seqIDs("before", 5) {
		if got[x] != 1 {
			t.Errorf("%s arrived %d times", x, got[x])
		}
	}
	if show := e.ok("", "integrations", "--json", "show", id); !strings.Contains(show, `"last_error": null`) {
		t.Errorf("error not cleared: %s", show)
	}
}

func TestE2EBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	good := auditLines(accA, "x-1", "x-2")
	bad := `{"id":"x-3","time":"yesterday","account":"` + accA + `","event":"Sign in"}` + "\n"
	_, stderr, code := e.run(good+bad, "ingest", "audit", "-")
	if code != 1 || !strings.Contains(stderr, "line 3") || !strings.Contains(stderr, "time") {
		t.Fatalf("exit %d, stderr %q: want exit 1 naming line 3 and field time", code, stderr)
	}
	if out := e.ok("", "accounts", "list", "--json"); strings.Contains(out, accA) {
		t.Errorf("a bad file created the account: %s", out)
	}
	e.addHEC(accA)
	e.ok("", "sync", "--once")
	if n := e.recv.Count(); n != 0 {
		t.Errorf("%d events sent from a rejected file", n)
	}
}

func TestE2EReingestDuplicatesNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	file := filepath.Join(e.dir, "audit.ndjson")
	os.WriteFile(file, []byte(auditLines(accA, seqIDs("r", 40)...)), 0o644)
	if out := e.ok("", "ingest", "audit", file); !strings.HasPrefix(out, "40 stored") {
		t.Errorf("first ingest: %s", out)
	}
	if out := e.ok("", "ingest", "audit", file); !strings.HasPrefix(out, "0 stored") {
		t.Errorf("second ingest: %s", out)
	}
	e.addHEC(accA)
	e.ok("", "sync", "--once")
	if n := e.recv.Count(); n != 40 {
		t.Errorf("%d events arrived, want 40", n)
	}
}

func TestE2EIntegrationsCLI(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	id := e.addHEC(accA, "--index", "main", "--create") // the first command on a new store
	for _, args := range [][]string{{"integrations", "show", id, "--json"}, {"integrations", "show", "--json", id}, {"--log-format", "console", "integrations", "show", "--json", id}} {
		var in map[string]any
		if err := json.Unmarshal([]byte(e.ok("", args...)), &in); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if in["token_set"] != true || in["index"] != "main" || in["status"] == nil {
			t.Errorf("%v: %v", args, in)
		}
	}
	e.ok("", "integrations", "disable", id)
	if out := e.ok("", "sync", "--once"); !strings.Contains(out, "no enabled integrations") {
		t.Errorf("disabled integration synced: %s", out)
	}
	e.ok("", "integrations", "enable", id)
	e.ok("", "integrations", "update", id, "--name", "renamed")
	if out := e.ok("", "integrations", "list"); !strings.Contains(out, "renamed") {
		t.Errorf("list: %s", out)
	}
	if out := e.ok("", "integrations", "test", id); !strings.Contains(out, "token") {
		t.Errorf("test: %s", out)
	}
	e.ok("", "integrations", "update", id, "--token", "00000000-0000-4000-8000-000000000000")
	stdout, _, code := e.run("", "integrations", "test", id)
	if code != 1 || !strings.Contains(stdout, "FAIL") {
		t.Errorf("test with a wrong token: exit %d\n%s", code, stdout)
	}
	_, stderr, code := e.run("", "integrations", "add", "--account", accA, "--name", "x", "--kind", "splunk_hec", "--url", "ftp://x", "--token", "t")
	if code != 1 || !strings.Contains(stderr, "--url") {
		t.Errorf("bad url: exit %d %s", code, stderr)
	}
	e.ok("", "integrations", "delete", id)
	if _, _, code := e.run("", "integrations", "show", id); code != 1 {
		t.Errorf("show after delete: exit %d", code)
	}
}

func validUUID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

func TestE2ESetAsideRetryAndDrop(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.ok(auditLines(accA, "p-ok-1", "p-bad-1", "p-ok-2", "p-bad-2"), "ingest", "audit", "-")
	id := e.addHEC(accA)
	e.recv.SetFault(hecrecv.Fault{PoisonIDs: []string{"p-bad-1", "p-bad-2"}})
	if out := e.ok("", "sync", "--once"); !strings.Contains(out, "set_aside=2") {
		t.Fatalf("sync with two poison events: %s", out)
	}
	var list []struct {
		ID      int64  `json:"id"`
		EventID string `json:"event_id"`
		Reason  string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(e.ok("", "setaside", "list", id, "--json")), &list); err != nil || len(list) != 2 {
		t.Fatalf("setaside list: %v %+v", err, list)
	}
	// Still refused: a retry keeps both.
	if out := e.ok("", "setaside", "retry", id); !strings.Contains(out, "0 delivered, 2 still set aside") {
		t.Errorf("retry while refused: %s", out)
	}
	// The destination now takes p-bad-1 only; p-bad-2 is dropped by hand.
	e.recv.SetFault(hecrecv.Fault{PoisonIDs: []string{"p-bad-2"}})
	if out := e.ok("", "setaside", "retry", id); !strings.Contains(out, "1 delivered, 1 still set aside") {
		t.Errorf("retry: %s", out)
	}
	json.Unmarshal([]byte(e.ok("", "setaside", "list", id, "--json")), &list)
	if len(list) != 1 || list[0].EventID != "p-bad-2" {
		t.Fatalf("after retry: %+v", list)
	}
	if _, _, code := e.run("", "setaside", "drop", id, "nope"); code != 2 {
		t.Errorf("drop with a bad id: exit %d, want 2", code)
	}
	if out := e.ok("", "setaside", "drop", id, fmt.Sprint(list[0].ID)); !strings.HasPrefix(out, "1 dropped") {
		t.Errorf("drop: %s", out)
	}
	if out := e.ok("", "integrations", "show", id, "--json"); !strings.Contains(out, `"set_aside": 0`) {
		t.Errorf("status after drop: %s", out)
	}
	got := e.recv.IDs()
	for _, x := range []string{"p-ok-1", "p-ok-2", "p-bad-1"} {
		if got[x] != 1 {
			t.Errorf("%s arrived %d times, want once", x, got[x])
		}
	}
	if got["p-bad-2"] != 0 {
		t.Errorf("the dropped event arrived")
	}
}

func TestE2EPruneReportsUndelivered(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	// auditLines dates records 2026-11-20; a 1h retention prunes them all.
	e.ok(auditLines(accA, seqIDs("old", 5)...), "ingest", "audit", "-")
	id := e.addHEC(accA) // backfills: these records were owed to it
	var res struct{ Audit, Missed int64 }
	if err := json.Unmarshal([]byte(e.ok("", "prune", "--retention", "1h")), &res); err != nil || res.Audit != 5 {
		t.Fatalf("prune: %v %+v", err, res)
	}
	show := e.ok("", "integrations", "show", id, "--json")
	if !strings.Contains(show, "retention pruned 5 audit records") {
		t.Errorf("status does not say what was pruned before delivery: %s", show)
	}
	e.ok("", "sync", "--once")
	if n := e.recv.Count(); n != 0 {
		t.Errorf("%d pruned records were sent", n)
	}
}

// TestE2EAccountIDsCanonical: an account id typed in upper case names the
// account ingest stored in lower case; an integration for an account
// siemsync has never seen is refused unless --create-account asks for it.
func TestE2EAccountIDsCanonical(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	upperB := strings.ToUpper(accB)
	args := []string{"--create", "integrations", "add", "--account", upperB, "--name", "splunk", "--kind", "splunk_hec",
		"--url", e.url, "--token", hecToken, "--sources", "audit"}
	_, stderr, code := e.run("", args...)
	if code != 1 || !strings.Contains(stderr, "--account: "+accB+" is not a known account") || !strings.Contains(stderr, "--create-account") {
		t.Errorf("unknown account: exit %d %s", code, stderr)
	}
	if out := e.ok("", "accounts", "list", "--json"); strings.Contains(out, accB) {
		t.Errorf("a refused add made the account: %s", out)
	}
	e.ok(auditLines(accA, seqIDs("c", 3)...), "ingest", "audit", "-")
	args[4] = strings.ToUpper(accA)
	id := strings.TrimSpace(e.ok("", args...))
	var in struct{ Account string }
	if err := json.Unmarshal([]byte(e.ok("", "integrations", "show", id, "--json")), &in); err != nil || in.Account != accA {
		t.Errorf("integration account %q (%v), want %s", in.Account, err, accA)
	}
	e.ok("", "accounts", "update", strings.ToUpper(accA), "--name", "Acme")
	if out := e.ok("", "accounts", "list", "--json"); strings.Count(out, `"id"`) != 1 || !strings.Contains(out, "Acme") {
		t.Errorf("accounts after an upper-case update: %s", out)
	}
	args[4] = upperB
	args = append(args, "--create-account")
	e.ok("", args...)
}

// TestE2EFilesPrivate: every file siemsync makes beside its database (the
// database, its WAL and SHM files, the key file) is readable by its owner
// alone, whatever the umask it was started with.
func TestE2EFilesPrivate(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.ok(auditLines(accA, seqIDs("p", 3)...), "ingest", "audit", "-")
	e.addHEC(accA)
	entries, err := os.ReadDir(e.dir)
	if err != nil || len(entries) < 2 {
		t.Fatalf("files %v, %v", entries, err)
	}
	for _, de := range entries {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %04o: other users can read it", de.Name(), perm)
		}
	}
}

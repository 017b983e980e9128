package main

// The harness of the fault-injection, crash, SIGTERM and secrets tests: an
// isolated installation (database directory, HEC receiver behind a tap that
// records every event request) and helpers to run the real binary, in the
// foreground or as a child process that the test kills.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/testbin"
)

// testAdminToken is the admin token of every serve the harness starts.
const testAdminToken = "fault-suite-admin-token-0123456789"

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a child
// process's output copiers and the test's reads.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// eventReq is one request to the HEC event endpoint as the tap saw it.
type eventReq struct {
	start, end time.Time
	status     int  // 0 when no answer was written (reset, client gone)
	clientGone bool // the client gave up before the answer was complete
}

// tap sits in front of the receiver. It records every event request and
// can make the receiver's answers worse than hecrecv alone does: answer
// late after the events were kept (the request is indexed but the sender
// times out), and strip invalid-event-number from refusals.
type tap struct {
	next http.Handler

	lateAnswer   atomic.Int64 // ns to hold the answer after the receiver kept the batch
	stripInvalid atomic.Bool  // remove "invalid-event-number" from answers

	started   atomic.Int64 // event requests received
	inflight  atomic.Int64 // event requests being handled
	answering atomic.Int64 // of which kept by the receiver, answer held back

	mu   gosync.Mutex
	reqs []eventReq
}

func isEventPath(p string) bool {
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/"), "/1.0")
	return p == "/services/collector" || p == "/services/collector/event" || p == "/services/collector/raw"
}

func (tp *tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isEventPath(r.URL.Path) {
		tp.next.ServeHTTP(w, r)
		return
	}
	tp.started.Add(1)
	tp.inflight.Add(1)
	defer tp.inflight.Add(-1)
	er := eventReq{start: time.Now()}
	defer func() {
		er.end = time.Now()
		if r.Context().Err() != nil {
			er.clientGone = true
		}
		tp.mu.Lock()
		tp.reqs = append(tp.reqs, er)
		tp.mu.Unlock()
	}()
	late := time.Duration(tp.lateAnswer.Load())
	strip := tp.stripInvalid.Load()
	if late <= 0 && !strip {
		sw := &statusWriter{ResponseWriter: w}
		tp.next.ServeHTTP(sw, r)
		er.status = sw.status
		return
	}
	rec := httptest.NewRecorder()
	tp.next.ServeHTTP(rec, r)
	if late > 0 {
		tp.answering.Add(1)
		t := time.NewTimer(late)
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
		tp.answering.Add(-1)
		if r.Context().Err() != nil {
			return
		}
	}
	body := rec.Body.Bytes()
	if strip {
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			if _, ok := m["invalid-event-number"]; ok {
				delete(m, "invalid-event-number")
				body, _ = json.Marshal(m)
			}
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(body) //nolint:errcheck // the client went away
	er.status = rec.Code
}

// requests returns the event requests completed so far, in order of start.
func (tp *tap) requests() []eventReq {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	out := slices.Clone(tp.reqs)
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Hijack lets hecrecv's ResetConn fault reach the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// install is one isolated siemsync installation for the fault tests.
type install struct {
	t    *testing.T
	dir  string
	db   string
	recv *hecrecv.Receiver
	tap  *tap
	url  string
	env  []string // added to every command's environment (later wins)
	out  lockedBuffer
}

func newInstall(t *testing.T, opts hecrecv.Options, env ...string) *install {
	t.Helper()
	in, srv := newInstallServer(t, opts, env)
	srv.Start()
	in.url = srv.URL
	return in
}

// newTLSInstall is newInstall with the receiver on HTTPS; the server's
// certificate is srv.Certificate().
func newTLSInstall(t *testing.T, opts hecrecv.Options, env ...string) (*install, *httptest.Server) {
	t.Helper()
	in, srv := newInstallServer(t, opts, env)
	srv.StartTLS()
	in.url = srv.URL
	return in, srv
}

func newInstallServer(t *testing.T, opts hecrecv.Options, env []string) (*install, *httptest.Server) {
	t.Helper()
	if opts.Tokens == nil {
		opts.Tokens = []string{hecToken}
	}
	in := &install{t: t, dir: t.TempDir()}
	var dbEnv []string
	in.db, dbEnv = database(t, in.dir)
	in.env = append(dbEnv, env...)
	in.recv = hecrecv.New(opts)
	in.tap = &tap{next: in.recv}
	srv := httptest.NewUnstartedServer(in.tap)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if strings.Contains(in.out.String(), hecToken) {
			t.Errorf("the HEC token appeared in siemsync's output")
		}
	})
	return in, srv
}

func (in *install) environ(extra []string) []string {
	env := append(os.Environ(),
		"SIEMSYNC_DB="+in.db,
		"SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS=true",
		"SIEMSYNC_LOG_LEVEL=warn",
		// These tests count the host product's records exactly; siemsync's
		// own audit trail has its own test (TestSelfServiceEndToEnd).
		"SIEMSYNC_AUDIT_TRAIL=false",
		"SIEMSYNC_RETRY_BUDGET=1s",
		"SIEMSYNC_CYCLE_TIMEOUT=2m",
		"SIEMSYNC_RETENTION=0",
		"SIEMSYNC_ADMIN_TOKEN="+testAdminToken,
	)
	env = append(env, in.env...)
	return append(env, extra...)
}

// run runs siemsync to completion with extra environment and returns its
// stdout, stderr and exit code.
func (in *install) run(extra []string, stdin string, args ...string) (string, string, int) {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = in.environ(extra)
	stdout, stderr, code := testbin.Run(in.t, cmd, stdin)
	in.out.Write([]byte(stdout + stderr))
	return stdout, stderr, code
}

// ok runs siemsync and fails the test unless it exits 0.
func (in *install) ok(stdin string, args ...string) string {
	in.t.Helper()
	stdout, stderr, code := in.run(nil, stdin, args...)
	return testbin.Succeeded(in.t, args, stdout, stderr, code)
}

// addHEC creates an audit-only HEC integration that backfills everything.
func (in *install) addHEC(extra ...string) string {
	in.t.Helper()
	args := append([]string{"integrations", "add", "--account", accA, "--create-account", "--name", "splunk", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken, "--sources", "audit", "--backfill-since", "2000-01-01T00:00:00Z"}, extra...)
	return strings.TrimSpace(in.ok("", args...))
}

// syncRow is one line of `sync --once --json`.
type syncRow struct {
	OK       bool   `json:"ok"`
	Audit    int64  `json:"audit_events"`
	SetAside int64  `json:"set_aside"`
	Error    string `json:"error"`
}

// syncOnce runs one `sync --once --json` and returns its exit code and the
// integration's summary row.
func (in *install) syncOnce(extra ...string) (int, syncRow, string) {
	in.t.Helper()
	stdout, stderr, code := in.run(extra, "", "sync", "--once", "--json")
	var rows []syncRow
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil || len(rows) != 1 {
		in.t.Fatalf("sync --once --json: exit %d, unreadable summary %q (%v)\nstderr: %s", code, stdout, err, stderr)
	}
	return code, rows[0], stderr
}

// proc is a siemsync child process running in the background.
type proc struct {
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	done   chan struct{}
	code   int // valid once done is closed; -1 when killed by a signal
}

// start starts siemsync in the background. Its output joins the
// installation's captured output when it exits.
func (in *install) start(extra []string, stdin io.Reader, args ...string) *proc {
	in.t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = in.environ(extra)
	p.cmd.Stdin = stdin
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		in.t.Fatalf("start siemsync %v: %v", args, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -2
		}
		in.out.Write([]byte(p.stdout.String()))
		in.out.Write([]byte(p.stderr.String()))
		close(p.done)
	}()
	in.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill() //nolint:errcheck // already gone is fine
			<-p.done
		}
	})
	return p
}

// serve starts `siemsync serve` on a free loopback port with the given
// flags and returns it with its base URL once it listens. The installation
// must log at info level (the URL is read from the "serving" line).
func (in *install) serve(args ...string) (*proc, string) {
	in.t.Helper()
	p := in.start(nil, nil, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	return p, p.listening(in.t, serveURLRE)
}

// listening waits until the process logs the URL it listens on (the first
// group of re) and returns it; it fails the test if the process exits first.
func (p *proc) listening(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	var url string
	waitFor(t, 30*time.Second, "the process to listen", func() bool {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			url = m[1]
			return true
		}
		return p.exited()
	})
	if url == "" {
		t.Fatalf("exited before listening: %s", p.stderr.String())
	}
	return url
}

// kill sends sig and waits for the process to exit.
func (p *proc) kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("siemsync did not exit within a minute of %v", sig)
	}
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// records returns NDJSON audit records of account accA with the given ids,
// occurring now (so no retention prunes them).
func records(ids []string) string {
	var b strings.Builder
	now := time.Now().UTC().Add(-time.Hour)
	for i, id := range ids {
		fmt.Fprintf(&b, `{"id":%q,"time":%q,"account":%q,"user":"alice@example.com","ip":"203.0.113.7","method":"POST","acl":"audit.read","metadata":{"n":%d,"note":"fault suite record"},"event":"Signed in"}`+"\n",
			id, now.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), accA, i)
	}
	return b.String()
}

func idRange(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return out
}

// delivery compares what the receiver holds with the ids expected.
type delivery struct {
	expected int      // unique ids that must arrive
	received int      // events received, duplicates included
	lost     []string // expected ids never received
	dups     int      // received - unique ids received
	extra    []string // ids received that were not expected
}

func tallyIDs(got map[string]int, expected []string) delivery {
	d := delivery{expected: len(expected)}
	want := make(map[string]bool, len(expected))
	for _, id := range expected {
		want[id] = true
		if got[id] == 0 {
			d.lost = append(d.lost, id)
		}
	}
	for id, n := range got {
		d.received += n
		d.dups += n - 1
		if !want[id] {
			d.extra = append(d.extra, id)
		}
	}
	sort.Strings(d.extra)
	return d
}

// report collects the figures of the fault, crash and SIGTERM tests and
// writes them, as they arrive, to the file named by SIEMSYNC_FAULT_REPORT.
var report struct {
	mu       gosync.Mutex
	sections map[string]string
}

func writeReport(t *testing.T, section, text string) {
	t.Helper()
	report.mu.Lock()
	defer report.mu.Unlock()
	if report.sections == nil {
		report.sections = map[string]string{}
	}
	report.sections[section] = text
	path := os.Getenv("SIEMSYNC_FAULT_REPORT")
	if path == "" {
		return
	}
	names := make([]string, 0, len(report.sections))
	for n := range report.sections {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "## %s\n\n%s\n", n, report.sections[n])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Errorf("write fault report: %v", err)
	}
}

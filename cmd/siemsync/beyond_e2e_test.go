package main

// End-to-end tests of issue 16 through the real binary: preview, alerts and
// the OCSF profile.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/ocsftest"
)

// bodyRecorder keeps the decoded body of every event request, in order, and
// passes the request on.
type bodyRecorder struct {
	next   http.Handler
	mu     gosync.Mutex
	bodies [][]byte
}

func (b *bodyRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isEventPath(r.URL.Path) {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		plain := raw
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err == nil {
				plain, _ = io.ReadAll(zr)
			}
		}
		b.mu.Lock()
		b.bodies = append(b.bodies, plain)
		b.mu.Unlock()
	}
	b.next.ServeHTTP(w, r)
}

func (b *bodyRecorder) sent() ([]byte, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Join(b.bodies, nil), len(b.bodies)
}

// tiles checks that the request bodies, each found at its place in want,
// cover want exactly: with several requests in flight they may arrive in
// any order, but each is a run of the preview's bytes and together they
// are all of it, once.
func (b *bodyRecorder) tiles(want string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	type span struct{ at, n int }
	var spans []span
	for _, body := range b.bodies {
		at := strings.Index(want, string(body))
		if at < 0 || len(body) == 0 {
			return fmt.Errorf("a request body is not in the preview:\n%s", body)
		}
		spans = append(spans, span{at, len(body)})
	}
	slices.SortFunc(spans, func(x, y span) int { return x.at - y.at })
	end := 0
	for _, sp := range spans {
		if sp.at != end {
			return fmt.Errorf("the requests do not tile the preview: a gap or overlap at byte %d (next body at %d)", end, sp.at)
		}
		end += sp.n
	}
	if end != len(want) {
		return fmt.Errorf("the requests cover %d of the preview's %d bytes", end, len(want))
	}
	return nil
}

// jobLines returns NDJSON jobs of accA: running ones and one that ended.
func jobLines(running, ended int) string {
	var b strings.Builder
	start := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for i := range running + ended {
		status, end := "in progress", "null"
		if i >= running {
			status, end = "successful", fmt.Sprintf("%q", time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
		}
		fmt.Fprintf(&b, `{"job":"00000000-0000-4000-8000-%012d","account":%q,"status":%q,"progress":0.%d,"description":"Backup of mailbox %d","type":"backup","user":"alice@example.com","start_time":%q,"end_time":%s}`+"\n",
			i, accA, status, i+1, i, start, end)
	}
	return b.String()
}

// startServe starts `serve` and returns its base URL.
func startServe(t *testing.T, in *install) (*proc, string) {
	t.Helper()
	p := in.start([]string{"SIEMSYNC_LOG_LEVEL=info"}, nil, "serve", "--listen", "127.0.0.1:0", "--schedule", "@every 1h", "--shutdown-grace", "5s")
	return p, p.listening(t, serveURLRE)
}

func apiCall(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestE2EPreviewEqualsNextCycle: the preview (CLI, API, and the API for the
// same settings unsaved) is byte for byte what the next cycle sends, and
// sends nothing itself. The upload time is pinned for the whole
// installation (SIEMSYNC_TEST_UPLOAD_TIME): upload_time, job times and job
// snapshot ids are the time a batch is built, so without a pinned clock a
// preview and a later cycle differ in exactly those fields.
func TestE2EPreviewEqualsNextCycle(t *testing.T) {
	t.Parallel()
	in, srv := newInstallServer(t, hecrecv.Options{}, []string{"SIEMSYNC_TEST_UPLOAD_TIME=2026-11-21T10:00:00.123Z"})
	rec := &bodyRecorder{next: in.tap}
	srv.Config.Handler = rec
	srv.Start()
	in.url = srv.URL

	in.ok(records(idRange("p", 40)), "ingest", "audit", "-")
	in.ok(jobLines(2, 1), "ingest", "jobs", "-")
	// Disabled until the comparison: serve starts due integrations at once.
	id := in.addHEC("--sources", "audit,jobs", "--max-batch-events", "16", "--disabled")

	five := in.ok("", "integrations", "preview", id, "--limit", "5")
	all := in.ok("", "integrations", "preview", "--limit", "100", id)
	if n := strings.Count(all, "\n"); n != 43 {
		t.Fatalf("preview of all: %d lines, want 40 audit records and 3 job snapshots\n%s", n, all)
	}
	if !strings.HasPrefix(all, five) || strings.Count(five, "\n") != 5 {
		t.Fatalf("the preview of 5 is not the first 5 lines of the preview of all")
	}

	p, base := startServe(t, in)
	resp, body := apiCall(t, "GET", base+"/api/v1/integrations/"+id+"/preview?limit=100", "")
	if resp.StatusCode != 200 || string(body) != all || resp.Header.Get("Siemsync-Preview-Events") != "43" {
		t.Fatalf("API preview: HTTP %d, %s events; equal to the CLI's: %v", resp.StatusCode, resp.Header.Get("Siemsync-Preview-Events"), string(body) == all)
	}
	unsaved := fmt.Sprintf(`{"account":%q,"name":"draft","kind":"splunk_hec","url":%q,"sources":["audit","jobs"],"backfill_since":"2000-01-01T00:00:00Z"}`, accA, in.url)
	resp, body = apiCall(t, "POST", base+"/api/v1/integrations/preview?limit=100", unsaved)
	if resp.StatusCode != 200 || string(body) != all {
		t.Fatalf("unsaved preview: HTTP %d; equal to the saved one's: %v\n%s", resp.StatusCode, string(body) == all, body)
	}
	resp, body = apiCall(t, "GET", base+"/api/v1/integrations/"+id+"/preview?limit=101", "")
	var apiErr struct {
		Error struct{ Field string } `json:"error"`
	}
	if json.Unmarshal(body, &apiErr); resp.StatusCode != 400 || apiErr.Error.Field != "limit" {
		t.Errorf("limit 101: HTTP %d %s, want 400 on limit", resp.StatusCode, body)
	}
	p.kill(t, syscall.SIGTERM)
	if got, reqs := rec.sent(); reqs != 0 {
		t.Fatalf("previews sent %d requests:\n%s", reqs, got)
	}
	if strings.Contains(all, hecToken) {
		t.Fatal("the preview holds the token")
	}

	in.ok("", "integrations", "enable", id)
	if code, row, stderr := in.syncOnce(); code != 0 || row.Audit != 40 {
		t.Fatalf("sync: exit %d %+v\n%s", code, row, stderr)
	}
	if err := rec.tiles(all); err != nil {
		got, reqs := rec.sent()
		t.Fatalf("%v\nthe cycle sent (in %d requests)\n%s\nthe preview said\n%s", err, reqs, got, all)
	}
}

// webhook records the alerts it receives.
type webhook struct {
	mu  gosync.Mutex
	got []map[string]any
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, m)
	h.mu.Unlock()
}

func (h *webhook) events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.got {
		out = append(out, fmt.Sprint(m["event"]))
	}
	return out
}

// TestE2EAlertOnceAndRecoveryOnce: across many failing cycles (separate
// processes, as under cron) the webhook gets one failing alert, and one
// recovery alert when delivery works again; never one per cycle.
func TestE2EAlertOnceAndRecoveryOnce(t *testing.T) {
	t.Parallel()
	hook := &webhook{}
	hsrv := httptest.NewServer(hook)
	t.Cleanup(hsrv.Close)
	const secretPath = "/services/T0001/B0001/AlertWebhookSecret"
	in := newInstall(t, hecrecv.Options{})
	in.ok(records(idRange("r", 5)), "ingest", "audit", "-")
	id := in.addHEC("--notify-url", hsrv.URL+secretPath, "--alert-after", "1s")
	if code, row, _ := in.syncOnce(); code != 0 || row.Audit != 5 {
		t.Fatalf("first sync: %d %+v", code, row)
	}

	in.recv.SetFault(hecrecv.Fault{Status: 403, Code: 4}) // token disabled: every cycle fails at once
	in.ok(records(idRange("s", 3)), "ingest", "audit", "-")
	for i := range 8 {
		if code, row, _ := in.syncOnce(); code == 0 || row.OK {
			t.Fatalf("failing cycle %d succeeded", i)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := hook.events(); len(got) != 1 || got[0] != "failing" {
		t.Fatalf("after 8 failing cycles: alerts %v, want exactly one failing", got)
	}
	hook.mu.Lock()
	first := hook.got[0]
	hook.mu.Unlock()
	if text, _ := first["text"].(string); !strings.Contains(text, `"splunk"`) || !strings.Contains(text, "token") {
		t.Errorf("alert text %q should name the integration and the error", text)
	}

	in.recv.SetFault(hecrecv.Fault{})
	for i := range 4 {
		if code, row, _ := in.syncOnce(); code != 0 {
			t.Fatalf("healed cycle %d: %+v", i, row)
		}
	}
	if got := hook.events(); len(got) != 2 || got[1] != "recovered" {
		t.Fatalf("after recovery: alerts %v, want failing then recovered", got)
	}
	show := in.ok("", "integrations", "show", id, "--json")
	var view map[string]any
	if err := json.Unmarshal([]byte(show), &view); err != nil {
		t.Fatal(err)
	}
	if view["notify_url_set"] != true || view["notify_host"] != strings.TrimPrefix(hsrv.URL, "http://") {
		t.Errorf("show: notify_url_set %v notify_host %v", view["notify_url_set"], view["notify_host"])
	}
	if strings.Contains(in.out.String(), "AlertWebhookSecret") {
		t.Error("the webhook URL (a secret) appeared in siemsync's output")
	}
}

// TestE2EOCSFValidated: an ocsf integration delivers audit records and job
// snapshots that are valid OCSF 1.8.0 API Activity / Scheduled Job
// Activity events carrying their ids; syslog refuses the profile.
func TestE2EOCSFValidated(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	ids := idRange("o", 25)
	in.ok(records(ids), "ingest", "audit", "-")
	in.ok(jobLines(2, 2), "ingest", "jobs", "-")
	in.addHEC("--sources", "audit,jobs", "--profile", "ocsf")
	if code, row, stderr := in.syncOnce(); code != 0 || row.Audit != 25 {
		t.Fatalf("sync: %d %+v %s", code, row, stderr)
	}
	evs := in.recv.Events()
	if len(evs) != 29 {
		t.Fatalf("%d events, want 25 audit and 4 job snapshots", len(evs))
	}
	uids := map[string]int{}
	classes := map[float64]int{}
	for i, env := range evs {
		if err := ocsftest.Validate(env.Event); err != nil {
			t.Fatalf("event %d is not valid OCSF: %v\n%s", i, err, env.Event)
		}
		var e struct {
			ClassUID float64 `json:"class_uid"`
			Metadata struct {
				UID string `json:"uid"`
			} `json:"metadata"`
		}
		json.Unmarshal(env.Event, &e) //nolint:errcheck // validated above
		uids[e.Metadata.UID]++
		classes[e.ClassUID]++
	}
	if classes[6003] != 25 || classes[1006] != 4 {
		t.Errorf("classes %v, want 25 of 6003 and 4 of 1006", classes)
	}
	for _, id := range ids {
		if uids[id] != 1 {
			t.Errorf("audit id %s: %d events with that metadata.uid", id, uids[id])
		}
	}
	_, stderr, code := in.run(nil, "", "integrations", "add", "--account", accA, "--name", "cef", "--kind", "syslog_cef",
		"--address", "siem.example.com:6514", "--profile", "ocsf")
	if code == 0 || !strings.Contains(stderr, "--profile") || !strings.Contains(stderr, "CEF") {
		t.Errorf("syslog with --profile ocsf: exit %d, %s", code, stderr)
	}
}

// TestE2EReplayResumesAfterSIGKILL: a replay of a window, started through
// the API, is delivered exactly (by id) while live cycles keep delivering
// new records beside it; serve is killed with SIGKILL in the middle, and
// the next serve resumes the replay from its cursor once the dead worker's
// lease expired.
func TestE2EReplayResumesAfterSIGKILL(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{}, "SIEMSYNC_LEASE_TTL=2s")
	window := idRange("w", 1200)
	in.ok(records(window), "ingest", "audit", "-")
	id := strings.TrimSpace(in.ok("", "integrations", "add", "--account", accA, "--name", "splunk", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken, "--sources", "audit", "--max-batch-events", "20"))
	in.recv.SetFault(hecrecv.Fault{Delay: 25 * time.Millisecond}) // a replay of a few seconds

	p, base := startServe(t, in)
	since := time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	resp, body := apiCall(t, "POST", base+"/api/v1/integrations/"+id+"/replay", `{"since":"`+since+`"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start replay: HTTP %d %s", resp.StatusCode, body)
	}
	var st struct {
		State string   `json:"state"`
		Sent  int64    `json:"sent"`
		Total int64    `json:"total"`
		ETA   *float64 `json:"eta_seconds"`
	}
	json.Unmarshal(body, &st) //nolint:errcheck // checked below
	if st.Total != int64(len(window)) {
		t.Fatalf("total %d, want %d", st.Total, len(window))
	}
	if resp, _ := apiCall(t, "POST", base+"/api/v1/integrations/"+id+"/replay", `{"since":"`+since+`"}`); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second replay while one runs: HTTP %d, want 409", resp.StatusCode)
	}

	// Live records keep arriving and are delivered by the live cycles.
	var live []string
	for i := range 3 {
		ids := idRange(fmt.Sprintf("live%d", i), 10)
		live = append(live, ids...)
		in.ok(records(ids), "ingest", "audit", "-")
		if resp, _ := apiCall(t, "POST", base+"/api/v1/integrations/"+id+"/sync", ""); resp.StatusCode >= 500 {
			t.Fatalf("sync now: %d", resp.StatusCode)
		}
	}
	waitFor(t, time.Minute, "a third of the replay", func() bool { return countOf(in.recv.IDs(), window) >= len(window)/3 })
	// Hold every request from now on, so that the kill comes mid-replay
	// however slow the machine is; a held request dies with its worker,
	// and nothing of it is kept.
	in.recv.SetFault(hecrecv.Fault{Delay: time.Hour})
	_, body = apiCall(t, "GET", base+"/api/v1/integrations/"+id+"/replay", "")
	json.Unmarshal(body, &st) //nolint:errcheck // checked below
	if st.State != "running" || st.Sent == 0 || st.ETA == nil {
		t.Errorf("progress mid-way: %s", body)
	}
	p.kill(t, syscall.SIGKILL)
	if n := countOf(in.recv.IDs(), window); n >= len(window) {
		t.Fatalf("the replay ended before the kill (%d)", n)
	}
	in.recv.SetFault(hecrecv.Fault{Delay: 25 * time.Millisecond})

	_, base = startServe(t, in)
	waitFor(t, 2*time.Minute, "the replay to finish", func() bool {
		_, body := apiCall(t, "GET", base+"/api/v1/integrations/"+id+"/replay", "")
		json.Unmarshal(body, &st) //nolint:errcheck // polled
		return st.State == "done"
	})
	got := in.recv.IDs()
	d := tallyIDs(got, append(append([]string{}, window...), live...))
	if len(d.lost) > 0 || len(d.extra) > 0 {
		t.Fatalf("lost %d (%v…), extra %v", len(d.lost), first(d.lost), d.extra)
	}
	// At least once: what can come twice is what was in flight at the kill,
	// the replay's window of requests (4 of 20 events) and live ones.
	if bound := 4*20 + len(live); d.dups > bound {
		t.Errorf("%d duplicates: more than the %d in flight at SIGKILL", d.dups, bound)
	}
	if st.Sent < int64(len(window)) {
		t.Errorf("sent %d of %d", st.Sent, len(window))
	}
}

func countOf(got map[string]int, ids []string) int {
	n := 0
	for _, id := range ids {
		if got[id] > 0 {
			n++
		}
	}
	return n
}

func first(s []string) []string { return s[:min(len(s), 5)] }

// TestE2EReplayCLI: the command starts a replay, runs it itself (no serve
// runs) and prints its progress as plain lines when not on a terminal.
func TestE2EReplayCLI(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	window := idRange("c", 50)
	in.ok(records(window), "ingest", "audit", "-")
	id := strings.TrimSpace(in.ok("", "integrations", "add", "--account", accA, "--name", "splunk", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken, "--sources", "audit,jobs"))
	out := in.ok("", "integrations", "replay", id, "--since", time.Now().Add(-3*time.Hour).UTC().Format(time.RFC3339))
	if !strings.Contains(out, "replay done: 50/50 events (100%)") || strings.Contains(out, "\r") {
		t.Errorf("output %q", out)
	}
	if d := tallyIDs(in.recv.IDs(), window); len(d.lost) > 0 || d.dups > 0 || len(d.extra) > 0 {
		t.Errorf("delivery %+v", d)
	}
	if _, stderr, code := in.run(nil, "", "integrations", "replay", id); code == 0 || !strings.Contains(stderr, "--since") {
		t.Errorf("without --since: exit %d %s", code, stderr)
	}
}

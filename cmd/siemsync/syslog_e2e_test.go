package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/rsyslogtest"
	"github.com/siemsync/siemsync/sink/syslog"
)

// The syslog end-to-end tests run the built binary against a real rsyslogd
// (package rsyslogtest; skipped only when rsyslog is not installed).

// syslogArriveWait bounds the wait for rsyslog to write what it received.
const syslogArriveWait = 15 * time.Second

// syslogVariant is one way of reaching rsyslog.
type syslogVariant struct {
	name       string
	driver     string // rsyslogtest.Driver*
	protocol   string // --protocol
	framing    string // --framing
	clientCert bool   // rsyslog requires a client certificate: pass --client-cert/--client-key
}

// TestE2ESyslogOutageThenCatchUp is the catch-up test of the core issue for
// syslog: rsyslog is down for two cycles, then up; nothing is lost.
func TestE2ESyslogOutageThenCatchUp(t *testing.T) {
	t.Parallel()
	for _, v := range []syslogVariant{
		{name: "tls", driver: rsyslogtest.DriverGnuTLS, protocol: "tls", framing: "octet", clientCert: true},
		{name: "tcp", driver: rsyslogtest.DriverTCP, protocol: "tcp", framing: "lf"},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			syslogOutageThenCatchUp(t, v)
		})
	}
}

// syslogJobLine is one job record for ingest jobs.
func syslogJobLine(id, status string, progress float64, end string) string {
	return fmt.Sprintf(`{"job":%q,"account":%q,"status":%q,"progress":%g,"end_time":%s,"type":"backup","description":"backup of Microsoft 365"}`+"\n",
		id, accA, status, progress, end)
}

// syslogStatus is the part of integrations show --json the test reads.
type syslogStatus struct {
	Status struct {
		LastComplete *time.Time `json:"last_complete"`
		LastError    *time.Time `json:"last_error"`
		ErrorMessage string     `json:"error_message"`
	} `json:"status"`
}

func (e *e2e) syslogShow(id string) syslogStatus {
	e.t.Helper()
	out := e.ok("", "integrations", "show", id, "--json")
	var st syslogStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("integrations show --json: %v\n%s", err, out)
	}
	return st
}

// syslogReceived is what rsyslog wrote, parsed.
type syslogReceived struct {
	audit map[string]int      // externalId -> times received
	jobs  map[string][]string // job id -> status of each snapshot, in order
	lines int
}

// parseSyslogLines parses every line rsyslog wrote as an RFC 5424 message
// carrying a CEF record of account accA, and tallies audit ids and job
// snapshots.
func parseSyslogLines(t *testing.T, lines []string) syslogReceived {
	t.Helper()
	got := syslogReceived{audit: map[string]int{}, jobs: map[string][]string{}, lines: len(lines)}
	snapshots := map[string]bool{}
	for i, line := range lines {
		m, err := syslog.ParseMessage(line)
		if err != nil {
			t.Errorf("line %d does not parse as a syslog message: %v: %.300q", i+1, err, line)
			continue
		}
		if m.CEF == nil {
			t.Errorf("line %d carries no CEF record: %.300q", i+1, line)
			continue
		}
		// ParseMessage parsed the CEF record already; ParseCEF on the
		// message body must agree.
		c, err := syslog.ParseCEF(m.Msg)
		if err != nil || c.Ext["externalId"] != m.CEF.Ext["externalId"] {
			t.Errorf("line %d: ParseCEF: %v", i+1, err)
			continue
		}
		if c.Vendor == "" || c.Product == "" || c.Ext["cs1"] != accA || c.Ext["cs1Label"] != "account" {
			t.Errorf("line %d: vendor %q, product %q, account %q: %.300q", i+1, c.Vendor, c.Product, c.Ext["cs1"], line)
		}
		id := c.Ext["externalId"]
		switch m.MsgID {
		case "audit":
			got.audit[id]++
			if c.Ext["suser"] != "alice@example.com" || c.Ext["src"] != "203.0.113.7" || c.Ext["requestMethod"] != "POST" || c.Ext["msg"] != "Sign in" {
				t.Errorf("line %d: audit record %s: %v", i+1, id, c.Ext)
			}
		case "job":
			if snapshots[id] {
				t.Errorf("line %d: job snapshot %s received twice", i+1, id)
			}
			snapshots[id] = true
			job := c.Ext["cs4"]
			got.jobs[job] = append(got.jobs[job], c.Ext["cs6"])
		default:
			t.Errorf("line %d: MSGID %q, want audit or job", i+1, m.MsgID)
		}
	}
	return got
}

// check reports audit ids expected but not received (lost), received more
// than once (duplicates) or not expected at all.
func (g syslogReceived) check(t *testing.T, want []string) (dups int) {
	t.Helper()
	expected := map[string]bool{}
	lost := 0
	for _, id := range want {
		expected[id] = true
		switch n := g.audit[id]; {
		case n == 0:
			lost++
			t.Errorf("audit record %s was lost", id)
		case n > 1:
			dups += n - 1
		}
	}
	for id := range g.audit {
		if !expected[id] {
			t.Errorf("audit record %s arrived but was not expected (another account's?)", id)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d audit records lost", lost, len(want))
	}
	return dups
}

func syslogOutageThenCatchUp(t *testing.T, v syslogVariant) {
	start := time.Now()
	r := rsyslogtest.Start(t, rsyslogtest.Options{Driver: v.driver, RequireClientCert: v.clientCert})
	e := newE2E(t)
	const jobA, jobB = "7c0e5b2a-0000-4000-8000-0000000000a1", "7c0e5b2a-0000-4000-8000-0000000000b2"

	// History, a running job and another account's records (never sent).
	before := seqIDs("sl-before", 60)
	e.ok(auditLines(accA, before...)+auditLines(accB, seqIDs("sl-other", 10)...), "ingest", "audit", "-")
	e.ok(syslogJobLine(jobA, "in progress", 0.25, "null"), "ingest", "jobs", "-")
	args := []string{"integrations", "add", "--account", accA, "--name", "rsyslog", "--kind", "syslog_cef",
		"--address", r.Addr(), "--protocol", v.protocol, "--framing", v.framing,
		"--sources", "audit,jobs", "--backfill-since", "2000-01-01T00:00:00Z", "--max-batch-events", "25"}
	if v.protocol == "tls" {
		args = append(args, "--ca-file", r.PKI().CAFile)
	}
	if v.clientCert {
		args = append(args, "--client-cert", r.PKI().ClientCertFile, "--client-key", r.PKI().ClientKeyFile)
	}
	id := strings.TrimSpace(e.ok("", args...))
	if !validUUID(id) {
		t.Fatalf("integrations add printed %q, want the id alone", id)
	}

	// First cycle: everything arrives.
	if out := e.ok("", "sync", "--once"); !strings.Contains(out, "audit=60 jobs=1 ") {
		t.Errorf("first cycle summary: %s", out)
	}
	got := parseSyslogLines(t, r.WaitLines(61, syslogArriveWait))
	if dups := got.check(t, before); dups != 0 || got.lines != 61 {
		t.Fatalf("first cycle: %d lines with %d duplicates, want 61 lines", got.lines, dups)
	}
	if st := e.syslogShow(id).Status; st.LastComplete == nil || st.LastError != nil {
		t.Errorf("status after the first cycle: %+v", st)
	}

	// rsyslog is down for two cycles; records and job changes keep coming.
	r.Stop()
	want := before
	outageJobs := []string{
		syslogJobLine(jobA, "in progress", 0.6, "null"),
		syslogJobLine(jobA, "successful", 1, `"2026-11-20T11:00:00Z"`) + syslogJobLine(jobB, "in progress", 0.1, "null"),
	}
	for cycle := range 2 {
		ids := seqIDs(fmt.Sprintf("sl-outage%d", cycle), 15)
		want = append(want, ids...)
		e.ok(auditLines(accA, ids...), "ingest", "audit", "-")
		e.ok(outageJobs[cycle], "ingest", "jobs", "-")
		stdout, stderr, code := e.run("", "sync", "--once")
		if code != 1 || !strings.Contains(stdout, "FAIL "+id) || !strings.Contains(stdout, "refused the connection") {
			t.Fatalf("cycle %d with rsyslog down: exit %d, want 1 with FAIL and the reason\nstdout: %s\nstderr: %s", cycle+1, code, stdout, stderr)
		}
		st := e.syslogShow(id).Status
		if st.LastError == nil || st.LastComplete == nil || st.LastError.Before(*st.LastComplete) {
			t.Errorf("status in outage cycle %d: last_error %v, last_complete %v", cycle+1, st.LastError, st.LastComplete)
		}
		// Actionable: names the address, what happened and what to check.
		for _, s := range []string{r.Addr(), "refused the connection", "no syslog server listens on port", "check the address"} {
			if !strings.Contains(st.ErrorMessage, s) {
				t.Errorf("error_message %q does not say %q", st.ErrorMessage, s)
			}
		}
	}
	if n := len(r.Lines()); n != 61 {
		t.Fatalf("rsyslog's output grew to %d lines while it was down", n)
	}

	// rsyslog is back on the same port: one cycle catches up.
	r.Restart()
	if out := e.ok("", "sync", "--once"); !strings.Contains(out, "audit=30 jobs=2 ") {
		t.Errorf("catch-up cycle summary: %s", out)
	}
	r.WaitLines(61+30+2, syslogArriveWait)
	time.Sleep(200 * time.Millisecond) // a duplicate would show by now
	got = parseSyslogLines(t, r.Lines())
	dups := got.check(t, want)
	t.Logf("%s: %d lines, %d distinct audit records of %d, %d duplicates", v.name, got.lines, len(got.audit), len(want), dups)
	if dups != 0 {
		// At-least-once allows duplicates, but here nothing was ever
		// half-delivered: rsyslog refused every connection.
		t.Errorf("%d duplicate audit records", dups)
	}
	// Jobs: the snapshot before the outage, then the state at catch-up
	// (jobA finished during the outage, jobB started).
	if a, b := fmt.Sprint(got.jobs[jobA]), fmt.Sprint(got.jobs[jobB]); a != "[in progress successful]" || b != "[in progress]" || len(got.jobs) != 2 {
		t.Errorf("job snapshots: %v, want %s [in progress successful], %s [in progress]", got.jobs, jobA, jobB)
	}
	if got.lines != 61+30+2 {
		t.Errorf("rsyslog wrote %d lines, want %d", got.lines, 61+30+2)
	}
	if st := e.syslogShow(id).Status; st.LastError != nil || st.ErrorMessage != "" || st.LastComplete == nil {
		t.Errorf("status after catching up: %+v", st)
	}

	// The checkpoint is past everything: the next cycle sends only the
	// still-running job again.
	if out := e.ok("", "sync", "--once"); !strings.Contains(out, "audit=0 jobs=1 ") {
		t.Errorf("cycle after catching up: %s", out)
	}
	got = parseSyslogLines(t, r.WaitLines(61+30+3, syslogArriveWait))
	if got.check(t, want) != 0 || got.lines != 61+30+3 || len(got.jobs[jobB]) != 2 {
		t.Errorf("cycle after catching up: %d lines, jobs %v", got.lines, got.jobs)
	}
	if v.clientCert {
		key := strings.Split(r.PKI().ClientKey, "\n")[1] // first line of the key's base64 body
		if strings.Contains(e.out.String(), key) {
			t.Error("the client key appeared in siemsync's output")
		}
	}
	t.Logf("%s: %v", v.name, time.Since(start).Round(time.Millisecond))
}

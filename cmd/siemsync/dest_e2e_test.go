package main

// End-to-end tests of SPEC §8 through the real binary: the HEC destination
// forms against an HTTPS HEC-compatible receiver, filters, the checks of
// idle cycles, the heartbeat, and the syslog fixes against rsyslog.

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/rsyslogtest"
	"github.com/siemsync/siemsync/sink/syslog"
)

const testChannel = "5f2b8c1d-3e4a-4b6c-9d8e-7f6a5b4c3d2e"

// caFile writes the receiver's certificate as a PEM file for --ca-file.
func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// shown is the part of integrations show --json these tests read.
type shown struct {
	URL         string   `json:"url"`
	Channel     string   `json:"channel"`
	Sourcetype  string   `json:"sourcetype"`
	TokenSet    bool     `json:"token_set"`
	AuditEvents []string `json:"audit_events"`
	Heartbeat   bool     `json:"heartbeat"`
	Status      struct {
		LastComplete *string `json:"last_complete"`
		LastError    *string `json:"last_error"`
		ErrorMessage string  `json:"error_message"`
		Filtered     int64   `json:"filtered"`
	} `json:"status"`
}

func (in *install) show(id string) (shown, string) {
	in.t.Helper()
	out := in.ok("", "integrations", "show", id, "--json")
	var s shown
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		in.t.Fatalf("integrations show --json: %v\n%s", err, out)
	}
	return s, out
}

// TestE2EHECDestinationForms: each way of giving a HEC destination
// delivers to an HTTPS receiver, with the metadata and channel it implies,
// and Test connection passes on it.
func TestE2EHECDestinationForms(t *testing.T) {
	t.Parallel()
	type form struct {
		name       string
		args       func(url, ca string) []string
		raw        bool
		channel    string // "" : generated and stored
		sourcetype string
	}
	forms := []form{
		{name: "event endpoint, Splunk-prefixed token, explicit channel", channel: testChannel, sourcetype: "_json",
			args: func(u, ca string) []string {
				return []string{"--url", u, "--token", "Splunk " + hecToken, "--channel", testChannel, "--ca-file", ca}
			}},
		{name: "raw endpoint", raw: true, sourcetype: "_json",
			args: func(u, ca string) []string {
				return []string{"--url", u + "/services/collector/raw", "--token", hecToken, "--ca-file", ca}
			}},
		{name: "cloudflare logpush", raw: true, channel: testChannel, sourcetype: "cloudflare:json",
			args: func(u, _ string) []string {
				hp := strings.TrimPrefix(u, "https://")
				return []string{"--url", "splunk://" + hp + "/services/collector/raw?channel=" + testChannel +
					"&insecure-skip-verify=true&sourcetype=cloudflare:json&header_Authorization=Splunk%20" + hecToken}
			}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			in, srv := newTLSInstall(t, hecrecv.Options{Tokens: []string{hecToken}})
			ids := idRange("form", 7)
			in.ok(records(ids), "ingest", "audit", "-")
			args := append([]string{"integrations", "add", "--account", accA, "--create-account", "--name", "splunk", "--kind", "splunk_hec",
				"--sources", "audit", "--backfill-since", "2000-01-01T00:00:00Z"}, f.args(in.url, caFile(t, srv))...)
			id := strings.TrimSpace(in.ok("", args...))
			s, raw := in.show(id)
			if strings.Contains(raw, hecToken) || !s.TokenSet || !strings.HasPrefix(s.URL, "https://127.0.0.1:") || strings.Contains(s.URL, "?") {
				t.Fatalf("stored destination: %s", raw)
			}
			channel := f.channel
			if channel == "" {
				if !validUUID(s.Channel) {
					t.Fatalf("raw endpoint without a channel: none generated: %s", raw)
				}
				channel = s.Channel
			}
			if out := in.ok("", "integrations", "test", id); !strings.Contains(out, "accepted the token") {
				t.Errorf("Test connection: %s", out)
			}
			if code, row, stderr := in.syncOnce(); code != 0 || row.Audit != 7 {
				t.Fatalf("sync: exit %d %+v\n%s", code, row, stderr)
			}
			evs := in.recv.Events()
			if len(evs) != 7 {
				t.Fatalf("receiver kept %d events, want 7", len(evs))
			}
			var got []string
			for _, e := range evs {
				got = append(got, e.ID)
				if e.Channel != channel || e.Source != "siemsync:audit" || e.Sourcetype != f.sourcetype {
					t.Errorf("event %s: channel %q source %q sourcetype %q", e.ID, e.Channel, e.Source, e.Sourcetype)
				}
				// hecrecv keeps a raw line as a JSON string: it must be the
				// event object itself, without an envelope.
				line, isRaw := jsonString(e.Event)
				var ev map[string]any
				if err := json.Unmarshal([]byte(line), &ev); err != nil || isRaw != f.raw || ev["kind"] != "audit" || ev["id"] != e.ID || ev["sourcetype"] != nil {
					t.Errorf("event as received (raw %v): %s", isRaw, e.Event)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, ids) {
				t.Errorf("ids %v, want %v", got, ids)
			}
		})
	}
}

// jsonString returns the text of a JSON string value and true, or raw
// itself (an object) and false.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(raw), false
	}
	return s, true
}

// TestE2EHECPortDefault: a HEC URL without a port means Splunk's 8088.
func TestE2EHECPortDefault(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	id := strings.TrimSpace(in.ok("", "--create", "integrations", "add", "--account", accA, "--name", "p", "--kind", "splunk_hec",
		"--url", "https://splunk.example.com/services/collector", "--token", hecToken, "--sources", "audit"))
	if s, raw := in.show(id); s.URL != "https://splunk.example.com:8088/services/collector" {
		t.Errorf("stored url: %s", raw)
	}
}

// auditEventLines are audit records of accA with the given id/event pairs.
func auditEventLines(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, `{"id":%q,"time":"2026-11-20T10:%02d:00Z","account":%q,"event":%q}`+"\n", pairs[i], i, accA, pairs[i+1])
	}
	return b.String()
}

func jobLine(job, status, typ string) string {
	end := "null"
	if status != "in progress" && status != "scheduled" {
		end = `"2026-11-20T11:00:00Z"`
	}
	return fmt.Sprintf(`{"job":%q,"account":%q,"status":%q,"type":%q,"progress":0.5,"end_time":%s}`+"\n", job, accA, status, typ, end)
}

// TestE2EFilters: what the filters drop never reaches the receiver, is
// counted, and moves the checkpoint.
func TestE2EFilters(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	in.ok(auditEventLines("f-1", "Sign in", "f-2", "Sign in failed", "f-3", "Export started", "f-4", "User deleted"), "ingest", "audit", "-")
	const j1, j2, j3 = "1b1b1b1b-0000-4000-8000-000000000001", "1b1b1b1b-0000-4000-8000-000000000002", "1b1b1b1b-0000-4000-8000-000000000003"
	in.ok(jobLine(j1, "successful", "backup")+jobLine(j2, "unsuccessful", "backup")+jobLine(j3, "unsuccessful", "export"), "ingest", "jobs", "-")
	id := strings.TrimSpace(in.ok("", "integrations", "add", "--account", accA, "--create-account", "--name", "filtered", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken, "--sources", "audit,jobs", "--backfill-since", "2000-01-01T00:00:00Z",
		"--audit-events", "sign in*", "--job-statuses", "unsuccessful,cancelled", "--job-types", "backup"))
	stdout, stderr, code := in.run(nil, "", "sync", "--once", "--json")
	var rows []struct {
		A int64 `json:"audit_events"`
		J int64 `json:"job_events"`
		F int64 `json:"filtered"`
	}
	if err := json.Unmarshal([]byte(stdout), &rows); code != 0 || err != nil || len(rows) != 1 {
		t.Fatalf("sync: exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	if r := rows[0]; r.A != 2 || r.J != 1 || r.F != 4 {
		t.Errorf("sync summary %+v, want 2 audit, 1 job, 4 filtered", r)
	}
	var got []string
	for _, e := range in.recv.Events() {
		var ev struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
			Job  string `json:"job"`
		}
		json.Unmarshal(e.Event, &ev) //nolint:errcheck // checked by the comparison
		if ev.Kind == "job" {
			got = append(got, ev.Job)
		} else {
			got = append(got, ev.ID)
		}
	}
	slices.Sort(got)
	if want := []string{j2, "f-1", "f-2"}; !slices.Equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	if s, raw := in.show(id); s.Status.Filtered != 4 || !slices.Equal(s.AuditEvents, []string{"sign in*"}) {
		t.Errorf("show: %s", raw)
	}
	// The checkpoint moved past what was filtered: nothing comes back.
	if code, row, _ := in.syncOnce(); code != 0 || row.Audit != 0 {
		t.Errorf("second sync: exit %d %+v", code, row)
	}
	if n := in.recv.Count(); n != 3 {
		t.Errorf("receiver has %d events after the second cycle, want 3", n)
	}
}

// TestE2EIdleCycleChecksDestination: with nothing to send, a destination
// that refuses the token or cannot be reached fails the cycle and is shown
// failing; a working one passes without an event being indexed.
func TestE2EIdleCycleChecksDestination(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	good := strings.TrimSpace(in.ok("", "--create", "integrations", "add", "--account", accA, "--name", "good", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken, "--sources", "audit"))
	if code, row, stderr := in.syncOnce(); code != 0 || !row.OK {
		t.Fatalf("idle cycle, good token: exit %d %+v\n%s", code, row, stderr)
	}
	in.ok("", "integrations", "disable", good)

	bad := strings.TrimSpace(in.ok("", "integrations", "add", "--account", accA, "--create-account", "--name", "bad", "--kind", "splunk_hec",
		"--url", in.url, "--token", "0f0f0f0f-dead-4bee-8f00-000000000000", "--sources", "audit"))
	code, row, _ := in.syncOnce()
	if code != 1 || row.OK || !strings.Contains(row.Error, "token") {
		t.Errorf("idle cycle, wrong token: exit %d %+v", code, row)
	}
	if s, raw := in.show(bad); s.Status.LastError == nil || s.Status.LastComplete != nil || !strings.Contains(s.Status.ErrorMessage, "token") {
		t.Errorf("wrong token shown as: %s", raw)
	}
	in.ok("", "integrations", "disable", bad)

	// A syslog host that is not there: a loopback port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sl := strings.TrimSpace(in.ok("", "integrations", "add", "--account", accA, "--create-account", "--name", "syslog", "--kind", "syslog_cef",
		"--address", addr, "--protocol", "tcp", "--sources", "audit"))
	code, row, _ = in.syncOnce()
	if code != 1 || row.OK || !strings.Contains(row.Error, "refused the connection") {
		t.Errorf("idle cycle, syslog host down: exit %d %+v", code, row)
	}
	if s, raw := in.show(sl); s.Status.LastError == nil || s.Status.LastComplete != nil {
		t.Errorf("unreachable syslog shown as: %s", raw)
	}
	if n := in.recv.Count(); n != 0 {
		t.Errorf("idle checks indexed %d events", n)
	}
}

// TestE2EHeartbeat: every cycle of an integration with heartbeat on sends
// one heartbeat event with its counts and checkpoints, idle cycles too.
func TestE2EHeartbeat(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	in.ok(auditEventLines("h-1", "Sign in", "h-2", "Export", "h-3", "Sign in"), "ingest", "audit", "-")
	id := strings.TrimSpace(in.ok("", "integrations", "add", "--account", accA, "--create-account", "--name", "hb", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken, "--sources", "audit,jobs", "--backfill-since", "2000-01-01T00:00:00Z",
		"--heartbeat", "--audit-events", "Sign in"))
	for range 2 {
		if code, row, stderr := in.syncOnce(); code != 0 || !row.OK {
			t.Fatalf("sync: exit %d %+v\n%s", code, row, stderr)
		}
	}
	type beat struct {
		Kind        string           `json:"kind"`
		Integration string           `json:"integration"`
		Sent        map[string]int64 `json:"sent"`
		Filtered    int64            `json:"filtered"`
		Checkpoints map[string]int64 `json:"checkpoints"`
		Window      map[string]string
		Worker      string `json:"worker"`
		Version     string `json:"version"`
	}
	var beats []beat
	audit := 0
	for _, e := range in.recv.Events() {
		if e.Source != "siemsync:heartbeat" {
			audit++
			continue
		}
		var b beat
		if err := json.Unmarshal(e.Event, &b); err != nil {
			t.Fatal(err)
		}
		beats = append(beats, b)
	}
	if len(beats) != 2 || audit != 2 {
		t.Fatalf("%d heartbeats and %d audit events, want 2 and 2", len(beats), audit)
	}
	first, second := beats[0], beats[1]
	if first.Kind != "heartbeat" || first.Integration != id || first.Sent["audit"] != 2 || first.Sent["jobs"] != 0 || first.Filtered != 1 ||
		first.Checkpoints["audit"] < 3 || first.Worker == "" || first.Version == "" || first.Window["start"] == "" {
		t.Errorf("first heartbeat %+v", first)
	}
	if second.Sent["audit"] != 0 || second.Filtered != 0 || second.Checkpoints["audit"] != first.Checkpoints["audit"] ||
		second.Window["start"] < first.Window["end"] {
		t.Errorf("second heartbeat %+v after %+v", second, first)
	}
}

// TestE2ESyslogHostProgressAndHeader against rsyslog: the Test connection
// message carries the account's host, the CEF header the deployment's
// vendor and product, and a job at 0.99999999999 is not reported complete.
func TestE2ESyslogHostProgressAndHeader(t *testing.T) {
	t.Parallel()
	r := rsyslogtest.Start(t, rsyslogtest.Options{Driver: rsyslogtest.DriverTCP})
	e := newE2E(t)
	const job = "2c2c2c2c-0000-4000-8000-000000000001"
	e.ok(fmt.Sprintf(`{"job":%q,"account":%q,"status":"in progress","progress":0.99999999999,"end_time":null}`+"\n", job, accA), "ingest", "jobs", "-")
	e.ok("", "accounts", "update", accA, "--host", "eu-7.example.net")
	header := []string{"--cef-vendor", `Acme|Cloud`, "--cef-product", `Backup\Vault`, "--cef-version", "4.2"}
	id := strings.TrimSpace(e.ok("", append([]string{"integrations", "add", "--account", accA, "--create-account", "--name", "rsyslog", "--kind", "syslog_cef",
		"--address", r.Addr(), "--protocol", "tcp", "--framing", "lf", "--sources", "jobs",
		"--backfill-since", "2000-01-01T00:00:00Z"}, header...)...))
	e.ok("", append([]string{"integrations", "test", id, "--send-test-event"}, header...)...)
	e.ok("", append([]string{"sync", "--once"}, header...)...)
	lines := r.WaitLines(2, syslogArriveWait)
	if len(lines) != 2 {
		t.Fatalf("rsyslog got %d lines, want 2", len(lines))
	}
	for i, l := range lines {
		m, err := syslog.ParseMessage(l)
		if err != nil || m.CEF == nil {
			t.Fatalf("line %d: %v: %q", i, err, l)
		}
		if m.Hostname != "eu-7.example.net" {
			t.Errorf("line %d (%s): host %q, want the account's eu-7.example.net", i, m.MsgID, m.Hostname)
		}
		if m.CEF.Vendor != "Acme|Cloud" || m.CEF.Product != `Backup\Vault` || m.CEF.DeviceVer != "4.2" {
			t.Errorf("line %d: CEF header %q|%q|%q", i, m.CEF.Vendor, m.CEF.Product, m.CEF.DeviceVer)
		}
		if m.MsgID == "job" {
			if p, _ := strconv.Atoi(m.CEF.Ext["cn1"]); p != 99 {
				t.Errorf("progress 0.99999999999 sent as cn1=%s, want 99", m.CEF.Ext["cn1"])
			}
		}
	}
	// A header field too long for CEF is refused with the flag's name.
	if _, stderr, code := e.run("", "sync", "--once", "--cef-vendor", strings.Repeat("v", 64)); code != 2 || !strings.Contains(stderr, "--cef-vendor") {
		t.Errorf("long --cef-vendor: exit %d %s", code, stderr)
	}
}

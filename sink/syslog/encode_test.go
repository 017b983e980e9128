package syslog

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	tAccount   = "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"
	tConnector = "b1e3c9d2-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
	tJob       = "6a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
)

var (
	tOccurred = time.Date(2025, 11, 21, 9, 30, 15, 123456789, time.UTC)
	tUpload   = time.Date(2025, 11, 21, 9, 35, 0, 250000000, time.UTC)
)

func testIntegration(framing string) *siemsync.Integration {
	return &siemsync.Integration{
		ID: "0c9f3a1e-2b4d-4e6f-8a0b-1c2d3e4f5a6b", Account: tAccount, Name: "SOC syslog",
		Kind: siemsync.KindSyslog, Enabled: true, Sources: []string{"audit", "jobs"},
		Address: "127.0.0.1:6514", Protocol: "tcp", Framing: framing,
	}
}

func testSink(t testing.TB, in *siemsync.Integration, opts Options) *Sink {
	t.Helper()
	if opts.Hostname == "" {
		opts.Hostname = "siemsync-1.example.net"
	}
	if opts.Version == "" {
		opts.Version = "1.0"
	}
	s, err := New(in, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func trickyAudit() *siemsync.Event {
	return &siemsync.Event{
		Host:       "eu-1.example.net",
		UploadTime: tUpload,
		Audit: &siemsync.Audit{
			Seq: 42, ID: "audit-7f3a|x=1\\y", Time: tOccurred, Account: tAccount, Connector: tConnector,
			ACL:      "G/AuditFilter",
			Method:   "PUT",
			User:     "Zoë O'Brien|admin\\ops=root",
			IP:       "203.0.113.7",
			Metadata: json.RawMessage(`{"path":"C:\\temp\\a=b|c","note":"line1\nline2","emoji":"🔐"}`),
			Event:    "Sign in|failed\\retry=3\nCEF:0|Evil|Inject|1|1|x|10|src=6.6.6.6\r\n<13>1 - injected",
		},
	}
}

func job(status string, progress float64) *siemsync.Event {
	p := progress
	j := &siemsync.Job{
		Seq: 7, Job: tJob, Account: tAccount, Connector: tConnector,
		Scheduled:    time.Date(2025, 11, 21, 9, 0, 0, 0, time.UTC),
		PlannedStart: time.Date(2025, 11, 21, 9, 1, 0, 0, time.UTC),
		StartTime:    time.Date(2025, 11, 21, 9, 2, 3, 400000000, time.UTC),
		Description:  "Backup of Microsoft 365 | connector \"Contoso=HQ\"",
		Progress:     &p, Status: status, Type: "backup", User: "scheduler",
	}
	switch status {
	case siemsync.JobScheduled:
		j.StartTime = time.Time{}
		j.Progress = nil
	case siemsync.JobSuccessful, siemsync.JobUnsuccessful, siemsync.JobIncomplete, siemsync.JobCancelled:
		j.EndTime = time.Date(2025, 11, 21, 9, 33, 0, 0, time.UTC)
	}
	if status == siemsync.JobCancelled {
		j.Paused = time.Date(2025, 11, 21, 9, 20, 0, 0, time.UTC)
	}
	return &siemsync.Event{Job: j, Host: "eu-1.example.net", UploadTime: tUpload}
}

func goldenCases() []struct {
	name    string
	framing string
	opts    Options
	ev      *siemsync.Event
} {
	type c = struct {
		name    string
		framing string
		opts    Options
		ev      *siemsync.Event
	}
	cases := []c{
		{"audit_tricky", "octet", Options{}, trickyAudit()},
		{"audit_tricky_lf", "lf", Options{}, trickyAudit()},
		{"audit_minimal", "octet", Options{}, &siemsync.Event{UploadTime: tUpload, Audit: &siemsync.Audit{
			ID: "a1", Time: tOccurred, Account: tAccount, Event: "create user"}}},
		{"audit_ipv6_badhost", "octet", Options{Vendor: "Acme | Corp", Product: "Backup\\Cloud", Version: "2.1"}, &siemsync.Event{
			Host: "host with spaces", UploadTime: tUpload, Audit: &siemsync.Audit{
				ID: "a2", Time: tOccurred, Account: tAccount, IP: "2001:db8::7", User: "bob", Event: "download file"}}},
	}
	for _, st := range siemsync.JobStatuses {
		cases = append(cases, c{"job_" + strings.ReplaceAll(st, " ", "_"), "octet", Options{}, job(st, 0.29)})
	}
	cases = append(cases, c{"job_in_progress_lf", "lf", Options{}, job(siemsync.JobInProgress, 0.5)})
	return cases
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := testSink(t, testIntegration(tc.framing), tc.opts)
			got := s.Append(nil, tc.ev)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("frame differs from %s\n got: %q\nwant: %q", path, got, want)
			}
			// Every golden frame is one well-formed frame that parses.
			msg, rest, err := NextFrame(got, tc.framing == "lf")
			if err != nil || len(rest) != 0 {
				t.Fatalf("NextFrame: %v, rest %q", err, rest)
			}
			m, err := ParseMessage(string(msg))
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if m.CEF == nil || m.CEF.Ext["externalId"] != tc.ev.ID() {
				t.Errorf("externalId = %q, want %q", m.CEF.Ext["externalId"], tc.ev.ID())
			}
		})
	}
}

// TestAuditMapping checks the parsed values of the tricky audit record
// field by field, so the golden file is not the only proof.
func TestAuditMapping(t *testing.T) {
	ev := trickyAudit()
	s := testSink(t, testIntegration("octet"), Options{})
	m := parseOne(t, s.Append(nil, ev), false)
	a := ev.Audit
	if m.Facility != 13 || m.Severity != 5 {
		t.Errorf("PRI facility %d severity %d, want 13 and 5", m.Facility, m.Severity)
	}
	if m.Timestamp != "2025-11-21T09:30:15.123Z" || m.Hostname != "eu-1.example.net" || m.AppName != "siemsync" || m.ProcID != "-" || m.MsgID != "audit" {
		t.Errorf("header = %+v", m)
	}
	c := m.CEF
	if c.Version != "0" || c.Vendor != "siemsync" || c.Product != "siemsync" || c.DeviceVer != "1.0" || c.SignatureID != "100" || c.Severity != "3" {
		t.Errorf("CEF header = %+v", c)
	}
	if want := "Audit: " + Clean(a.Event, true); c.Name != want {
		t.Errorf("Name = %q, want %q", c.Name, want)
	}
	want := map[string]string{
		"rt": "1763717415123", "externalId": a.ID, "suser": a.User, "src": a.IP, "requestMethod": "PUT",
		"msg": a.Event, "cs1": tAccount, "cs1Label": "account", "cs2": tConnector, "cs2Label": "connector",
		"cs3": a.ACL, "cs3Label": "acl", "cs5": string(a.Metadata), "cs5Label": "metadata",
	}
	checkExt(t, c, want)
}

func TestJobMapping(t *testing.T) {
	s := testSink(t, testIntegration("octet"), Options{})
	for i, st := range siemsync.JobStatuses {
		ev := job(st, 0.29)
		m := parseOne(t, s.Append(nil, ev), false)
		c := m.CEF
		if c.SignatureID != []string{"200", "201", "202", "203", "204", "205"}[i] {
			t.Errorf("%s: signature id %s", st, c.SignatureID)
		}
		if c.Severity != []string{"1", "1", "1", "4", "6", "8"}[i] {
			t.Errorf("%s: severity %s", st, c.Severity)
		}
		if want := "Job " + st + ": " + ev.Job.Description; c.Name != want {
			t.Errorf("Name = %q, want %q", c.Name, want)
		}
		if m.MsgID != "job" || m.Timestamp != "2025-11-21T09:35:00.250Z" {
			t.Errorf("%s: header %+v", st, m)
		}
		want := map[string]string{
			"rt": "1763717700250", "externalId": ev.ID(), "suser": "scheduler", "cat": "backup",
			"msg": ev.Job.Description, "cs1": tAccount, "cs1Label": "account", "cs2": tConnector, "cs2Label": "connector",
			"cs4": tJob, "cs4Label": "job", "cs6": st, "cs6Label": "status",
			"deviceCustomDate1": "1763715600000", "deviceCustomDate1Label": "scheduled",
			"deviceCustomDate2": "1763715660000", "deviceCustomDate2Label": "planned start",
		}
		if st != siemsync.JobScheduled {
			want["start"] = "1763715723400"
			want["cn1"], want["cn1Label"] = "29", "progress percent"
		}
		if o := jobOutcome(st); o != "" {
			want["outcome"] = o
			want["end"] = "1763717580000"
		}
		if st == siemsync.JobCancelled {
			want["flexDate1"], want["flexDate1Label"] = "1763716800000", "paused"
		}
		checkExt(t, c, want)
	}
}

// TestSourcesAndSeverity: the sink drops data sources the integration
// does not list; min_severity is the sync cycle's filter (siemsync.Keeps),
// so the encoder writes every event it is given.
func TestSourcesAndSeverity(t *testing.T) {
	in := testIntegration("octet")
	in.MinSeverity = 4
	s := testSink(t, in, Options{})
	if got := s.Append(nil, job(siemsync.JobSuccessful, 1)); len(got) == 0 {
		t.Errorf("the encoder filtered on min_severity: the cycle does that, and counts it")
	}
	// Data sources: an audit-only integration sends no job.
	audit := testIntegration("octet")
	audit.Sources = []string{siemsync.SourceAudit}
	s = testSink(t, audit, Options{})
	if got := s.Append(nil, job(siemsync.JobUnsuccessful, 1)); len(got) != 0 {
		t.Error("job appended for an audit-only integration")
	}
	if got := s.Append(nil, trickyAudit()); len(got) == 0 {
		t.Error("audit filtered for an audit-only integration")
	}
	// Per-type severity override.
	s = testSink(t, in, Options{Severity: map[string]int{"audit": 7}})
	m := parseOne(t, s.Append(nil, trickyAudit()), false)
	if m.CEF.Severity != "7" || m.Severity != 3 {
		t.Errorf("audit severity %s PRI severity %d, want 7 and 3", m.CEF.Severity, m.Severity)
	}
	if _, err := New(in, Options{Severity: map[string]int{"nope": 1}}); err == nil {
		t.Error("unknown severity key accepted")
	}
	if _, err := New(in, Options{Severity: map[string]int{"audit": 11}}); err == nil {
		t.Error("severity 11 accepted")
	}
}

func TestAppendKeepsDst(t *testing.T) {
	s := testSink(t, testIntegration("octet"), Options{})
	a := s.Append(nil, trickyAudit())
	b := s.Append(nil, job(siemsync.JobInProgress, 0.5))
	both := s.Append(s.Append([]byte(nil), trickyAudit()), job(siemsync.JobInProgress, 0.5))
	if !bytes.Equal(both, append(append([]byte(nil), a...), b...)) {
		t.Fatal("appending two frames differs from their concatenation")
	}
	m1, rest, err := NextFrame(both, false)
	if err != nil {
		t.Fatal(err)
	}
	m2, rest, err := NextFrame(rest, false)
	if err != nil || len(rest) != 0 {
		t.Fatal(err, rest)
	}
	if !bytes.HasPrefix(m1, []byte("<109>1 ")) || !bytes.HasPrefix(m2, []byte("<110>1 ")) {
		t.Errorf("frames %q / %q", m1[:10], m2[:10])
	}
}

func TestLongValuesTruncated(t *testing.T) {
	s := testSink(t, testIntegration("octet"), Options{})
	long := strings.Repeat("é", 3000)
	ev := &siemsync.Event{UploadTime: tUpload, Audit: &siemsync.Audit{
		ID: "long", Time: tOccurred, Account: tAccount, Event: long, User: long, ACL: long,
		Metadata: json.RawMessage(`{"x":"` + strings.Repeat("=", 5000) + `"}`),
	}}
	frame := s.Append(nil, ev)
	msg, _, err := NextFrame(frame, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > DefaultMaxMessageBytes {
		t.Fatalf("message is %d bytes, cap %d", len(msg), DefaultMaxMessageBytes)
	}
	m, err := ParseMessage(string(msg))
	if err != nil {
		t.Fatal(err)
	}
	c := m.CEF
	if n := len([]rune(c.Name)); n != LimitName {
		t.Errorf("Name has %d characters, want %d", n, LimitName)
	}
	if n := len([]rune(c.Ext["suser"])); n != LimitOther {
		t.Errorf("suser has %d characters, want %d", n, LimitOther)
	}
	// Metadata (4000 '=' escape to 8000 bytes) gave way first, then msg
	// (the Name repeats it), down to their first 128 escaped bytes, then
	// acl was cut.
	meta := string(ev.Audit.Metadata)
	for k, full := range map[string]string{"cs5": meta, "msg": long} {
		v := c.Ext[k]
		if v == "" || !isCutOf(full, v) || escLen(v, false) > shrinkFloor || escLen(v, false) < shrinkFloor-4 {
			t.Errorf("%s = %q, want a prefix of about %d escaped bytes", k, v, shrinkFloor)
		}
	}
	if v := c.Ext["cs3"]; len(v) < 1000 || !isCutOf(long, v) {
		t.Errorf("cs3 (acl) is not a long prefix of the input: %d bytes", len(v))
	}
	if c.Ext["externalId"] != "long" || c.Ext["cs1"] != tAccount {
		t.Error("id or account lost")
	}

	// A smaller cap cuts msg too, at a character boundary.
	s = testSink(t, testIntegration("octet"), Options{MaxMessageBytes: 2048})
	frame = s.Append(nil, ev)
	msg, _, _ = NextFrame(frame, false)
	if len(msg) > 2048 {
		t.Fatalf("message is %d bytes, cap 2048", len(msg))
	}
	m, err = ParseMessage(string(msg))
	if err != nil {
		t.Fatal(err)
	}
	if v := m.CEF.Name; !strings.HasPrefix(v, "Audit: é") || !isCutOf("Audit: "+long, v) {
		t.Errorf("Name is not a prefix of the event: %q", v)
	}
}

// isCutOf reports whether v is full, or a prefix of it followed by the
// cut marker.
func isCutOf(full, v string) bool {
	if v == full {
		return true
	}
	kept, cut := strings.CutSuffix(v, string(Marker))
	return cut && strings.HasPrefix(full, kept)
}

func TestHostname(t *testing.T) {
	s := testSink(t, testIntegration("octet"), Options{Hostname: "worker-1"})
	ev := &siemsync.Event{UploadTime: tUpload, Audit: &siemsync.Audit{ID: "x", Time: tOccurred, Account: tAccount, Event: "e"}}
	if m := parseOne(t, s.Append(nil, ev), false); m.Hostname != "worker-1" {
		t.Errorf("HOSTNAME %q, want the option", m.Hostname)
	}
	for host, want := range map[string]string{
		"eu-1.example.net":       "eu-1.example.net",
		"bad host":               "-",
		"ünïcode.example":        "-",
		strings.Repeat("a", 256): "-",
		strings.Repeat("a", 255): strings.Repeat("a", 255),
	} {
		ev.Host = host
		if m := parseOne(t, s.Append(nil, ev), false); m.Hostname != want {
			t.Errorf("host %q: HOSTNAME %q, want %q", host, m.Hostname, want)
		}
	}
	// A zero time is the NILVALUE.
	ev.Audit.Time = time.Time{}
	if m := parseOne(t, s.Append(nil, ev), false); m.Timestamp != "-" || m.CEF.Ext["rt"] != "" {
		t.Errorf("zero time: TIMESTAMP %q rt %q", m.Timestamp, m.CEF.Ext["rt"])
	}
}

func TestEscapeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"plain":               "plain",
		`a|b`:                 `a\|b`,
		`a\b`:                 `a\\b`,
		`\|`:                  `\\\|`,
		"a=b":                 "a=b",
		"line\nbreak\r":       "line break ",
		"tab\tnul\x00del\x7f": "tab nul del ",
		"c1\u0085":            "c1 ",
		"bad\xffutf8":         "bad\uFFFDutf8",
		"Zoë 🔐":               "Zoë 🔐",
	} {
		if got := string(EscapeHeader(nil, in)); got != want {
			t.Errorf("EscapeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeExtension(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":   "plain text",
		`a=b`:          `a\=b`,
		`a\b`:          `a\\b`,
		`a|b`:          `a|b`,
		"l1\nl2\r\n":   `l1\nl2\r\n`,
		`\n`:           `\\n`,
		`x\=`:          `x\\\=`,
		"nul\x00tab\t": "nul tab ",
		"bad\xc3":      "bad\uFFFD",
		" k=v ":        ` k\=v `,
	} {
		got := string(EscapeExtension(nil, in))
		if got != want {
			t.Errorf("EscapeExtension(%q) = %q, want %q", in, got, want)
		}
		back, err := UnescapeExtension(got)
		if err != nil || back != Clean(in, false) {
			t.Errorf("UnescapeExtension(%q) = %q, %v; want %q", got, back, err, Clean(in, false))
		}
	}
	for _, bad := range []string{`a\`, `a\|b`, `\t`} {
		if _, err := UnescapeExtension(bad); err == nil {
			t.Errorf("UnescapeExtension(%q) accepted an invalid escape", bad)
		}
	}
}

func TestParseCEFRejects(t *testing.T) {
	for _, bad := range []string{
		"CEF:0|a|b|c|d|e|f",              // 6 pipes
		"CEF:0|a|b|c|d|e|f|g",            // extension without key=value
		"CEF:0|a|b\\x|c|d|e|f|k=v",       // bad header escape
		"CEF:0|a|b|c|d|e|f|k=v k=w",      // duplicate key
		"CEF:0|a|b|c|d|e|f|k=v\nx=y",     // raw newline
		"CEF:0|a|b|c|d|e|f|bad-key=v",    // invalid key
		"CEF:0|a|b|c|d|e|f|k=v=w",        // unescaped = in a value
		"CEF:0|a|b|c|d|e|f| leading k=v", // text before the first key
	} {
		if c, err := ParseCEF(bad); err == nil {
			t.Errorf("ParseCEF(%q) = %+v, want an error", bad, c)
		}
	}
	c, err := ParseCEF(`CEF:0|V\|x|P\\|1|100|N|3|a=1 b=x y\=z c=|pipe| d=  e=\\`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "x y=z", "c": "|pipe|", "d": " ", "e": `\`}
	if c.Vendor != "V|x" || c.Product != `P\` {
		t.Errorf("header %+v", c)
	}
	checkExt(t, c, want)
}

func TestPRISeverity(t *testing.T) {
	want := []int{6, 6, 5, 5, 4, 4, 4, 3, 3, 2, 2}
	for cef, w := range want {
		if got := PRISeverity(cef); got != w {
			t.Errorf("PRISeverity(%d) = %d, want %d", cef, got, w)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	for _, tc := range []struct{ addr, proto, want string }{
		{"siem.example.com:6514", "tls", "siem.example.com:6514"},
		{"siem.example.com", "tls", "siem.example.com:6514"},
		{"siem.example.com", "tcp", "siem.example.com:601"},
		{"[2001:db8::1]:7000", "tcp", "[2001:db8::1]:7000"},
		{"[2001:db8::1]", "tls", "[2001:db8::1]:6514"},
		{"2001:db8::1", "tls", "[2001:db8::1]:6514"},
	} {
		in := testIntegration("octet")
		in.Address, in.Protocol = tc.addr, tc.proto
		got, err := resolveTarget(in)
		if err != nil || got.addr != tc.want {
			t.Errorf("resolveTarget(%q, %s) = %q, %v; want %q", tc.addr, tc.proto, got.addr, err, tc.want)
		}
	}
	for _, bad := range []string{"", ":6514", "host:0", "host:99999", "host:abc"} {
		in := testIntegration("octet")
		in.Address = bad
		if _, err := resolveTarget(in); err == nil {
			t.Errorf("resolveTarget(%q) accepted", bad)
		}
	}
}

func parseOne(t testing.TB, frame []byte, lf bool) *Message {
	t.Helper()
	msg, rest, err := NextFrame(frame, lf)
	if err != nil || len(rest) != 0 {
		t.Fatalf("NextFrame(%q): %v, rest %q", frame, err, rest)
	}
	m, err := ParseMessage(string(msg))
	if err != nil {
		t.Fatalf("ParseMessage(%q): %v", msg, err)
	}
	if m.CEF == nil {
		t.Fatalf("MSG is not CEF: %q", m.Msg)
	}
	return m
}

func checkExt(t testing.TB, c *CEF, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := c.Ext[k]; !ok || got != v {
			t.Errorf("ext %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	for k, v := range c.Ext {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected ext %s=%q", k, v)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	s := testSink(b, testIntegration("octet"), Options{})
	evs := []*siemsync.Event{trickyAudit(), job(siemsync.JobInProgress, 0.5), {UploadTime: tUpload, Audit: &siemsync.Audit{
		ID: "plain", Time: tOccurred, Account: tAccount, User: "alice@example.com", IP: "198.51.100.4", Method: "POST", Event: "sign in"}}}
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = s.Append(buf[:0], evs[i%len(evs)])
	}
}

// forgingIP is an address with a zone padded so that a receiver cutting at
// 8 KiB would log the tail as a second, forged record (critical PRI,
// another host and app, a complete CEF header). Ingest refuses it now, but
// a store written before may hold it.
func forgingIP() string {
	return "fe80::1%" + strings.Repeat(" ", 8000) + "<10>1 2026-11-21T10:00:00Z dc01 Security - - - CEF:0|Microsoft|Windows|10|4625|Logon failure|10|suser=admin"
}

func TestPaddedIPIsOneBoundedRecord(t *testing.T) {
	ev := trickyAudit()
	ev.Audit.IP = forgingIP()
	for _, framing := range []string{"octet", "lf"} {
		s := testSink(t, testIntegration(framing), Options{})
		frame := s.Append(nil, ev)
		msg, rest, err := NextFrame(frame, framing == "lf")
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: not one frame: %v, %d bytes after it", framing, err, len(rest))
		}
		if len(msg) > DefaultMaxMessageBytes {
			t.Fatalf("%s: SYSLOG-MSG is %d bytes, more than %d", framing, len(msg), DefaultMaxMessageBytes)
		}
		m := parseOne(t, frame, framing == "lf")
		c := m.CEF
		if c.Ext["c6a2"] != "" {
			t.Errorf("%s: c6a2 = %.80q: an address with a zone is not an address", framing, c.Ext["c6a2"])
		}
		if got := c.Ext["cs6"]; len([]rune(got)) > LimitOther || !isCutOf(Clean(ev.Audit.IP, false), got) {
			t.Errorf("%s: cs6 = %.80q (%d characters), want the cut address", framing, got, len([]rune(got)))
		}
		if c.Ext["externalId"] != ev.Audit.ID || c.Ext["cs1"] != tAccount || c.Ext["suser"] != ev.Audit.User {
			t.Errorf("%s: the record lost its id, account or user: %v", framing, c.Ext)
		}
	}
}

// TestEveryValueGivesWay: whatever every value holds, including those
// without a shrink order (a job's id, the IP fields), the message keeps to
// the smallest cap a receiver must accept.
func TestEveryValueGivesWay(t *testing.T) {
	huge := strings.Repeat("🔐", 5000) // 4 bytes a character, escaped or not
	s := testSink(t, testIntegration("octet"), Options{MaxMessageBytes: MinMaxMessageBytes})
	for _, ev := range []*siemsync.Event{
		{Host: huge, UploadTime: tUpload, Audit: &siemsync.Audit{ID: huge, Time: tOccurred, Account: huge, Connector: huge,
			ACL: huge, Method: huge, User: huge, IP: huge, Metadata: json.RawMessage(huge), Event: huge}},
		{Host: huge, UploadTime: tUpload, Job: &siemsync.Job{Job: huge, Seq: 1, Account: huge, Connector: huge,
			Description: huge, Status: huge, Type: huge, User: huge}},
	} {
		msg, rest, err := NextFrame(s.Append(nil, ev), false)
		if err != nil || len(rest) != 0 {
			t.Fatalf("not one frame: %v, %d bytes after it", err, len(rest))
		}
		if len(msg) > MinMaxMessageBytes {
			t.Errorf("SYSLOG-MSG is %d bytes, more than %d", len(msg), MinMaxMessageBytes)
		}
		if _, err := ParseMessage(string(msg)); err != nil {
			t.Errorf("does not parse: %v", err)
		}
	}
}

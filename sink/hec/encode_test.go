package hec

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
)

func newTestSink(t testing.TB, mod func(*siemsync.Integration), opts Options) *Sink {
	t.Helper()
	in := &siemsync.Integration{ID: "int-1", Kind: siemsync.KindHEC, URL: "https://splunk.example.com:8088", Token: "secret-token-123"}
	if mod != nil {
		mod(in)
	}
	if opts.Hostname == "" {
		opts.Hostname = "default-host"
	}
	s, err := New(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	occurred = time.Date(2025, 11, 21, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	uploaded = time.Date(2025, 11, 21, 9, 5, 0, 7_000_000, time.UTC)
)

func auditEvent() *siemsync.Event {
	return &siemsync.Event{
		Audit: &siemsync.Audit{
			Seq: 7, ID: "a-1", Time: occurred,
			Account:   "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90",
			Connector: "9a0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c91",
			ACL:       "admin.write", Method: "POST", User: "ana@example.com", IP: "203.0.113.9",
			Metadata: json.RawMessage(`{"k":"v","n":[1,2]}`),
			Event:    `login "ok" <b>&`,
		},
		Host: "eu-1.example.net", UploadTime: uploaded,
	}
}

func TestAppendGolden(t *testing.T) {
	p := 0.5
	job := &siemsync.Event{
		Job: &siemsync.Job{
			Seq: 3, Job: "11111111-2222-4333-8444-555555555555", Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90",
			StartTime: time.Date(2025, 11, 21, 8, 0, 0, 0, time.UTC), Description: "backup of X",
			Progress: &p, Status: siemsync.JobInProgress, Type: "backup",
		},
		UploadTime: uploaded,
	}
	bare := &siemsync.Event{Audit: &siemsync.Audit{Time: occurred, Event: "x"}}

	tests := []struct {
		name string
		mod  func(*siemsync.Integration)
		ev   *siemsync.Event
		want string
	}{
		{
			name: "audit",
			ev:   auditEvent(),
			want: `{"time":1763715600.123,"host":"eu-1.example.net","source":"siemsync:audit","sourcetype":"_json","event":{"kind":"audit","id":"a-1","time":"2025-11-21T09:00:00.123Z","upload_time":"2025-11-21T09:05:00.007Z","host":"eu-1.example.net","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","connector":"9a0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c91","acl":"admin.write","method":"POST","user":"ana@example.com","ip":"203.0.113.9","metadata":{"k":"v","n":[1,2]},"event":"login \"ok\" <b>&"}}` + "\n",
		},
		{
			name: "audit with index and overrides, absent fields null, default host",
			mod:  func(in *siemsync.Integration) { in.Index = "sec"; in.Source = "src"; in.Sourcetype = "st" },
			ev:   bare,
			want: `{"time":1763715600.123,"host":"default-host","source":"src","sourcetype":"st","index":"sec","event":{"kind":"audit","id":null,"time":"2025-11-21T09:00:00.123Z","upload_time":null,"host":"default-host","account":null,"connector":null,"acl":null,"method":null,"user":null,"ip":null,"metadata":null,"event":"x"}}` + "\n",
		},
		{
			name: "job",
			ev:   job,
			want: `{"time":1763715900.007,"host":"default-host","source":"siemsync:job","sourcetype":"_json","event":{"kind":"job","id":"` + job.ID() + `","job":"11111111-2222-4333-8444-555555555555","time":"2025-11-21T09:05:00.007Z","upload_time":"2025-11-21T09:05:00.007Z","host":"default-host","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","connector":null,"scheduled":null,"planned_start":null,"start_time":"2025-11-21T08:00:00.000Z","description":"backup of X","progress":0.5,"paused":null,"end_time":null,"status":"in progress","type":"backup","user":null}}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSink(t, tt.mod, Options{})
			got := string(s.Append([]byte("prefix"), tt.ev))
			if got != "prefix"+tt.want {
				t.Errorf("Append\n got %s\nwant %s", got, "prefix"+tt.want)
			}
		})
	}
}

func TestAppendEpoch(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(0, 0), "0.000"},
		{time.Unix(1763719200, 0), "1763719200.000"},
		{time.Unix(1763719200, 5e6), "1763719200.005"},
		{time.Unix(1763719200, 999_999_999), "1763719200.999"},
		{time.Unix(9999999999, 120e6), "9999999999.120"},
		{time.Unix(-1, 500e6), "-0.500"},
	}
	for _, tt := range tests {
		if got := string(appendEpoch(nil, tt.t)); got != tt.want {
			t.Errorf("appendEpoch(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"a\nb\rc\td", `"a\nb\rc\td"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{"<>&", `"<>&"`},
		{"héllo ✓ 😀", `"héllo ✓ 😀"`},
		{"bad \xff\xfe utf8 \xe2\x82", `"bad \ufffd\ufffd utf8 \ufffd\ufffd"`},
		{"\u2028", "\"\u2028\""},
	}
	for _, tt := range tests {
		got := string(appendString(nil, tt.in, 0))
		if got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || !utf8.ValidString(got) {
			t.Errorf("appendString(%q) = %s: not valid JSON/UTF-8: %v", tt.in, got, err)
		}
	}
}

func TestAppendStringLimit(t *testing.T) {
	got := appendString(nil, strings.Repeat("é", 1000), 100)
	var back string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if len(got) > 110 || !strings.HasSuffix(back, "…") || !utf8.ValidString(back) {
		t.Fatalf("limited string = %d bytes: %s", len(got), got)
	}
}

func TestAppendProgress(t *testing.T) {
	tests := []struct {
		p    *float64
		want string
	}{
		{nil, `"progress":null`},
		{ptr(0), `"progress":0,`},
		{ptr(1), `"progress":1,`},
		{ptr(1e-7), `"progress":0.0000001,`},
		{ptr(0.333), `"progress":0.333,`},
		{ptr(math.NaN()), `"progress":null`},
		{ptr(math.Inf(1)), `"progress":null`},
	}
	s := newTestSink(t, nil, Options{})
	for _, tt := range tests {
		ev := &siemsync.Event{Job: &siemsync.Job{Job: "j", Progress: tt.p, Status: "scheduled"}, UploadTime: uploaded}
		got := string(s.Append(nil, ev))
		if !strings.Contains(got, tt.want) || !json.Valid(bytes.TrimSpace([]byte(got))) {
			t.Errorf("progress %v: %s", tt.p, got)
		}
	}
}

func ptr(f float64) *float64 { return &f }

func TestAppendTruncates(t *testing.T) {
	big := `{"blob":"` + strings.Repeat("x", 20000) + `"}`
	tests := []struct {
		name       string
		metadata   string
		event      string
		maxBytes   int
		truncated  bool
		capStrings bool
	}{
		{"small stays", `{"a":1}`, "e", 0, false, false},
		{"big metadata replaced", big, "e", 0, true, false},
		{"big event text capped", `{"a":1}`, strings.Repeat("y", 20000), 0, false, true},
		{"both", big, strings.Repeat("y", 20000), 0, true, true},
		{"truncation off", big, "e", -1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSink(t, nil, Options{MaxEventBytes: tt.maxBytes})
			ev := auditEvent()
			ev.Audit.Metadata = json.RawMessage(tt.metadata)
			ev.Audit.Event = tt.event
			line := s.Append(nil, ev)
			var env struct {
				Event struct {
					Metadata map[string]any `json:"metadata"`
					Event    string         `json:"event"`
					ID       string         `json:"id"`
				} `json:"event"`
			}
			if err := json.Unmarshal(line, &env); err != nil {
				t.Fatalf("invalid JSON: %v", err)
			}
			if tt.maxBytes >= 0 && len(line) > DefaultMaxEventBytes+1 {
				t.Errorf("line is %d bytes, over %d", len(line), DefaultMaxEventBytes)
			}
			md := env.Event.Metadata
			if got := md["_siemsync_truncated"] == true; got != tt.truncated {
				t.Fatalf("truncated = %v, want %v: %v", got, tt.truncated, md)
			}
			if tt.truncated {
				if md["original_bytes"] != float64(len(tt.metadata)) {
					t.Errorf("original_bytes = %v, want %d", md["original_bytes"], len(tt.metadata))
				}
				if p, _ := md["preview"].(string); !strings.HasPrefix(p, `{"blob":"xxx`) || len(p) > previewBytes+10 {
					t.Errorf("preview = %.60q… (%d bytes)", p, len(p))
				}
			}
			if got := strings.HasSuffix(env.Event.Event, "…"); got != tt.capStrings {
				t.Errorf("event text capped = %v, want %v", got, tt.capStrings)
			}
			if env.Event.ID != "a-1" {
				t.Errorf("id lost: %q", env.Event.ID)
			}
		})
	}
}

// FuzzAppend checks that every event encodes to one line of valid JSON
// whose fields decode back to the input.
func FuzzAppend(f *testing.F) {
	f.Add("a-1", "3f0c2a5e", "", "acl", "GET", "ana", "1.2.3.4", []byte(`{"k":"v"}`), "login", int64(1763719200123), "host", "idx", true, 0.5)
	f.Add("\xff", "\x00", "\"", "\\", "\n", "<>&", "\u2028", []byte(`[1,`), "", int64(-5), "", "", false, math.NaN())
	f.Add("é😀", "", "", "", "", "", "", []byte(strings.Repeat(`{"a":`, 3)+`1}}}`), strings.Repeat("z", 12000), int64(0), "h", "", true, 1e-9)
	f.Fuzz(func(t *testing.T, id, account, connector, acl, method, user, ip string, metadata []byte, text string, ms int64, host, index string, audit bool, progress float64) {
		metadata = storedMetadata(metadata)
		s := newTestSink(t, func(in *siemsync.Integration) { in.Index = index; in.Source = user }, Options{})
		ts := time.UnixMilli(ms % (400 * 365 * 24 * 3600 * 1000))
		ev := &siemsync.Event{Host: host, UploadTime: ts}
		if audit {
			ev.Audit = &siemsync.Audit{ID: id, Time: ts, Account: account, Connector: connector, ACL: acl, Method: method, User: user, IP: ip, Metadata: metadata, Event: text}
		} else {
			ev.Job = &siemsync.Job{Job: id, Account: account, Connector: connector, Description: text, Status: method, Type: acl, User: user, Progress: &progress, StartTime: ts}
		}
		line := s.Append(nil, ev)
		if len(line) == 0 || line[len(line)-1] != '\n' || bytes.IndexByte(line[:len(line)-1], '\n') >= 0 {
			t.Fatalf("not one line: %q", line)
		}
		if !utf8.Valid(line) {
			t.Fatalf("invalid UTF-8 output: %q", line)
		}
		var env struct {
			Time       json.Number                `json:"time"`
			Host       string                     `json:"host"`
			Source     string                     `json:"source"`
			Sourcetype string                     `json:"sourcetype"`
			Index      *string                    `json:"index"`
			Event      map[string]json.RawMessage `json:"event"`
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&env); err != nil {
			t.Fatalf("invalid JSON: %v\n%s", err, line)
		}
		if strings.ContainsAny(string(env.Time), "eE") || !strings.Contains(string(env.Time), ".") || len(env.Time) < 5 || string(env.Time)[len(env.Time)-4] != '.' {
			t.Fatalf("time %s is not a plain decimal with 3 decimals", env.Time)
		}
		if want := ts.UnixMilli(); numMillis(t, string(env.Time)) != want {
			t.Fatalf("time %s, want %d ms", env.Time, want)
		}
		wantHost := host
		if wantHost == "" {
			wantHost = "default-host"
		}
		if env.Host != valid(wantHost) {
			t.Fatalf("host %q, want %q", env.Host, valid(wantHost))
		}
		if (index == "") != (env.Index == nil) || (env.Index != nil && *env.Index != valid(index)) {
			t.Fatalf("index %v, want %q", env.Index, index)
		}
		str := func(key string) any {
			var v any
			if err := json.Unmarshal(env.Event[key], &v); err != nil {
				t.Fatalf("event.%s: %v", key, err)
			}
			return v
		}
		wantStr := func(key, in string) {
			t.Helper()
			got := str(key)
			if in == "" {
				if got != nil {
					t.Fatalf("event.%s = %v, want null", key, got)
				}
				return
			}
			g, _ := got.(string)
			if g != valid(in) && !(strings.HasSuffix(g, "…") && strings.HasPrefix(valid(in), strings.TrimSuffix(g, "…"))) {
				t.Fatalf("event.%s = %q, want %q", key, g, valid(in))
			}
		}
		if audit {
			if len(env.Event) != 13 {
				t.Fatalf("audit event has %d fields", len(env.Event))
			}
			wantStr("id", id)
			wantStr("account", account)
			wantStr("connector", connector)
			wantStr("acl", acl)
			wantStr("method", method)
			wantStr("user", user)
			wantStr("ip", ip)
			wantStr("event", text)
			md := env.Event["metadata"]
			switch {
			case len(metadata) == 0:
				if string(md) != "null" {
					t.Fatalf("metadata %s, want null", md)
				}
			case bytes.HasPrefix(md, []byte(`{"_siemsync_truncated":true,"original_bytes":`)):
				var m struct {
					N int `json:"original_bytes"`
				}
				if json.Unmarshal(md, &m); m.N != len(metadata) {
					t.Fatalf("original_bytes %d, want %d", m.N, len(metadata))
				}
			default:
				var a, b any
				json.Unmarshal(metadata, &a)
				json.Unmarshal(md, &b)
				if ja, _ := json.Marshal(a); string(ja) != mustMarshal(b) {
					t.Fatalf("metadata %s, want %s", md, metadata)
				}
			}
		} else {
			if len(env.Event) != 18 {
				t.Fatalf("job event has %d fields", len(env.Event))
			}
			wantStr("job", id)
			wantStr("description", text)
			wantStr("status", method)
			var p any
			json.Unmarshal(env.Event["progress"], &p)
			if math.IsNaN(progress) || math.IsInf(progress, 0) {
				if p != nil {
					t.Fatalf("progress %v, want null", p)
				}
			} else if p != progress {
				t.Fatalf("progress %v, want %v", p, progress)
			}
		}
	})
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// valid is what a string reads as after encoding: invalid UTF-8 replaced.
// Each invalid byte becomes one U+FFFD, as []rune does.
func valid(s string) string { return string([]rune(s)) }

func numMillis(t *testing.T, s string) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sec, frac, _ := strings.Cut(s, ".")
	var n int64
	for _, c := range sec + frac {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n
}

func BenchmarkAppendAudit(b *testing.B) {
	s := newTestSink(b, nil, Options{})
	ev := auditEvent()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Append(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendJob(b *testing.B) {
	s := newTestSink(b, nil, Options{})
	p := 0.25
	ev := &siemsync.Event{Job: &siemsync.Job{Seq: 1, Job: "11111111-2222-4333-8444-555555555555", Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90", Progress: &p, Status: "in progress", StartTime: occurred, Description: "backup"}, UploadTime: uploaded}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Append(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}

func TestSpecial8(t *testing.T) {
	naive := func(w [8]byte) bool {
		for _, c := range w {
			if c < 0x20 || c == '"' || c == '\\' {
				return true
			}
		}
		return false
	}
	check := func(w [8]byte) {
		x := uint64(0)
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(w[i])
		}
		if got := special8(x) != 0; got != naive(w) {
			t.Fatalf("special8(%q) = %v, want %v", w[:], got, naive(w))
		}
	}
	for pos := range 8 {
		for c := range 256 {
			for _, fill := range []byte{'a', 0xff, 0x80, 0x21, 0x7f} {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				check(w)
			}
		}
	}
	seed := uint64(1)
	for range 200000 {
		seed = seed*6364136223846793005 + 1442695040888963407
		var w [8]byte
		for i := range w {
			w[i] = byte(seed >> (8 * i))
		}
		check(w)
	}
}

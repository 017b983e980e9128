package hec

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/ocsftest"
)

func ocsfSink(t testing.TB, opts Options) *Sink {
	t.Helper()
	return newTestSink(t, func(in *siemsync.Integration) { in.Profile = siemsync.ProfileOCSF }, opts)
}

// ocsfEvent is the event object of one HEC line.
func ocsfEvent(t testing.TB, line []byte) []byte {
	t.Helper()
	var env struct {
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(line, &env); err != nil {
		t.Fatalf("not a JSON envelope: %v\n%s", err, line)
	}
	return env.Event
}

func jobEvent(status string, mod func(*siemsync.Job)) *siemsync.Event {
	p := 0.25
	j := &siemsync.Job{
		Seq: 3, Job: "11111111-2222-4333-8444-555555555555", Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90",
		Connector: "9a0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c91",
		Scheduled: time.Date(2025, 11, 21, 7, 0, 0, 0, time.UTC), PlannedStart: time.Date(2025, 11, 21, 7, 30, 0, 0, time.UTC),
		StartTime: time.Date(2025, 11, 21, 8, 0, 0, 0, time.UTC), Description: "Backup of Exchange (M365)",
		Progress: &p, Status: status, Type: "backup", User: "ana@example.com",
	}
	if mod != nil {
		mod(j)
	}
	return &siemsync.Event{Job: j, Host: "eu-1.example.net", UploadTime: uploaded}
}

func TestOCSFGolden(t *testing.T) {
	s := ocsfSink(t, Options{Vendor: "Acme", Product: "Backup Cloud", Version: "4.2"})
	tests := []struct {
		name string
		ev   *siemsync.Event
		want string
	}{{
		name: "audit",
		ev:   auditEvent(),
		want: `{"time":1763715600.123,"host":"eu-1.example.net","source":"siemsync:audit","sourcetype":"_json","event":{"activity_id":1,"activity_name":"Create","category_uid":6,"category_name":"Application Activity","class_uid":6003,"class_name":"API Activity","type_uid":600301,"type_name":"API Activity: Create","severity_id":1,"severity":"Informational","status_id":0,"status":"Unknown","time":1763715600123,"message":"login \"ok\" <b>&","metadata":{"uid":"a-1","version":"1.8.0","product":{"name":"Backup Cloud","vendor_name":"Acme","version":"4.2"},"tenant_uid":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","log_name":"audit","processed_time":1763715900007},"actor":{"user":{"name":"ana@example.com"}},"src_endpoint":{"ip":"203.0.113.9"},"dst_endpoint":{"hostname":"eu-1.example.net"},"api":{"operation":"login \"ok\" <b>&"},"http_request":{"http_method":"POST"},"unmapped":{"kind":"audit","connector":"9a0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c91","acl":"admin.write","metadata":{"k":"v","n":[1,2]}}}}` + "\n",
	}, {
		name: "bare audit: no user, ip or method",
		ev:   &siemsync.Event{Audit: &siemsync.Audit{ID: "a-2", Time: occurred, Event: "x"}},
		want: `{"time":1763715600.123,"host":"default-host","source":"siemsync:audit","sourcetype":"_json","event":{"activity_id":0,"activity_name":"Unknown","category_uid":6,"category_name":"Application Activity","class_uid":6003,"class_name":"API Activity","type_uid":600300,"type_name":"API Activity: Unknown","severity_id":1,"severity":"Informational","status_id":0,"status":"Unknown","time":1763715600123,"message":"x","metadata":{"uid":"a-2","version":"1.8.0","product":{"name":"Backup Cloud","vendor_name":"Acme","version":"4.2"},"log_name":"audit"},"actor":{"app_name":"Backup Cloud"},"src_endpoint":{"name":"unknown"},"dst_endpoint":{"hostname":"default-host"},"api":{"operation":"x"},"unmapped":{"kind":"audit"}}}` + "\n",
	}, {
		name: "job in progress",
		ev:   jobEvent(siemsync.JobInProgress, nil),
		want: `{"time":1763715900.007,"host":"eu-1.example.net","source":"siemsync:job","sourcetype":"_json","event":{"activity_id":2,"activity_name":"Update","category_uid":1,"category_name":"System Activity","class_uid":1006,"class_name":"Scheduled Job Activity","type_uid":100602,"type_name":"Scheduled Job Activity: Update","severity_id":1,"severity":"Informational","status_id":99,"status":"in progress","time":1763715900007,"start_time":1763712000000,"metadata":{"uid":"` +
			siemsync.SnapshotID("11111111-2222-4333-8444-555555555555", 3, uploaded) +
			`","correlation_uid":"11111111-2222-4333-8444-555555555555","version":"1.8.0","product":{"name":"Backup Cloud","vendor_name":"Acme","version":"4.2"},"tenant_uid":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","log_name":"jobs","processed_time":1763715900007},"device":{"hostname":"eu-1.example.net","type_id":0,"type":"Unknown"},"actor":{"user":{"name":"ana@example.com"}},"job":{"name":"Backup of Exchange (M365)","desc":"Backup of Exchange (M365)","created_time":1763708400000,"next_run_time":1763710200000,"last_run_time":1763712000000,"run_state_id":3,"run_state":"Running","user":{"name":"ana@example.com"}},"unmapped":{"kind":"job","job":"11111111-2222-4333-8444-555555555555","connector":"9a0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c91","type":"backup","progress":0.25}}}` + "\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(s.Append(nil, tt.ev))
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestOCSFValidAgainstSchema runs every branch of the mapping through the
// OCSF schema subset.
func TestOCSFValidAgainstSchema(t *testing.T) {
	big := json.RawMessage(`{"blob":"` + strings.Repeat("x", 20000) + `"}`)
	var evs []*siemsync.Event
	for _, m := range []string{"GET", "head", "POST", "PUT", "Patch", "DELETE", "OPTIONS", "CONNECT", "TRACE", "LOGIN", ""} {
		ev := auditEvent()
		ev.Audit.Method = m
		evs = append(evs, ev)
	}
	bare := auditEvent()
	bare.Audit.User, bare.Audit.IP, bare.Audit.Connector, bare.Audit.ACL, bare.Audit.Metadata = "", "", "", "", nil
	v6 := auditEvent()
	v6.Audit.IP = "2001:db8::1"
	bad := auditEvent()
	bad.Audit.Event, bad.Audit.User = "bad \xff utf-8 \x00 \u2028", "\"quoted\"\n"
	huge := auditEvent()
	huge.Audit.Metadata = big
	hugeStrings := auditEvent()
	hugeStrings.Audit.Event = strings.Repeat("y", 20000)
	evs = append(evs, bare, v6, bad, huge, hugeStrings)
	for _, st := range append(siemsync.JobStatuses, "mystery") {
		evs = append(evs, jobEvent(st, nil))
	}
	evs = append(evs,
		jobEvent(siemsync.JobInProgress, func(j *siemsync.Job) { j.Paused = uploaded }),
		jobEvent(siemsync.JobSuccessful, func(j *siemsync.Job) { j.EndTime = uploaded }),
		jobEvent(siemsync.JobScheduled, func(j *siemsync.Job) {
			j.Description, j.Type, j.User, j.Connector, j.Progress = "", "", "", "", nil
			j.Scheduled, j.PlannedStart, j.StartTime = time.Time{}, time.Time{}, time.Time{}
		}),
		jobEvent(siemsync.JobScheduled, func(j *siemsync.Job) { j.Description = "" }),
	)
	for _, opts := range []Options{{}, {Vendor: "Acme \"Corp\"", Product: "Backup", Version: "1"}} {
		s := ocsfSink(t, opts)
		for i, ev := range evs {
			line := s.Append(nil, ev)
			if len(line) > DefaultMaxEventBytes+400 { // the envelope is outside Splunk's event
				t.Errorf("event %d: %d bytes, not truncated", i, len(line))
			}
			e := ocsfEvent(t, line)
			if err := ocsftest.Validate(e); err != nil {
				t.Errorf("event %d is not valid OCSF: %v\n%s", i, err, e)
			}
			var got struct {
				Metadata struct {
					UID string `json:"uid"`
				} `json:"metadata"`
			}
			json.Unmarshal(e, &got) //nolint:errcheck // validated above
			if want := ev.ID(); got.Metadata.UID != want {
				t.Errorf("event %d: metadata.uid %q, want the event id %q", i, got.Metadata.UID, want)
			}
		}
	}
}

// TestOCSFSchemaRefusesBrokenEvents proves the schema check can fail: each
// change breaks one rule of OCSF that the encoder must keep.
func TestOCSFSchemaRefusesBrokenEvents(t *testing.T) {
	s := ocsfSink(t, Options{})
	good := ocsfEvent(t, s.Append(nil, auditEvent()))
	if err := ocsftest.Validate(good); err != nil {
		t.Fatalf("the unchanged event must be valid: %v", err)
	}
	breaks := []struct{ name, from, to string }{
		{"type_uid of another activity", `"type_uid":600301`, `"type_uid":600302`},
		{"unknown class", `"class_uid":6003`, `"class_uid":6004`},
		{"time as a string", `"time":1763715600123`, `"time":"1763715600123"`},
		{"missing OCSF version", `"version":"1.8.0",`, ``},
		{"unknown attribute", `"message":`, `"mesage":`},
		{"bad ip", `"ip":"203.0.113.9"`, `"ip":"not-an-ip"`},
		{"empty actor", `"actor":{"user":{"name":"ana@example.com"}}`, `"actor":{}`},
		{"unknown http method", `"http_method":"POST"`, `"http_method":"LOGIN"`},
		{"null value", `"tenant_uid":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"`, `"tenant_uid":null`},
	}
	for _, b := range breaks {
		t.Run(b.name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(b.from), []byte(b.to), 1)
			if bytes.Equal(bad, good) {
				t.Fatalf("%q is not in the event", b.from)
			}
			if ocsftest.Validate(bad) == nil {
				t.Errorf("accepted:\n%s", bad)
			}
		})
	}
}

// FuzzOCSF: whatever the record holds (within what ingest accepts), the
// line is one JSON envelope whose event is valid OCSF carrying the id.
func FuzzOCSF(f *testing.F) {
	f.Add(true, "a-1", "3f0c2a5e", "", "acl", "GET", "ana", "1.2.3.4", []byte(`{"k":"v"}`), "login", int64(1763719200123), "eu-1", 0.5)
	f.Add(false, "\xff\xfe", "\x00", "\"", "\\", "in progress", "<>&\u2028", "::1", []byte(nil), "", int64(0), "", 2.0)
	f.Add(true, "", "", "", "", "delete", "", "", []byte(`{"a":"`+strings.Repeat("z", 12000)+`"}`), strings.Repeat("é", 6000), int64(253402300799999), "h", -1.0)
	f.Fuzz(func(t *testing.T, audit bool, id, account, connector, acl, method, user, ip string, metadata []byte, text string, ms int64, host string, progress float64) {
		metadata = storedMetadata(metadata)
		if a, err := netip.ParseAddr(ip); err != nil || a.Zone() != "" {
			ip = "" // ingest accepts only IP addresses
		}
		if ms < 0 {
			ms = -ms
		}
		ms %= 253402300800000
		ts := time.UnixMilli(ms)
		s := ocsfSink(t, Options{})
		ev := &siemsync.Event{Host: host, UploadTime: ts.Add(time.Minute)}
		if audit {
			ev.Audit = &siemsync.Audit{Seq: 1, ID: id, Time: ts, Account: account, Connector: connector, ACL: acl,
				Method: method, User: user, IP: ip, Metadata: metadata, Event: text}
		} else {
			ev.Job = &siemsync.Job{Seq: 2, Job: id, Account: account, Connector: connector, StartTime: ts, Paused: ts,
				Description: text, Progress: &progress, Status: method, Type: acl, User: user}
		}
		line := s.Append(nil, ev)
		if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
			t.Fatalf("not one line: %q", line)
		}
		e := ocsfEvent(t, line)
		if err := ocsftest.Validate(e); err != nil {
			t.Fatalf("not valid OCSF: %v\n%s", err, e)
		}
		var got struct {
			Time     int64 `json:"time"`
			Metadata struct {
				UID string `json:"uid"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(e, &got); err != nil {
			t.Fatal(err)
		}
		if want := ev.ID(); utf8.ValidString(want) && len(want) < fieldCapBytes && got.Metadata.UID != want {
			t.Fatalf("metadata.uid %q, want %q", got.Metadata.UID, want)
		}
		want := ts.UnixMilli()
		if !audit {
			want = ev.UploadTime.UnixMilli()
		}
		if got.Time != want {
			t.Fatalf("time %d, want %d", got.Time, want)
		}
	})
}

// BenchmarkAppendOCSF encodes realistic audit events as OCSF, to compare
// with BenchmarkAppendRealistic (the siemsync profile).
func BenchmarkAppendOCSF(b *testing.B) {
	s := ocsfSink(b, Options{Vendor: "Acme", Product: "Backup Cloud"})
	evs := realisticEvents(b, 1024)
	buf := make([]byte, 0, 4096)
	var total int
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = s.Append(buf[:0], &evs[i%len(evs)])
		total += len(buf)
		i++
	}
	b.SetBytes(int64(total / max(i, 1)))
}

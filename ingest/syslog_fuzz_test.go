package ingest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sink/syslog"
)

// FuzzAcceptedLineIsOneSyslogRecord is the property that closes log
// forgery through a record's values: whatever line ingest accepts (audit or
// job), the syslog encoder turns it into exactly one frame whose SYSLOG-MSG
// is at most 8,192 bytes (rsyslog's maxMessageSize="8k" then never cuts it
// into a second, attacker-shaped message) and parses as one CEF record, in
// both framings.
func FuzzAcceptedLineIsOneSyslogRecord(f *testing.F) {
	addSeeds(f, "testdata/audit.ndjson")
	addSeeds(f, "testdata/jobs.ndjson")
	pad := strings.Repeat(`x <10>1 - evil app - - - CEF:0|Microsoft|Windows|1|4625|Logon|10| `, 150)
	for _, s := range []string{
		`{"time":"2026-11-21T10:00:00Z","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"e","ip":"fe80::1%` + pad + `"}`,
		`{"time":"2026-11-21T10:00:00Z","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"` + pad + `","user":"` + pad + `","acl":"` + pad + `","method":"` + pad + `","metadata":{"k":"` + pad + `"}}`,
		`{"id":"` + strings.Repeat(`\\=`, 64) + `","time":"2026-11-21T10:00:00Z","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"` + strings.Repeat(`\n`, 3000) + `","ip":"::ffff:10.0.0.1"}`,
		`{"job":"0b9e7c1a-1111-4a2b-8c3d-000000000001","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","status":"failed","description":"` + pad + `","type":"` + pad + `","user":"` + pad + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		p := newParser("")
		ev := siemsync.Event{UploadTime: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
		var a siemsync.Audit
		var j siemsync.Job
		if p.audit(line, &a) == nil {
			ev.Audit = &a
		} else if p.job(line, &j) == nil {
			j.Seq = 1
			ev.Job = &j
		} else {
			return // refused: nothing to send
		}
		for _, framing := range []string{"octet", "lf"} {
			in := &siemsync.Integration{ID: "0c9f3a1e-2b4d-4e6f-8a0b-1c2d3e4f5a6b", Account: a.Account + j.Account,
				Name: "SOC", Kind: siemsync.KindSyslog, Address: "127.0.0.1:6514", Protocol: "tcp", Framing: framing}
			s, err := syslog.New(in, syslog.Options{Hostname: "worker-1"})
			if err != nil {
				t.Fatal(err)
			}
			frame := s.Append(nil, &ev)
			msg, rest, err := syslog.NextFrame(frame, framing == "lf")
			if err != nil {
				t.Fatalf("%s: %v in %.300q", framing, err, frame)
			}
			if len(rest) != 0 {
				t.Fatalf("%s: %d bytes after the one frame: %.300q", framing, len(rest), rest)
			}
			if len(msg) > syslog.DefaultMaxMessageBytes {
				t.Fatalf("%s: SYSLOG-MSG is %d bytes, more than %d", framing, len(msg), syslog.DefaultMaxMessageBytes)
			}
			if bytes.ContainsAny(msg, "\r\n\x00") {
				t.Fatalf("%s: a line break or NUL inside the message: %.300q", framing, msg)
			}
			m, err := syslog.ParseMessage(string(msg))
			if err != nil || m.CEF == nil {
				t.Fatalf("%s: not one CEF record: %v: %.300q", framing, err, msg)
			}
		}
	})
}

package hec

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

// The envelope as encoding/json writes it from plain structs: the reference
// the hand-written encoder must agree with.
type refEnvelope struct {
	Time       json.Number `json:"time"`
	Host       string      `json:"host"`
	Source     string      `json:"source"`
	Sourcetype string      `json:"sourcetype"`
	Index      string      `json:"index,omitempty"`
	Event      any         `json:"event"`
}

type refAudit struct {
	Kind       string          `json:"kind"`
	ID         *string         `json:"id"`
	Time       *string         `json:"time"`
	UploadTime *string         `json:"upload_time"`
	Host       *string         `json:"host"`
	Account    *string         `json:"account"`
	Connector  *string         `json:"connector"`
	ACL        *string         `json:"acl"`
	Method     *string         `json:"method"`
	User       *string         `json:"user"`
	IP         *string         `json:"ip"`
	Metadata   json.RawMessage `json:"metadata"`
	Event      *string         `json:"event"`
}

type refJob struct {
	Kind         string   `json:"kind"`
	ID           *string  `json:"id"`
	Job          *string  `json:"job"`
	Time         *string  `json:"time"`
	UploadTime   *string  `json:"upload_time"`
	Host         *string  `json:"host"`
	Account      *string  `json:"account"`
	Connector    *string  `json:"connector"`
	Scheduled    *string  `json:"scheduled"`
	PlannedStart *string  `json:"planned_start"`
	StartTime    *string  `json:"start_time"`
	Description  *string  `json:"description"`
	Progress     *float64 `json:"progress"`
	Paused       *string  `json:"paused"`
	EndTime      *string  `json:"end_time"`
	Status       *string  `json:"status"`
	Type         *string  `json:"type"`
	User         *string  `json:"user"`
}

func refStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func refTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	return &s
}

func refEpoch(t time.Time) json.Number {
	ms := t.UnixMilli()
	return json.Number(strconv.FormatInt(ms/1000, 10) + "." + strconv.FormatInt(1000+ms%1000, 10)[1:])
}

// reference encodes ev with encoding/json the way SPEC §3 describes it.
func reference(s *Sink, in *siemsync.Integration, ev *siemsync.Event) ([]byte, error) {
	host := ev.Host
	if host == "" {
		host = s.host
	}
	env := refEnvelope{Host: host, Sourcetype: in.Sourcetype, Index: in.Index}
	if env.Sourcetype == "" {
		env.Sourcetype = siemsync.DefaultSourcetype
	}
	if a := ev.Audit; a != nil {
		env.Time, env.Source = refEpoch(a.Time), siemsync.DefaultAuditSource
		meta := json.RawMessage("null")
		if len(a.Metadata) > 0 {
			meta = a.Metadata
		}
		env.Event = refAudit{Kind: "audit", ID: refStr(a.ID), Time: refTime(a.Time), UploadTime: refTime(ev.UploadTime),
			Host: refStr(host), Account: refStr(a.Account), Connector: refStr(a.Connector), ACL: refStr(a.ACL),
			Method: refStr(a.Method), User: refStr(a.User), IP: refStr(a.IP), Metadata: meta, Event: refStr(a.Event)}
	} else {
		j := ev.Job
		env.Time, env.Source = refEpoch(ev.UploadTime), siemsync.DefaultJobSource
		var p *float64
		if j.Progress != nil && !math.IsNaN(*j.Progress) && !math.IsInf(*j.Progress, 0) {
			p = j.Progress
		}
		env.Event = refJob{Kind: "job", ID: refStr(ev.ID()), Job: refStr(j.Job), Time: refTime(ev.UploadTime),
			UploadTime: refTime(ev.UploadTime), Host: refStr(host), Account: refStr(j.Account), Connector: refStr(j.Connector),
			Scheduled: refTime(j.Scheduled), PlannedStart: refTime(j.PlannedStart), StartTime: refTime(j.StartTime),
			Description: refStr(j.Description), Progress: p, Paused: refTime(j.Paused), EndTime: refTime(j.EndTime),
			Status: refStr(j.Status), Type: refStr(j.Type), User: refStr(j.User)}
	}
	if in.Source != "" {
		env.Source = in.Source
	}
	return json.Marshal(env)
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	// Numbers decode to float64: the encoder writes 1e-9 as 0.000000001
	// where encoding/json writes 1e-09, the same number.
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// FuzzAppendMatchesEncodingJSON checks that the hand-written encoder
// writes, for any record, the same JSON value as encoding/json does from
// plain structs (compared after decoding both, so escaping and spacing
// may differ; numbers compare by value). Truncation is off: it is a
// deliberate departure, tested on its own.
func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	f.Add(true, "a-1", "3f0c2a5e", "", "acl", "GET", "ana", "1.2.3.4", []byte(`{"k":"v","n":[1,2.5e3]}`), "login", int64(1763719200123), "eu-1", "idx", "src", 0.5)
	f.Add(false, "\xff\xfe", "\x00", "\"", "\\", "\n\t", "<>&\u2028", "é😀", []byte(` { "a" : null } `), "", int64(0), "", "", "", math.Inf(1))
	f.Add(true, "", "", "", "", "", "", "", []byte(nil), "x", int64(253402300799999), "h", "", "", math.NaN())
	f.Fuzz(func(t *testing.T, audit bool, id, account, connector, acl, method, user, ip string, metadata []byte, text string, ms int64, host, index, source string, progress float64) {
		metadata = storedMetadata(metadata)
		if ms < 0 {
			ms = -ms
		}
		ms %= 253402300800000 // years 1970–9999
		ts := time.UnixMilli(ms)
		in := &siemsync.Integration{ID: "int-1", Kind: siemsync.KindHEC, URL: "https://splunk.example.com:8088", Token: "t", Index: index, Source: source}
		s, err := New(in, Options{Hostname: "default-host", MaxEventBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		ev := &siemsync.Event{Host: host, UploadTime: ts.Add(time.Minute)}
		if audit {
			ev.Audit = &siemsync.Audit{Seq: 1, ID: id, Time: ts, Account: account, Connector: connector, ACL: acl,
				Method: method, User: user, IP: ip, Metadata: metadata, Event: text}
		} else {
			ev.Job = &siemsync.Job{Seq: 2, Job: id, Account: account, Connector: connector, StartTime: ts, EndTime: ts.Add(time.Hour),
				Description: text, Progress: &progress, Status: method, Type: acl, User: user}
		}
		got := s.Append(nil, ev)
		if len(got) == 0 || got[len(got)-1] != '\n' {
			t.Fatalf("not a line: %q", got)
		}
		want, err := reference(s, in, ev)
		if err != nil {
			t.Fatalf("reference: %v", err)
		}
		if g, w := decodeAny(t, got), decodeAny(t, want); !reflect.DeepEqual(g, w) {
			t.Fatalf("encoder and encoding/json disagree\n got %s\nwant %s", got, want)
		}
	})
}

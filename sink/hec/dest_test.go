package hec

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/sink"
)

const testChannel = "0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10"

func testJob() *siemsync.Event {
	p := 0.5
	return &siemsync.Event{
		Job: &siemsync.Job{Seq: 3, Job: "6a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90",
			Status: siemsync.JobInProgress, Progress: &p, Type: "backup"},
		Host: "eu-1.example.net", UploadTime: uploaded,
	}
}

// TestRawEndpoint: on …/services/collector/raw the body is one event
// object per line (no envelope), the metadata is in the query string, and
// every request carries the integration's channel.
func TestRawEndpoint(t *testing.T) {
	recv, srv := receiver(t, hecrecv.Options{})
	in := integration(srv.URL+"/services/collector/raw", func(in *siemsync.Integration) {
		in.Index, in.Sourcetype = "siem", "siemsync:json"
	})
	if in.Channel == "" {
		t.Fatal("ApplyDefaults gave the raw endpoint no channel")
	}
	s := sinkFor(t, in, Options{})
	body := batch(s, "r", 3)
	for line := range bytes.SplitSeq(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil || m["kind"] != "audit" || m["time"] == nil {
			t.Fatalf("raw line is not the event object: %s (%v)", line, err)
		}
		if _, env := m["sourcetype"]; env {
			t.Fatalf("raw line has an envelope: %s", line)
		}
	}
	if err := s.Send(t.Context(), body, 3); err != nil {
		t.Fatal(err)
	}
	jobs := s.Append(nil, testJob())
	if err := s.Send(t.Context(), jobs, 1); err != nil {
		t.Fatal(err)
	}
	evs := recv.Events()
	if len(evs) != 4 {
		t.Fatalf("receiver kept %d events, want 4", len(evs))
	}
	for i, e := range evs {
		wantSource := siemsync.DefaultAuditSource
		if i == 3 {
			wantSource = siemsync.DefaultJobSource
		}
		if e.Source != wantSource || e.Sourcetype != "siemsync:json" || e.Index != "siem" || e.Host != "eu-1.example.net" || e.Channel != in.Channel {
			t.Errorf("event %d: source %q sourcetype %q index %q host %q channel %q", i, e.Source, e.Sourcetype, e.Index, e.Host, e.Channel)
		}
	}
	if evs[0].ID != "r-0" {
		t.Errorf("first id %q", evs[0].ID)
	}
}

// TestExplicitChannel: a channel set on an event-endpoint integration goes
// on every request.
func TestExplicitChannel(t *testing.T) {
	recv, srv := receiver(t, hecrecv.Options{})
	in := integration(srv.URL, func(in *siemsync.Integration) { in.Channel = testChannel })
	s := sinkFor(t, in, Options{})
	if err := s.Send(t.Context(), batch(s, "c", 2), 2); err != nil {
		t.Fatal(err)
	}
	for _, e := range recv.Events() {
		if e.Channel != testChannel {
			t.Errorf("channel %q, want %q", e.Channel, testChannel)
		}
	}
}

// TestVerify: the idle-cycle check passes with a good token, on both
// endpoints, and fails as a Config error with a wrong one, without
// indexing anything.
func TestVerify(t *testing.T) {
	recv, srv := receiver(t, hecrecv.Options{})
	for _, path := range []string{"", "/services/collector/raw"} {
		if err := sinkFor(t, integration(srv.URL+path, nil), Options{}).Verify(t.Context()); err != nil {
			t.Errorf("Verify %q: %v", path, err)
		}
		bad := integration(srv.URL+path, func(in *siemsync.Integration) { in.Token = "wrong-token" })
		err := sinkFor(t, bad, Options{}).Verify(t.Context())
		if sink.ClassOf(err) != sink.Config || !strings.Contains(err.Error(), "token") {
			t.Errorf("Verify %q with a wrong token = %v, want a Config error about the token", path, err)
		}
	}
	if recv.Count() != 0 {
		t.Errorf("Verify indexed %d events", recv.Count())
	}
}

// TestHeartbeatEnvelope: a heartbeat has its own source whatever the
// integration's source override, and carries the cycle's figures.
func TestHeartbeatEnvelope(t *testing.T) {
	s := sinkFor(t, integration("https://splunk.example.com:8088", func(in *siemsync.Integration) { in.Source = "custom" }), Options{})
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	h := &siemsync.Heartbeat{ID: "hb", WindowStart: now.Add(-5 * time.Minute), WindowEnd: now, SentAudit: 4, SentJobs: 2, Filtered: 9, AuditSeq: 40, JobsSeq: 8, Worker: "w:1", Version: "v"}
	line := s.Append(nil, &siemsync.Event{Heartbeat: h, Host: "eu-1.example.net"})
	var env struct {
		Time   float64 `json:"time"`
		Source string  `json:"source"`
		Event  struct {
			Kind   string           `json:"kind"`
			Sent   map[string]int64 `json:"sent"`
			Filter int64            `json:"filtered"`
			CPs    map[string]int64 `json:"checkpoints"`
			Window map[string]string
		} `json:"event"`
	}
	if err := json.Unmarshal(line, &env); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if env.Source != siemsync.HeartbeatSource || env.Event.Kind != "heartbeat" || env.Event.Sent["audit"] != 4 || env.Event.Sent["jobs"] != 2 ||
		env.Event.Filter != 9 || env.Event.CPs["audit"] != 40 || env.Event.Window["start"] != "2026-12-03T09:55:00.000Z" || env.Time != float64(now.Unix()) {
		t.Errorf("heartbeat envelope %s", line)
	}
}

// TestCheckRawEndpoint: Test connection on the raw endpoint passes every
// step, sends its test event as a raw line on the integration's channel.
func TestCheckRawEndpoint(t *testing.T) {
	recv, srv := receiver(t, hecrecv.Options{})
	in := integration(srv.URL+"/services/collector/raw", nil)
	steps := Check(t.Context(), in, Options{AllowPrivate: true, Hostname: "eu-1.example.net"}, true)
	for _, s := range steps {
		if !s.OK {
			t.Fatalf("step %s failed: %s", s.Name, s.Message)
		}
	}
	if last := steps[len(steps)-1]; last.Name != "send" || !strings.Contains(steps[0].Message, "raw endpoint") || !strings.Contains(steps[0].Message, in.Channel) {
		t.Errorf("steps %+v", steps)
	}
	evs := recv.Events()
	if len(evs) != 1 || evs[0].Channel != in.Channel || evs[0].Host != "eu-1.example.net" || evs[0].Source != siemsync.DefaultAuditSource {
		t.Fatalf("received %+v", evs)
	}
	var line string
	var ev map[string]any
	if json.Unmarshal(evs[0].Event, &line) != nil || json.Unmarshal([]byte(line), &ev) != nil || ev["kind"] != "test" {
		t.Errorf("test event as received: %s", evs[0].Event)
	}
}

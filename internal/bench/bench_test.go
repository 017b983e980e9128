package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/siemsync/siemsync"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

// The tests run small benches for what they report and check; they never
// look at timings.

func TestDrain(t *testing.T) {
	var progress bytes.Buffer
	res, err := Run(t.Context(), Config{
		Drain: 3000, PageSize: 400, MaxBatchBytes: 256 << 10, IngestChunk: 1000,
		Dir: t.TempDir(), Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Sync.Events != 3000 || res.ReceiverCount != 3000 || res.Ingest.Records != 3000 {
		t.Fatalf("result %+v", res)
	}
	if res.Ingest.Transactions != 3 {
		t.Errorf("%d ingest transactions, want 3", res.Ingest.Transactions)
	}
	if res.Sync.Batches < 5 || res.Sync.MaxBatchBytes > 256<<10 || res.Sync.WireBytes <= 0 || res.Sync.WireBytes >= res.Sync.RawBytes {
		t.Errorf("batches %d (largest %d), raw %d, wire %d", res.Sync.Batches, res.Sync.MaxBatchBytes, res.Sync.RawBytes, res.Sync.WireBytes)
	}
	// One connection per request in flight (default 4), plus at most one
	// that a racing dial left over.
	if res.Sync.Requests != res.Sync.Batches || res.Sync.Connections < 1 || res.Sync.Connections > siemsync.DefaultMaxInFlight+1 {
		t.Errorf("%d requests for %d batches over %d connections", res.Sync.Requests, res.Sync.Batches, res.Sync.Connections)
	}
	if res.Sync.LatencyP50 <= 0 || res.Sync.LatencyP99 < res.Sync.LatencyP50 {
		t.Errorf("latency p50 %v p99 %v", res.Sync.LatencyP50, res.Sync.LatencyP99)
	}
	if res.Machine.CPUs < 1 || res.Machine.GoVersion == "" {
		t.Errorf("machine %+v", res.Machine)
	}
	// Not a terminal: plain lines, one per phase at least, no redraws.
	if out := progress.String(); strings.Contains(out, "\r") || !strings.Contains(out, "ingest") || !strings.Contains(out, "sync") {
		t.Errorf("progress output:\n%s", out)
	}

	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"drain 3,000 records", "INGEST", "SYNC", "request p50 / p99", "peak RSS", "check  ok: 3,000 records ingested, 3,000 accepted, 3,000 counted by the receiver"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Sync.Events != 3000 || back.Mode != "drain" || !back.Verified {
		t.Fatalf("JSON %s: %v", js.String(), err)
	}
	dec := json.NewDecoder(&js)
	var one map[string]any
	if err := dec.Decode(&one); err != nil || dec.More() {
		t.Fatalf("not one JSON object: %v", err)
	}
}

func TestIntegrations(t *testing.T) {
	res, err := Run(t.Context(), Config{
		Integrations: 12, PerIntegration: 7, Concurrency: 4, HECLatency: 5 * time.Millisecond, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Mode != "integrations" || res.Records != 84 || res.Sync.Events != 84 || res.ReceiverCount != 84 {
		t.Fatalf("result %+v", res)
	}
	if res.Sync.Cycles != 12 || res.Sync.FailedCycles != 0 || res.Sync.Batches != 12 || res.Sync.IntegrationsPerSec <= 0 {
		t.Fatalf("sync %+v", res.Sync)
	}
	// The simulated round trip is part of every request.
	if res.Sync.LatencyP50 < 0.005 {
		t.Errorf("p50 %v below the simulated latency", res.Sync.LatencyP50)
	}
	var table bytes.Buffer
	WriteTable(&table, res)
	for _, want := range []string{"12 integrations × 7 new records", "cycle wall time", "integrations/s", "concurrency  4"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// TestExternalHEC sends to a HEC given by URL, here the receiver in its
// keeping mode, which checks every envelope as Splunk would.
func TestExternalHEC(t *testing.T) {
	const token = "0d5c7d1e-7a3b-4f0e-9a51-2c9f1b6e8d44"
	recv := hecrecv.New(hecrecv.Options{Tokens: []string{token}})
	srv := httptest.NewServer(recv)
	defer srv.Close()
	res, err := Run(t.Context(), Config{Drain: 500, HECURL: srv.URL, Token: token, AllowPrivate: true, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.ReceiverCount != -1 || res.Sync.Connections != -1 || recv.Count() != 500 || len(recv.IDs()) != 500 {
		t.Fatalf("result %+v, received %d (%d ids)", res, recv.Count(), len(recv.IDs()))
	}
	var table bytes.Buffer
	WriteTable(&table, res)
	if !strings.Contains(table.String(), "500 accepted by the HEC") {
		t.Errorf("table:\n%s", table.String())
	}
}

// TestFailureIsLoud: a destination that refuses the batches fails the run
// and the result says it was not verified.
func TestFailureIsLoud(t *testing.T) {
	recv := hecrecv.New(hecrecv.Options{Tokens: []string{"right"}})
	srv := httptest.NewServer(recv)
	defer srv.Close()
	res, err := Run(t.Context(), Config{Drain: 100, HECURL: srv.URL, Token: "wrong", AllowPrivate: true, Dir: t.TempDir()})
	if err == nil || res == nil || res.Verified {
		t.Fatalf("err %v, result %+v", err, res)
	}
	var table bytes.Buffer
	WriteTable(&table, res)
	if !strings.Contains(table.String(), "check  FAILED") {
		t.Errorf("table:\n%s", table.String())
	}
}

// TestAuditStream: the generated NDJSON is realistic and every id is new.
func TestAuditStream(t *testing.T) {
	s := newAuditStream(9, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	accounts := []string{"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90", "b1c2d3e4-0000-4000-8000-00000000000b"}
	if err := s.write(context.Background(), &buf, accounts, 1000, 0, 2000); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	perAccount := map[string]int{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 300 || len(line) > 700 {
			t.Errorf("record of %d bytes", len(line))
		}
		var r struct {
			ID, Time, Account, Event string
			Metadata                 map[string]any
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if _, err := time.Parse(time.RFC3339, r.Time); err != nil || r.Event == "" || len(r.Metadata) == 0 || len(r.ID) != 36 {
			t.Fatalf("record %s", line)
		}
		if ids[r.ID] {
			t.Fatalf("id %s twice", r.ID)
		}
		ids[r.ID] = true
		perAccount[r.Account]++
	}
	if len(ids) != 2000 || perAccount[accounts[0]] != 1000 || perAccount[accounts[1]] != 1000 {
		t.Fatalf("%d records, per account %v", len(ids), perAccount)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	if p := percentile(ds, 50); p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(ds, 99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(ds, 100); p != 100 {
		t.Errorf("max = %v", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("empty = %v", p)
	}
	if group(1234567) != "1,234,567" || group(12) != "12" || group(-1000) != "-1,000" {
		t.Error(group(1234567), group(12), group(-1000))
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 TCP connections"},
		{1, "1 TCP connection"},
		{2, "2 TCP connections"},
		{10000, "10,000 TCP connections"},
		{-1, "? TCP connections"},
	}
	for _, tt := range tests {
		if got := conns(tt.n); got != tt.want {
			t.Errorf("conns(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := plural(1, "transaction"); got != "1 transaction" {
		t.Errorf("plural(1) = %q", got)
	}
}

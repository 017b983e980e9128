package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

var receiverURLRE = regexp.MustCompile(`HEC receiver on (http://[0-9.:]+)/`)

// TestBenchAgainstReceiverProcess: the bench can send to the HEC receiver
// running in its own process (--count, --delay), so that the bench's CPU
// figures are siemsync's alone; the receiver counts every event and
// answers each request no sooner than its delay.
func TestBenchAgainstReceiverProcess(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	recv := in.start(nil, nil, "hec-receiver", "--listen", "127.0.0.1:0", "--token", hecToken, "--count", "--delay", "100ms")
	url := recv.listening(t, receiverURLRE)
	out, errOut, code := in.run([]string{"SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS=true"}, "",
		"bench", "--hec", url, "--token", hecToken, "--integrations", "3", "--per-integration", "4", "--json", "--quiet")
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errOut)
	}
	var res struct {
		Verified bool `json:"verified"`
		Sync     struct {
			Events     int64   `json:"events"`
			Cycles     int     `json:"cycles"`
			LatencyP50 float64 `json:"request_latency_p50_seconds"`
		} `json:"sync"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	if !res.Verified || res.Sync.Events != 12 || res.Sync.Cycles != 3 || res.Sync.LatencyP50 < 0.1 {
		t.Errorf("bench = %+v, want 12 events in 3 cycles, verified, requests answered after ≥ 100 ms", res)
	}
	recv.kill(t, syscall.SIGTERM)
	if got := recv.stdout.String(); !strings.Contains(got, "12 events received") {
		t.Errorf("receiver printed %q, want 12 events received", got)
	}
}

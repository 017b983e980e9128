package otelhec

// The siemsync binary, built from this repository, sends audit records to
// the OpenTelemetry Collector's splunkhecreceiver (contrib v0.147.0), which
// runs in this process over HTTPS and hands what it parsed to a
// consumertest.LogsSink; with its ack extension, every ackId it hands out
// and every ack query go through a recorder. The test checks what the
// receiver made of each destination form: one log record per audit record,
// the event object as siemsync wrote it, and the metadata (host, source,
// sourcetype, index) as resource attributes; in ack mode, that the cycle's
// ackIds came back acknowledged on the integration's channel.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/ackextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/splunkhecreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/siemsync/siemsync/internal/rsyslogtest"
	"github.com/siemsync/siemsync/internal/testbin"
	"github.com/siemsync/siemsync/internal/testpki"
)

// binary is the siemsync built for these tests from the repository's root.
var binary string

func TestMain(m *testing.M) {
	var dir string
	var err error
	if binary, dir, err = testbin.Build(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	account  = "6c1f0e2a-4b3d-4e5f-8a9b-0c1d2e3f4a5b"
	hecToken = "3e8a1f5c-7b2d-4c9e-a0f1-6d5b4c3a2e19"
	hostName = "otelhec-test.example" // SIEMSYNC_HOST_NAME: the host of the account
	chanRaw  = "2d7e9c4b-1a3f-4e6d-8b5c-9f0a1e2d3c4b"
	chanAck  = "8a4c2e6f-0b1d-4f3a-9c5e-7d6b8a0f2e1c"
	nRecords = 7
)

// TestSplunkHECReceiverParses: for each way of giving the destination, one
// cycle delivers every audit record once, as the receiver parses it, and
// Test connection passes.
func TestSplunkHECReceiverParses(t *testing.T) {
	type form struct {
		name       string
		path       string   // after the receiver's https://127.0.0.1:PORT
		flags      []string // more flags of integrations add
		raw        bool     // the raw endpoint
		ackExt     bool     // the receiver has the ack extension
		ack        bool     // the integration waits for acks (--ack)
		channel    string   // "" with raw or ack: the one siemsync generated
		sourcetype string
		index      string
		maxEvents  int // --max-batch-events, 0 for the default
	}
	forms := []form{
		{name: "raw endpoint, channel, index", path: "/services/collector/raw", raw: true, ackExt: true,
			flags: []string{"--channel", chanRaw, "--index", "siemsync_audit"}, channel: chanRaw,
			sourcetype: "_json", index: "siemsync_audit", maxEvents: 3},
		{name: "raw endpoint, ack, generated channel", path: "/services/collector/raw", raw: true, ackExt: true, ack: true,
			flags: []string{"--ack", "--sourcetype", "siemsync:json"}, sourcetype: "siemsync:json", maxEvents: 3},
		{name: "bare URL, no gzip", path: "", flags: []string{"--gzip=false"}, sourcetype: "_json"},
		{name: "event endpoint, ack, channel", path: "/services/collector/event", ackExt: true, ack: true,
			flags: []string{"--ack", "--channel", chanAck, "--index", "main"}, channel: chanAck,
			sourcetype: "_json", index: "main", maxEvents: 3},
	}
	ca := testpki.NewCA(t, "otelhec test CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(ca.PEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			recv := startReceiver(t, ca, f.ackExt)
			in := &install{t: t, db: filepath.Join(t.TempDir(), "siemsync.db")}
			ids, times := auditRecords(nRecords)
			in.ok(recordLines(ids, times), "ingest", "audit", "-")

			args := []string{"integrations", "add", "--account", account, "--create-account", "--name", "otel",
				"--kind", "splunk_hec", "--url", recv.url + f.path, "--token", hecToken, "--ca-file", caFile,
				"--sources", "audit", "--backfill-since", "2000-01-01T00:00:00Z"}
			if f.maxEvents > 0 {
				args = append(args, "--max-batch-events", fmt.Sprint(f.maxEvents))
			}
			id := strings.TrimSpace(in.ok("", append(args, f.flags...)...))
			channel := f.channel
			if channel == "" && (f.raw || f.ack) {
				var s struct {
					Channel string `json:"channel"`
				}
				out := in.ok("", "integrations", "show", id, "--json")
				if err := json.Unmarshal([]byte(out), &s); err != nil || s.Channel == "" {
					t.Fatalf("integrations show --json: no channel (%v)\n%s", err, out)
				}
				channel = s.Channel
			}

			testConnection(t, in, id, f.ack)
			syncOnce(t, in, nRecords)

			attrs := map[string]any{
				"host.name":             hostName,
				"com.splunk.source":     "siemsync:audit",
				"com.splunk.sourcetype": f.sourcetype,
			}
			if f.index != "" {
				attrs["com.splunk.index"] = f.index
			}
			checkParsed(t, recv.logs, f.raw, attrs, ids, times)
			if recv.acks != nil {
				minRequests := 1
				if f.maxEvents > 0 {
					minRequests = (nRecords + f.maxEvents - 1) / f.maxEvents
				}
				recv.acks.check(t, channel, f.ack, minRequests)
			}
		})
	}
}

// auditRecords returns n audit record ids and their times: an hour ago (no
// retention prunes them), a second apart, in whole seconds (the event
// endpoint's epoch time converts to the same instant exactly).
func auditRecords(n int) ([]string, map[string]time.Time) {
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	ids := make([]string, n)
	times := make(map[string]time.Time, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("otel-%05d", i)
		times[ids[i]] = base.Add(time.Duration(i) * time.Second)
	}
	return ids, times
}

// recordLines is the NDJSON that `siemsync ingest audit` reads.
func recordLines(ids []string, times map[string]time.Time) string {
	var b strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&b, `{"id":%q,"time":%q,"account":%q,"user":"alice@example.com","ip":"203.0.113.7","method":"POST","acl":"audit.read","metadata":{"n":%d},"event":"Signed in"}`+"\n",
			id, times[id].Format(time.RFC3339), account, i)
	}
	return b.String()
}

// testConnection runs Test connection and requires every step to pass,
// the token step on the receiver's "No data" answer to an empty request.
func testConnection(t *testing.T, in *install, id string, ack bool) {
	t.Helper()
	out := in.ok("", "integrations", "test", id, "--json")
	var res struct {
		OK    bool `json:"ok"`
		Steps []struct {
			Name    string `json:"name"`
			OK      bool   `json:"ok"`
			Message string `json:"message"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.OK {
		t.Fatalf("Test connection did not pass (%v):\n%s", err, out)
	}
	msgs := map[string]string{}
	for _, s := range res.Steps {
		msgs[s.Name] = s.Message
	}
	for _, name := range []string{"url", "dns", "tcp", "tls", "health", "token"} {
		if _, ok := msgs[name]; !ok {
			t.Errorf("Test connection has no %s step:\n%s", name, out)
		}
	}
	if !strings.Contains(msgs["token"], "code 5 No data") {
		t.Errorf("token step: %q, want the receiver's code 5 (No data)", msgs["token"])
	}
	if ack && !strings.Contains(msgs["token"], "indexer acknowledgement is enabled") {
		t.Errorf("token step in ack mode: %q, want the ack query to pass", msgs["token"])
	}
}

// syncOnce runs one `sync --once --json` and requires it to deliver n
// audit records.
func syncOnce(t *testing.T, in *install, n int64) {
	t.Helper()
	stdout, stderr, code := in.run("", "sync", "--once", "--json")
	var rows []struct {
		OK    bool   `json:"ok"`
		Audit int64  `json:"audit_events"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("sync --once --json: exit %d, summary %q (%v)\nstderr: %s", code, stdout, err, stderr)
	}
	if r := rows[0]; code != 0 || !r.OK || r.Audit != n {
		t.Fatalf("sync --once: exit %d, %+v, want ok with %d audit events\nstderr: %s", code, r, n, stderr)
	}
}

// checkParsed checks the receiver's log records: one per id, none else;
// each body the event object siemsync wrote (on the raw endpoint the line
// as text, on the event endpoint the envelope's event as a map); and each
// record's resource attributes exactly attrs.
func checkParsed(t *testing.T, sink *consumertest.LogsSink, raw bool, attrs map[string]any, ids []string, times map[string]time.Time) {
	t.Helper()
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
	}
	seen := map[string]int{}
	total := 0
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			if got := rl.Resource().Attributes().AsRaw(); !maps.Equal(got, attrs) {
				t.Errorf("resource attributes %v, want %v", got, attrs)
			}
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					total++
					ev, err := recordBody(lr.Body(), raw)
					if err != nil {
						t.Errorf("log record body: %v", err)
						continue
					}
					id, _ := ev["id"].(string)
					i, known := index[id]
					if !known {
						t.Errorf("a log record with an id not sent (%q): %v", id, ev)
						continue
					}
					seen[id]++
					want := map[string]any{
						"kind": "audit", "id": id, "time": times[id].Format("2006-01-02T15:04:05.000Z"),
						"host": hostName, "account": account, "connector": nil, "acl": "audit.read",
						"method": "POST", "user": "alice@example.com", "ip": "203.0.113.7",
						"metadata": map[string]any{"n": float64(i)}, "event": "Signed in",
					}
					delete(ev, "upload_time") // when the record was ingested
					if !reflect.DeepEqual(ev, want) {
						t.Errorf("event %s as parsed:\n  %v\nwant\n  %v", id, ev, want)
					}
					// On the event endpoint the envelope's time is the
					// record's timestamp; the raw endpoint's query has none
					// (Splunk reads the event's time field).
					if !raw && !lr.Timestamp().AsTime().Equal(times[id]) {
						t.Errorf("event %s: timestamp %s, want %s", id, lr.Timestamp().AsTime(), times[id])
					}
				}
			}
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("id %s parsed %d times, want once", id, seen[id])
		}
	}
	if total != len(ids) {
		t.Errorf("%d log records, want %d", total, len(ids))
	}
}

// recordBody returns a log record's body as the event object: on the raw
// endpoint a string holding one JSON object (the line siemsync sent), on
// the event endpoint the map the receiver made of the envelope's event.
func recordBody(body pcommon.Value, raw bool) (map[string]any, error) {
	if !raw {
		if body.Type() != pcommon.ValueTypeMap {
			return nil, fmt.Errorf("%s body %q, want the event object as a map", body.Type(), body.AsString())
		}
		return body.Map().AsRaw(), nil
	}
	if body.Type() != pcommon.ValueTypeStr {
		return nil, fmt.Errorf("%s body %q, want the raw line as a string", body.Type(), body.AsString())
	}
	var ev map[string]any
	dec := json.NewDecoder(strings.NewReader(body.Str()))
	if err := dec.Decode(&ev); err != nil || dec.More() {
		return nil, fmt.Errorf("raw line %q is not one JSON object (%v)", body.Str(), err)
	}
	return ev, nil
}

// hecReceiver is a running splunkhecreceiver.
type hecReceiver struct {
	url  string // https://127.0.0.1:PORT
	logs *consumertest.LogsSink
	acks *ackRecorder // nil without the ack extension
}

// startReceiver starts the receiver on a free loopback port with a server
// certificate for 127.0.0.1 from ca, and, if withAck, the ack extension.
func startReceiver(t *testing.T, ca *testpki.CA, withAck bool) *hecReceiver {
	t.Helper()
	_, certPEM, keyPEM := ca.Issue(t, testpki.Leaf{CN: "127.0.0.1", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	// The port is found free, then bound by the receiver: another process
	// may take it in between, so a failed start tries another.
	var err error
	for range 5 {
		r := &hecReceiver{logs: new(consumertest.LogsSink)}
		if err = r.start(t, certPEM, keyPEM, withAck); err == nil {
			return r
		}
	}
	t.Fatalf("start splunkhecreceiver: %v", err)
	return nil
}

// registry serializes creating and shutting down receivers: the factory
// keeps its receivers in a map without a lock of its own (a collector
// builds its pipelines one component at a time).
var registry sync.Mutex

func (r *hecReceiver) start(t *testing.T, certPEM, keyPEM string, withAck bool) error {
	ctx := context.Background()
	f := splunkhecreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*splunkhecreceiver.Config)
	tlsCfg := configtls.NewDefaultServerConfig()
	tlsCfg.CertPem = configopaque.String(certPEM)
	tlsCfg.KeyPem = configopaque.String(keyPEM)
	cfg.TLS = configoptional.Some(tlsCfg)
	cfg.NetAddr.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(rsyslogtest.FreePort(t)))
	host := extensionHost{}
	if withAck {
		af := ackextension.NewFactory()
		ext, err := af.Create(ctx, extensiontest.NewNopSettings(af.Type()), af.CreateDefaultConfig())
		if err != nil {
			t.Fatalf("create ack extension: %v", err)
		}
		if err := ext.Start(ctx, host); err != nil {
			t.Fatalf("start ack extension: %v", err)
		}
		t.Cleanup(func() { ext.Shutdown(ctx) }) //nolint:errcheck // in memory
		r.acks = &ackRecorder{Extension: ext, acks: ext.(ackextension.AckExtension),
			issued: map[string][]uint64{}, acked: map[string][]uint64{}}
		id := component.NewID(af.Type())
		host[id] = r.acks
		cfg.Ack.Extension = &id
	}
	registry.Lock()
	rcv, err := f.CreateLogs(ctx, receivertest.NewNopSettings(f.Type()), cfg, r.logs)
	registry.Unlock()
	if err != nil {
		t.Fatalf("create splunkhecreceiver: %v", err)
	}
	shutdown := func() error {
		registry.Lock()
		defer registry.Unlock()
		return rcv.Shutdown(context.Background())
	}
	if err := rcv.Start(ctx, host); err != nil {
		shutdown() //nolint:errcheck // it did not start
		return err
	}
	t.Cleanup(func() {
		if err := shutdown(); err != nil {
			t.Errorf("shut down splunkhecreceiver: %v", err)
		}
	})
	r.url = "https://" + cfg.NetAddr.Endpoint
	return nil
}

// extensionHost is the component.Host of the receiver: its extensions.
type extensionHost map[component.ID]component.Component

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h }

// ackRecorder is the ack extension the receiver gets: the real in-memory
// one, recording the ackIds it hands out and those a query answers true,
// by channel (the receiver's partition: the channel in upper case).
type ackRecorder struct {
	extension.Extension
	acks ackextension.AckExtension

	mu     sync.Mutex
	issued map[string][]uint64
	acked  map[string][]uint64
}

func (a *ackRecorder) ProcessEvent(channel string) uint64 {
	id := a.acks.ProcessEvent(channel)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.issued[channel] = append(a.issued[channel], id)
	return id
}

func (a *ackRecorder) Ack(channel string, id uint64) { a.acks.Ack(channel, id) }

func (a *ackRecorder) QueryAcks(channel string, ids []uint64) map[uint64]bool {
	res := a.acks.QueryAcks(channel, ids)
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, ok := range res {
		if ok {
			a.acked[channel] = append(a.acked[channel], id)
		}
	}
	return res
}

// check requires every ackId to have been handed out on channel (the
// receiver hands one out per request that names a channel), at least
// minRequests of them; with ack on, every one acknowledged by a query,
// and with ack off, none queried.
func (a *ackRecorder) check(t *testing.T, channel string, ack bool, minRequests int) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	var want []string
	if channel != "" {
		want = []string{strings.ToUpper(channel)}
	}
	if got := slices.Sorted(maps.Keys(a.issued)); !slices.Equal(got, want) {
		t.Fatalf("ackIds handed out on channels %q, want %q", got, want)
	}
	if channel == "" {
		return
	}
	ch := strings.ToUpper(channel)
	issued, acked := slices.Sorted(slices.Values(a.issued[ch])), slices.Sorted(slices.Values(a.acked[ch]))
	if len(issued) < minRequests {
		t.Errorf("%d ackIds handed out, want one per request, at least %d", len(issued), minRequests)
	}
	switch {
	case ack && (!slices.Equal(acked, issued) || len(a.acked) != 1):
		t.Errorf("ackIds acknowledged %v (on %d channels), want every one handed out on %s: %v", acked, len(a.acked), ch, issued)
	case !ack && len(a.acked) > 0:
		t.Errorf("ack is off, but ackIds were queried and acknowledged: %v", a.acked)
	}
}

// install is one siemsync installation: a SQLite store in a directory of
// the test's.
type install struct {
	t  *testing.T
	db string
}

// run runs siemsync and returns its stdout, stderr and exit code.
func (in *install) run(stdin string, args ...string) (string, string, int) {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(in.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SIEMSYNC_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env,
		"SIEMSYNC_DB="+in.db,
		"SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS=true",
		"SIEMSYNC_AUDIT_TRAIL=false", // only the records ingested reach the receiver
		"SIEMSYNC_RETENTION=0",
		"SIEMSYNC_HOST_NAME="+hostName,
		"SIEMSYNC_LOG_LEVEL=warn",
	)
	stdout, stderr, code := testbin.Run(in.t, cmd, stdin)
	if strings.Contains(stdout+stderr, hecToken) {
		in.t.Errorf("siemsync %v printed the HEC token", args)
	}
	return stdout, stderr, code
}

// ok runs siemsync and fails the test unless it exits 0.
func (in *install) ok(stdin string, args ...string) string {
	in.t.Helper()
	stdout, stderr, code := in.run(stdin, args...)
	return testbin.Succeeded(in.t, args, stdout, stderr, code)
}

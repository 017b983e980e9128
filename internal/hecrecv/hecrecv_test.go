package hecrecv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

const (
	goodToken = "11111111-2222-3333-4444-555555555555"
	channelID = "0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10"
)

type req struct {
	method  string
	path    string
	auth    string // full Authorization header; "-" for none
	channel string
	enc     string
	body    string
	gzip    bool
}

func (r req) do(t *testing.T, base string) (int, string, http.Header) {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	path := r.path
	if path == "" {
		path = "/services/collector/event"
	}
	body := []byte(r.body)
	if r.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		if r.enc == "" {
			r.enc = "gzip"
		}
	}
	hr, err := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch r.auth {
	case "":
		hr.Header.Set("Authorization", "Splunk "+goodToken)
	case "-":
	default:
		hr.Header.Set("Authorization", r.auth)
	}
	if r.channel != "" {
		hr.Header.Set("X-Splunk-Request-Channel", r.channel)
	}
	if r.enc != "" {
		hr.Header.Set("Content-Encoding", r.enc)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func ev(id string) string {
	return fmt.Sprintf(`{"time":1763719200.123,"host":"h","source":"s","sourcetype":"_json","event":{"kind":"audit","id":%q}}`, id)
}

func newServer(t *testing.T, o Options) (*Receiver, string) {
	t.Helper()
	r := New(o)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func TestProtocol(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		req    req
		status int
		body   string
		count  int
	}{
		{"one event", Options{}, req{body: ev("a")}, 200, `{"text":"Success","code":0}`, 1},
		{"concatenated", Options{}, req{body: ev("a") + ev("b") + "\n" + ev("c") + "\n"}, 200, `{"text":"Success","code":0}`, 3},
		{"collector path", Options{}, req{path: "/services/collector", body: ev("a")}, 200, `{"text":"Success","code":0}`, 1},
		{"1.0 path", Options{}, req{path: "/services/collector/event/1.0", body: ev("a")}, 200, `{"text":"Success","code":0}`, 1},
		{"gzip", Options{}, req{body: ev("a") + ev("b"), gzip: true}, 200, `{"text":"Success","code":0}`, 2},
		{"event string", Options{}, req{body: `{"event":"hello"}`}, 200, `{"text":"Success","code":0}`, 1},
		{"time as string", Options{}, req{body: `{"time":"1763719200.5","event":"x"}`}, 200, `{"text":"Success","code":0}`, 1},
		{"basic auth", Options{Tokens: []string{goodToken}}, req{auth: "Basic eDoxMTExMTExMS0yMjIyLTMzMzMtNDQ0NC01NTU1NTU1NTU1NTU=", body: ev("a")}, 200, `{"text":"Success","code":0}`, 1},
		{"channel without ack", Options{}, req{channel: channelID, body: ev("a")}, 200, `{"text":"Success","code":0}`, 1},

		{"no token", Options{}, req{auth: "-", body: ev("a")}, 401, `{"text":"Token is required","code":2}`, 0},
		{"no Splunk prefix", Options{}, req{auth: goodToken, body: ev("a")}, 401, `{"text":"Invalid authorization","code":3}`, 0},
		{"empty token", Options{}, req{auth: "Splunk ", body: ev("a")}, 401, `{"text":"Invalid authorization","code":3}`, 0},
		{"bad token", Options{Tokens: []string{"other"}}, req{body: ev("a")}, 403, `{"text":"Invalid token","code":4}`, 0},
		{"disabled token", Options{DisabledTokens: []string{goodToken}}, req{body: ev("a")}, 403, `{"text":"Token disabled","code":1}`, 0},
		{"query token", Options{}, req{path: "/services/collector/event?token=x", body: ev("a")}, 400, `{"text":"Query string authorization is not enabled","code":16}`, 0},
		{"empty body", Options{}, req{body: ""}, 400, `{"text":"No data","code":5}`, 0},
		{"blank body", Options{}, req{body: " \n"}, 400, `{"text":"No data","code":5}`, 0},
		{"empty gzip", Options{}, req{body: "", gzip: true}, 400, `{"text":"No data","code":5}`, 0},
		{"array", Options{}, req{body: "[" + ev("a") + "]"}, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`, 0},
		{"garbage second", Options{}, req{body: ev("a") + "nope"}, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":1}`, 0},
		{"comma separated", Options{}, req{body: ev("a") + "," + ev("b")}, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":1}`, 0},
		{"host not string", Options{}, req{body: `{"host":1,"event":"x"}`}, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`, 0},
		{"missing event", Options{}, req{body: ev("a") + `{"time":1}`}, 400, `{"text":"Event field is required","code":12,"invalid-event-number":1}`, 0},
		{"blank event", Options{}, req{body: ev("a") + ev("b") + `{"event":""}`}, 400, `{"text":"Event field cannot be blank","code":13,"invalid-event-number":2}`, 0},
		{"null event", Options{}, req{body: `{"event":null}`}, 400, `{"text":"Event field cannot be blank","code":13,"invalid-event-number":0}`, 0},
		{"exponent time", Options{}, req{body: `{"time":1.7637192e9,"event":"x"}`}, 400, `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":0}`, 0},
		{"nested fields", Options{}, req{body: `{"event":"x","fields":{"a":{"b":1}}}`}, 400, `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":0}`, 0},
		{"flat fields", Options{}, req{body: `{"event":"x","fields":{"a":"b","c":["d"]}}`}, 200, `{"text":"Success","code":0}`, 1},
		{"index allowed", Options{Indexes: []string{"main"}}, req{body: `{"index":"main","event":"x"}`}, 200, `{"text":"Success","code":0}`, 1},
		{"index refused", Options{Indexes: []string{"main"}}, req{body: `{"event":"x"}{"index":"secret","event":"x"}`}, 400, `{"text":"Incorrect index","code":7,"invalid-event-number":1}`, 0},
		{"bad encoding", Options{}, req{enc: "br", body: ev("a")}, 415, `{"text":"Unsupported content encoding br","code":415}`, 0},
		{"bad gzip", Options{}, req{enc: "gzip", body: "not gzip"}, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`, 0},
		{"too large", Options{MaxContentLength: 10}, req{body: ev("a")}, 413, `{"text":"Content-Length of 11 too large (maximum is 10)","code":413}`, 0},
		{"ack: channel missing", Options{Ack: true}, req{body: ev("a")}, 400, `{"text":"Data channel is missing","code":10}`, 0},
		{"raw: channel missing", Options{}, req{path: "/services/collector/raw", body: "{\"id\":\"a\"}\n"}, 400, `{"text":"Data channel is missing","code":10}`, 0},
		{"raw: channel header", Options{}, req{path: "/services/collector/raw", channel: channelID, body: "{\"id\":\"a\"}\n"}, 200, `{"text":"Success","code":0}`, 1},
		{"raw: empty with channel", Options{}, req{path: "/services/collector/raw", channel: channelID}, 400, `{"text":"No data","code":5}`, 0},
		{"ack: channel invalid", Options{Ack: true}, req{channel: "not-a-guid", body: ev("a")}, 400, `{"text":"Invalid data channel","code":11}`, 0},
		{"ack: first id", Options{Ack: true}, req{channel: channelID, body: ev("a")}, 200, `{"text":"Success","code":0,"ackId":0}`, 1},
		{"ack: channel query", Options{Ack: true}, req{path: "/services/collector/event?channel=" + channelID, body: ev("a")}, 200, `{"text":"Success","code":0,"ackId":0}`, 1},
		{"ack disabled", Options{}, req{path: "/services/collector/ack", channel: channelID, body: `{"acks":[0]}`}, 400, `{"text":"ACK is disabled","code":14}`, 0},
		{"ack: ack without channel", Options{Ack: true}, req{path: "/services/collector/ack", body: `{"acks":[0]}`}, 400, `{"text":"Data channel is missing","code":10}`, 0},
		{"ack: ack bad token", Options{Ack: true, Tokens: []string{"x"}}, req{path: "/services/collector/ack", channel: channelID, body: `{"acks":[0]}`}, 403, `{"text":"Invalid token","code":4}`, 0},
		{"ack: unknown id", Options{Ack: true}, req{path: "/services/collector/ack", channel: channelID, body: `{"acks":[7]}`}, 200, `{"acks":{"7":false}}`, 0},

		{"health", Options{}, req{method: "GET", path: "/services/collector/health", auth: "-"}, 200, `{"text":"HEC is healthy","code":17}`, 0},
		{"health 1.0", Options{}, req{method: "GET", path: "/services/collector/health/1.0", auth: "-"}, 200, `{"text":"HEC is healthy","code":17}`, 0},
		{"health bad token", Options{Tokens: []string{"x"}}, req{method: "GET", path: "/services/collector/health"}, 400, `{"text":"Invalid token","code":21}`, 0},
		{"health disabled token", Options{DisabledTokens: []string{goodToken}}, req{method: "GET", path: "/services/collector/health"}, 400, `{"text":"Token disabled","code":22}`, 0},
		{"unknown path", Options{}, req{path: "/nope", body: ev("a")}, 404, `{"text":"The requested URL was not found on this server.","code":404}`, 0},
		{"GET event", Options{}, req{method: "GET", body: ""}, 405, `{"text":"Method not allowed","code":405}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, base := newServer(t, tt.opts)
			status, body, _ := tt.req.do(t, base)
			if status != tt.status || body != tt.body {
				t.Errorf("got %d %s\nwant %d %s", status, body, tt.status, tt.body)
			}
			if r.Count() != tt.count {
				t.Errorf("count = %d, want %d", r.Count(), tt.count)
			}
		})
	}
}

func TestEventsAndIDs(t *testing.T) {
	r, base := newServer(t, Options{})
	req{body: ev("a") + ev("b"), channel: channelID}.do(t, base)
	req{body: ev("a"), gzip: true}.do(t, base)
	req{body: `{"event":"plain"}{"event":{"id":5}}`}.do(t, base)

	if r.Count() != 5 {
		t.Fatalf("count = %d", r.Count())
	}
	ids := r.IDs()
	if ids["a"] != 2 || ids["b"] != 1 || len(ids) != 2 {
		t.Fatalf("ids = %v", ids)
	}
	evs := r.Events()
	e := evs[0]
	if e.ID != "a" || e.Host != "h" || e.Source != "s" || e.Sourcetype != "_json" || e.Time != 1763719200.123 || e.Channel != channelID {
		t.Fatalf("envelope = %+v", e)
	}
	if string(e.Event) != `{"kind":"audit","id":"a"}` || !json.Valid(e.Raw) {
		t.Fatalf("event = %s raw = %s", e.Event, e.Raw)
	}
	if r.Requests() != 3 || r.Bytes() == 0 {
		t.Fatalf("requests = %d bytes = %d", r.Requests(), r.Bytes())
	}
	r.Reset()
	if r.Count() != 0 || len(r.IDs()) != 0 || len(r.Events()) != 0 || r.Requests() != 0 {
		t.Fatal("reset kept state")
	}
}

func TestRaw(t *testing.T) {
	r, base := newServer(t, Options{})
	status, _, _ := req{path: "/services/collector/raw?channel=" + channelID + "&sourcetype=x", body: "line one\n{\"id\":\"j\"}\n\n"}.do(t, base)
	if status != 200 || r.Count() != 2 {
		t.Fatalf("status %d count %d", status, r.Count())
	}
	evs := r.Events()
	if string(evs[0].Event) != `"line one"` || evs[0].Sourcetype != "x" || evs[1].ID != "j" {
		t.Fatalf("events = %+v", evs)
	}
}

// fakeClock is a receiver's clock that moves only when the test says.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestAckLifecycle(t *testing.T) {
	// The receiver's clock moves only when the test advances it, so "before
	// the delay" and "after the delay" do not depend on how fast this
	// machine answers.
	const delay = 150 * time.Millisecond
	clock := &fakeClock{now: time.Date(2025, 11, 21, 10, 0, 0, 0, time.UTC)}
	r := New(Options{Ack: true})
	r.now = clock.Now
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	base := srv.URL
	r.SetFault(Fault{AckDelay: delay})
	for i := range 2 {
		_, body, _ := req{channel: channelID, body: ev(fmt.Sprint(i))}.do(t, base)
		if want := fmt.Sprintf(`{"text":"Success","code":0,"ackId":%d}`, i); body != want {
			t.Fatalf("post %d: %s, want %s", i, body, want)
		}
	}
	// Another channel counts from 0 again.
	_, body, _ := req{channel: "7d3c8a1e-0000-4000-8000-000000000001", body: ev("x")}.do(t, base)
	if body != `{"text":"Success","code":0,"ackId":0}` {
		t.Fatalf("other channel: %s", body)
	}
	ack := req{path: "/services/collector/ack", channel: channelID, body: `{"acks":[0,1,2]}`}
	if _, body, _ := ack.do(t, base); body != `{"acks":{"0":false,"1":false,"2":false}}` {
		t.Fatalf("early ack: %s", body)
	}
	clock.Advance(delay - time.Nanosecond)
	if _, body, _ := ack.do(t, base); body != `{"acks":{"0":false,"1":false,"2":false}}` {
		t.Fatalf("ack just before the delay: %s", body)
	}
	clock.Advance(time.Nanosecond)
	if _, body, _ := ack.do(t, base); body != `{"acks":{"0":true,"1":true,"2":false}}` {
		t.Fatalf("late ack: %s", body)
	}
	// True once, then forgotten.
	if _, body, _ := ack.do(t, base); body != `{"acks":{"0":false,"1":false,"2":false}}` {
		t.Fatalf("ack after true: %s", body)
	}

	r.SetFault(Fault{AckNever: true})
	req{channel: channelID, body: ev("n")}.do(t, base)
	if _, body, _ := (req{path: "/services/collector/ack", channel: channelID, body: `{"acks":[2]}`}).do(t, base); body != `{"acks":{"2":false}}` {
		t.Fatalf("never ack: %s", body)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  Fault
		req    req
		status int
		body   string
		header string // Retry-After
		count  int
	}{
		{"status 503", Fault{Status: 503, RetryAfter: "7"}, req{body: ev("a")}, 503, `{"text":"Server is busy","code":9}`, "7", 0},
		{"status 500", Fault{Status: 500}, req{body: ev("a")}, 500, `{"text":"Internal server error","code":8}`, "", 0},
		{"status 429", Fault{Status: 429, RetryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"}, req{body: ev("a")}, 429, `{"text":"HEC queue is at capacity","code":26}`, "Wed, 21 Oct 2015 07:28:00 GMT", 0},
		{"status with code", Fault{Status: 400, Code: 7}, req{body: ev("a")}, 400, `{"text":"Incorrect index","code":7}`, "", 0},
		{"status no code", Fault{Status: 502}, req{body: ev("a")}, 502, `{"text":"Bad Gateway"}`, "", 0},
		{"html body", Fault{Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"}, req{body: ev("a")}, 502, "<html><body>502 Bad Gateway</body></html>", "", 0},
		{"down event", Fault{Down: true}, req{body: ev("a")}, 503, `{"text":"Server is busy","code":9}`, "", 0},
		{"down health", Fault{Down: true}, req{method: "GET", path: "/services/collector/health"}, 503, `{"text":"HEC is unhealthy, queues are full","code":18}`, "", 0},
		{"fail all", Fault{FailRatio: 1}, req{body: ev("a")}, 503, `{"text":"Server is busy","code":9}`, "", 0},
		{"max bytes on decoded body", Fault{MaxBytes: 100}, req{body: ev("a") + ev("b"), gzip: true}, 413, `{"text":"Content-Length of 204 too large (maximum is 100)","code":413}`, "", 0},
		{"max bytes fits", Fault{MaxBytes: 1000}, req{body: ev("a") + ev("b")}, 200, `{"text":"Success","code":0}`, "", 2},
		{"poison", Fault{PoisonIDs: []string{"p"}}, req{body: ev("a") + ev("b") + ev("p") + ev("c")}, 400, `{"text":"Invalid data format","code":6,"invalid-event-number":2}`, "", 0},
		{"delay", Fault{Delay: 50 * time.Millisecond}, req{body: ev("a")}, 200, `{"text":"Success","code":0}`, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, base := newServer(t, Options{})
			r.SetFault(tt.fault)
			start := time.Now()
			status, body, h := tt.req.do(t, base)
			if status != tt.status || body != tt.body {
				t.Errorf("got %d %s\nwant %d %s", status, body, tt.status, tt.body)
			}
			if got := h.Get("Retry-After"); got != tt.header {
				t.Errorf("Retry-After = %q, want %q", got, tt.header)
			}
			if r.Count() != tt.count {
				t.Errorf("count = %d, want %d", r.Count(), tt.count)
			}
			if time.Since(start) < tt.fault.Delay {
				t.Errorf("answered before the delay")
			}
			// Healing restores service.
			r.SetFault(Fault{})
			if status, _, _ := (req{body: ev("ok")}).do(t, base); status != 200 {
				t.Errorf("after heal: %d", status)
			}
		})
	}
}

func TestResetConn(t *testing.T) {
	r, base := newServer(t, Options{})
	r.SetFault(Fault{ResetConn: true})
	hr, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/services/collector/event", strings.NewReader(ev("a")))
	hr.Header.Set("Authorization", "Splunk x")
	resp, err := http.DefaultClient.Do(hr)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("want a connection error, got %d", resp.StatusCode)
	}
	if r.Count() != 0 || r.Requests() != 1 {
		t.Fatalf("count %d requests %d", r.Count(), r.Requests())
	}
}

func TestFailRatio(t *testing.T) {
	r, base := newServer(t, Options{Seed: 42})
	r.SetFault(Fault{FailRatio: 0.3})
	failed := 0
	const n = 200
	for i := range n {
		if status, _, _ := (req{body: ev(fmt.Sprint(i))}).do(t, base); status == 503 {
			failed++
		}
	}
	if failed < n*15/100 || failed > n*45/100 {
		t.Fatalf("%d of %d failed, want about 30%%", failed, n)
	}
	if r.Count() != n-failed {
		t.Fatalf("count %d, want %d", r.Count(), n-failed)
	}
}

func TestDiscard(t *testing.T) {
	r, base := newServer(t, Options{Discard: true, Tokens: []string{goodToken}})
	body := ev("a") + "\n" + `{"event":"has { and } and \" inside"}` + "\n" + ev("c")
	if status, _, _ := (req{body: body, gzip: true}).do(t, base); status != 200 {
		t.Fatalf("status %d", status)
	}
	if status, _, _ := (req{auth: "Splunk bad", body: body}).do(t, base); status != 403 {
		t.Fatalf("bad token in discard mode: %d", status)
	}
	if r.Count() != 3 || len(r.Events()) != 0 || len(r.IDs()) != 0 {
		t.Fatalf("count %d events %d", r.Count(), len(r.Events()))
	}
}

func TestCountObjects(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{`{}`, 1},
		{`{}{}`, 2},
		{"{\"a\":{\"b\":{}}}\n{\"x\":\"}{\"}\n", 2},
		{`{"s":"\\"}{"t":"\"{"}`, 2},
	}
	for _, tt := range tests {
		if got := countObjects([]byte(tt.in)); got != tt.want {
			t.Errorf("countObjects(%s) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestWaitCountAndConcurrency(t *testing.T) {
	r, base := newServer(t, Options{Ack: true})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				req{channel: channelID, body: ev(fmt.Sprintf("%d-%d", i, j))}.do(t, base)
				r.SetFault(Fault{AckDelay: time.Millisecond})
				_ = r.IDs()
			}
		})
	}
	if err := r.WaitCount(t.Context(), 80); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(r.IDs()) != 80 {
		t.Fatalf("ids = %d", len(r.IDs()))
	}
	ctx, cancel := contextWithTimeout(t, 20*time.Millisecond)
	defer cancel()
	if err := r.WaitCount(ctx, 81); err == nil || !errors.Is(err, ctx.Err()) {
		t.Fatalf("WaitCount past the end = %v", err)
	}
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

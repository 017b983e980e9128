package hec

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/testpki"
	"github.com/siemsync/siemsync/sink"
)

// canned answers every request with the same status, headers and body.
func canned(t *testing.T, status int, body string, hdr map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendClassifies(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		body       string
		hdr        map[string]string
		gzip       bool
		index      string
		events     int
		class      sink.Class // 0 = delivered
		code       int
		at         int           // BadEvent index
		retryAfter time.Duration // approximate for dates
		msg        string
	}{
		{name: "success", status: 200, body: `{"text":"Success","code":0}`},
		{name: "non-JSON OK", status: 200, body: "OK"},
		{name: "JSON string OK", status: 200, body: `"OK"`},
		{name: "201 empty", status: 201},
		{name: "204", status: 204},
		{name: "capacity warning", status: 200, body: `{"text":"HEC queue is approaching its capacity limit","code":24}`},

		{name: "busy", status: 503, body: `{"text":"Server is busy","code":9}`, hdr: map[string]string{"Retry-After": "7"}, class: sink.Retry, code: 9, retryAfter: 7 * time.Second, msg: "Splunk is busy (code 9, Server is busy)"},
		{name: "busy http date", status: 503, body: `{"text":"Server is busy","code":9}`, hdr: map[string]string{"Retry-After": httpDate}, class: sink.Retry, code: 9, retryAfter: 90 * time.Second},
		{name: "busy with invalid-event-number", status: 503, body: `{"text":"Server is busy","code":9,"invalid-event-number":4}`, class: sink.Retry, code: 9},
		{name: "429 no body", status: 429, class: sink.Retry, code: -1, msg: "HTTP 429"},
		{name: "429 code 26", status: 429, body: `{"text":"HEC queue is at capacity","code":26}`, hdr: map[string]string{"Retry-After": "3"}, class: sink.Retry, code: 26, retryAfter: 3 * time.Second},
		{name: "500 code 8", status: 500, body: `{"text":"Internal server error","code":8}`, class: sink.Retry, code: 8},
		{name: "unhealthy 18", status: 503, body: `{"text":"HEC is unhealthy, queues are full","code":18}`, class: sink.Retry, code: 18},
		{name: "shutting down 23", status: 503, body: `{"text":"Server is shutting down","code":23}`, class: sink.Retry, code: 23},
		{name: "ack capacity 27", status: 429, body: `{"text":"HEC ACK channel is at capacity","code":27}`, class: sink.Retry, code: 27},
		{name: "html 502 from a load balancer", status: 502, body: "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center></body></html>", class: sink.Retry, code: -1, msg: "HEC server answered HTTP 502: 502 Bad Gateway 502 Bad Gateway"},
		{name: "504", status: 504, class: sink.Retry, code: -1},
		{name: "408", status: 408, class: sink.Retry, code: -1},

		{name: "413", status: 413, body: "Content-Length of 5000000 too large", class: sink.TooLarge, code: -1, msg: "too large (HTTP 413"},
		{name: "413 json", status: 413, body: `{"text":"Content-Length of 5000000 too large (maximum is 1000000)","code":413}`, class: sink.TooLarge, code: 413},

		{name: "invalid data format", status: 400, body: `{"text":"Invalid data format","code":6,"invalid-event-number":3}`, events: 10, class: sink.BadEvent, code: 6, at: 3, msg: "Splunk rejected event 3 of the batch (code 6, Invalid data format)"},
		{name: "invalid data format no index", status: 400, body: `{"text":"Invalid data format","code":6}`, events: 10, class: sink.BadEvent, code: 6, at: -1},
		{name: "index out of batch", status: 400, body: `{"text":"Invalid data format","code":6,"invalid-event-number":99}`, events: 10, class: sink.BadEvent, code: 6, at: -1},
		{name: "event required", status: 400, body: `{"text":"Event field is required","code":12,"invalid-event-number":0}`, events: 2, class: sink.BadEvent, code: 12, at: 0},
		{name: "event blank", status: 400, body: `{"text":"Event field cannot be blank","code":13,"invalid-event-number":1}`, events: 2, class: sink.BadEvent, code: 13, at: 1},
		{name: "indexed fields", status: 400, body: `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":1}`, events: 2, class: sink.BadEvent, code: 15, at: 1},
		{name: "no data", status: 400, body: `{"text":"No data","code":5}`, class: sink.BadEvent, code: 5, at: -1},

		{name: "token disabled", status: 403, body: `{"text":"Token disabled","code":1}`, class: sink.Config, code: 1, msg: "the HEC token is disabled in Splunk"},
		{name: "token required", status: 401, body: `{"text":"Token is required","code":2}`, class: sink.Config, code: 2},
		{name: "invalid authorization", status: 401, body: `{"text":"Invalid authorization","code":3}`, class: sink.Config, code: 3},
		{name: "invalid token", status: 403, body: `{"text":"Invalid token","code":4}`, class: sink.Config, code: 4, msg: "Splunk rejected the HEC token (code 4, Invalid token): check the token in the integration settings"},
		{name: "code as string", status: 403, body: `{"text":"Invalid token","code":"4"}`, class: sink.Config, code: 4},
		{name: "incorrect index", status: 400, body: `{"text":"Incorrect index","code":7,"invalid-event-number":0}`, index: "secret", class: sink.Config, code: 7, msg: `Splunk refused index "secret" (code 7, Incorrect index): add it to the token's allowed indexes or clear the index field`},
		{name: "channel missing", status: 400, body: `{"text":"Data channel is missing","code":10}`, class: sink.Config, code: 10, msg: "this HEC token requires indexer acknowledgement (code 10, Data channel is missing): turn on ack for the integration"},
		{name: "invalid channel", status: 400, body: `{"text":"Invalid data channel","code":11}`, class: sink.Config, code: 11},
		{name: "ack disabled", status: 400, body: `{"text":"ACK is disabled","code":14}`, class: sink.Config, code: 14, msg: "ack is on for this integration but disabled on the token"},
		{name: "query string auth", status: 400, body: `{"text":"Query string authorization is not enabled","code":16}`, class: sink.Config, code: 16},
		{name: "404 html", status: 404, body: "<html>Not Found</html>", class: sink.Config, code: -1, msg: "no HEC endpoint at this URL (HTTP 404 from http://"},
		{name: "401 plain", status: 401, body: "Unauthorized", class: sink.Config, code: -1, msg: "refused the token (HTTP 401: Unauthorized)"},
		{name: "415 with gzip", status: 415, gzip: true, class: sink.Config, code: -1, msg: "turn gzip off"},
		{name: "unknown code echoing the token", status: 400, body: `{"text":"bad thing with ` + testToken + `","code":99}`, class: sink.Config, code: 99, msg: "HTTP 400, code 99: bad thing with [token]"},
		{name: "teapot", status: 418, body: "short and stout", class: sink.Config, code: -1, msg: "HTTP 418: short and stout"},
		{name: "redirect", status: 301, hdr: map[string]string{"Location": "https://elsewhere.example.com/services/collector/event"}, class: sink.Config, code: -1, msg: "redirects (HTTP 301) to https://elsewhere.example.com/services/collector/event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := canned(t, tt.status, tt.body, tt.hdr)
			s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Gzip = tt.gzip; in.Index = tt.index }), Options{})
			events := max(tt.events, 1)
			err := s.Send(t.Context(), batch(s, "e", events), events)
			if tt.class == 0 {
				if err != nil {
					t.Fatalf("want delivered, got %v", err)
				}
				return
			}
			var se *sink.Error
			if !errors.As(err, &se) {
				t.Fatalf("want *sink.Error, got %T %v", err, err)
			}
			if se.Class != tt.class || se.Code != tt.code || se.Status != tt.status {
				t.Errorf("class %v code %d status %d, want %v %d %d (%s)", se.Class, se.Code, se.Status, tt.class, tt.code, tt.status, se.Msg)
			}
			if tt.class == sink.BadEvent && se.Index != tt.at {
				t.Errorf("index %d, want %d", se.Index, tt.at)
			}
			if d := se.RetryAfter - tt.retryAfter; d < -2*time.Second || d > 0 {
				t.Errorf("RetryAfter %v, want %v", se.RetryAfter, tt.retryAfter)
			}
			if !strings.Contains(se.Error(), tt.msg) {
				t.Errorf("message %q\nwant it to contain %q", se.Error(), tt.msg)
			}
			if strings.Contains(se.Error(), testToken) {
				t.Errorf("message leaks the token: %s", se.Error())
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"30", 30 * time.Second},
		{" 12 ", 12 * time.Second},
		{"999999999", maxRetryAfter},
		{"Thu, 01 Jan 2026 00:02:00 GMT", 2 * time.Minute},
		{"Wed, 31 Dec 2025 23:00:00 GMT", 0},
		{"Fri, 02 Jan 2026 00:00:00 GMT", maxRetryAfter},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		in, event, base string
		raw             bool
	}{
		{"https://splunk.example.com:8088", "https://splunk.example.com:8088/services/collector/event", "https://splunk.example.com:8088", false},
		{"https://splunk.example.com:8088/", "https://splunk.example.com:8088/services/collector/event", "https://splunk.example.com:8088", false},
		{"https://s:8088/services/collector", "https://s:8088/services/collector", "https://s:8088", false},
		{"https://s:8088/services/collector/event/1.0", "https://s:8088/services/collector/event/1.0", "https://s:8088", false},
		{"https://proxy:443/splunk/services/collector/event?auto_extract_timestamp=true", "https://proxy:443/splunk/services/collector/event?auto_extract_timestamp=true", "https://proxy:443/splunk", false},
		{"http://s:80/custom", "http://s:80/custom", "http://s:80/custom", false},
		// No port: Splunk's 8088 (SPEC §8.1).
		{"https://splunk.example.com", "https://splunk.example.com:8088/services/collector/event", "https://splunk.example.com:8088", false},
		{"https://[2001:db8::1]/services/collector", "https://[2001:db8::1]:8088/services/collector", "https://[2001:db8::1]:8088", false},
		// The raw endpoint.
		{"https://s:8088/services/collector/raw", "https://s:8088/services/collector/raw", "https://s:8088", true},
		{"https://s:8443/splunk/services/collector/raw/1.0", "https://s:8443/splunk/services/collector/raw/1.0", "https://s:8443/splunk", true},
	}
	for _, tt := range tests {
		u, base, raw, err := endpoints(tt.in)
		ev := ""
		if u != nil {
			ev = u.String()
		}
		if err != nil || ev != tt.event || base != tt.base || raw != tt.raw {
			t.Errorf("endpoints(%q) = %q, %q, %v, %v; want %q, %q, %v", tt.in, ev, base, raw, err, tt.event, tt.base, tt.raw)
		}
	}
	for _, bad := range []string{"", "splunk:8088", "ftp://s", "https://", "::"} {
		if _, err := New(integration(bad, nil), Options{}); sink.ClassOf(err) != sink.Config {
			t.Errorf("New(%q) = %v, want a Config error", bad, err)
		}
	}
}

// TestSendRequest checks what goes on the wire: path, headers, body.
func TestSendRequest(t *testing.T) {
	tests := []struct {
		name, path string
		gzip, ack  bool
		wantPath   string
	}{
		{"base URL", "", false, false, "/services/collector/event"},
		{"slash", "/", true, false, "/services/collector/event"},
		{"collector", "/services/collector", false, false, "/services/collector"},
		{"ack", "", true, true, "/services/collector/event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got *http.Request
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/services/collector/ack" {
					io.WriteString(w, `{"acks":{"0":true}}`)
					return
				}
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got, body = r, b
				mu.Unlock()
				io.WriteString(w, `{"text":"Success","code":0,"ackId":0}`)
			}))
			t.Cleanup(srv.Close)
			in := integration(srv.URL+tt.path, func(in *siemsync.Integration) { in.Gzip = tt.gzip; in.Ack = tt.ack })
			s := sinkFor(t, in, Options{})
			raw := batch(s, "r", 3)
			if err := s.Send(t.Context(), raw, 3); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.URL.Path != tt.wantPath || got.Method != http.MethodPost {
				t.Errorf("%s %s, want POST %s", got.Method, got.URL.Path, tt.wantPath)
			}
			if h := got.Header.Get("Authorization"); h != "Splunk "+testToken {
				t.Errorf("Authorization %q", h)
			}
			if h := got.Header.Get("Content-Type"); h != "application/json" {
				t.Errorf("Content-Type %q", h)
			}
			if tt.gzip {
				if got.Header.Get("Content-Encoding") != "gzip" {
					t.Errorf("Content-Encoding %q", got.Header.Get("Content-Encoding"))
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			} else if got.Header.Get("Content-Encoding") != "" {
				t.Errorf("Content-Encoding %q without gzip", got.Header.Get("Content-Encoding"))
			}
			if !bytes.Equal(body, raw) {
				t.Errorf("body differs:\n%s\nwant\n%s", body, raw)
			}
			ch := got.Header.Get("X-Splunk-Request-Channel")
			if tt.ack {
				want := uuid.NewSHA1(channelNS, []byte(in.ID)).String()
				if ch != want || s.Channel() != want {
					t.Errorf("channel %q, want %q (derived from the integration id)", ch, want)
				}
			} else if ch != "" {
				t.Errorf("channel %q without ack", ch)
			}
		})
	}
}

func TestSendToReceiver(t *testing.T) {
	for _, gz := range []bool{false, true} {
		r, srv := receiver(t, hecrecv.Options{})
		s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Gzip = gz; in.Index = "main" }), Options{})
		if err := s.Send(t.Context(), batch(s, "x", 50), 50); err != nil {
			t.Fatal(err)
		}
		if r.Count() != 50 || r.IDs()["x-49"] != 1 {
			t.Fatalf("gzip=%v: received %d", gz, r.Count())
		}
		e := r.Events()[0]
		if e.Index != "main" || e.Sourcetype != "_json" || e.Source != "siemsync:audit" || e.Host != "eu-1.example.net" {
			t.Fatalf("envelope %+v", e)
		}
	}
}

func TestSendEmpty(t *testing.T) {
	r, srv := receiver(t, hecrecv.Options{})
	s := sinkFor(t, integration(srv.URL, nil), Options{})
	if err := s.Send(t.Context(), nil, 0); err != nil {
		t.Fatal(err)
	}
	if r.Requests() != 0 {
		t.Fatal("empty batch was posted")
	}
}

func TestSendTransportErrors(t *testing.T) {
	closed := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) (string, Options, func(*siemsync.Integration))
		class sink.Class
		msg   string
	}{
		{"connection refused", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			return closed(t), Options{AllowPrivate: true}, nil
		}, sink.Retry, "connect to 127.0.0.1"},
		{"connection reset", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			r, srv := receiver(t, hecrecv.Options{})
			r.SetFault(hecrecv.Fault{ResetConn: true})
			return srv.URL, Options{AllowPrivate: true}, nil
		}, sink.Retry, "post batch to 127.0.0.1"},
		{"timeout", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			r, srv := receiver(t, hecrecv.Options{})
			r.SetFault(hecrecv.Fault{Delay: 2 * time.Second})
			return srv.URL, Options{AllowPrivate: true, RequestTimeout: 200 * time.Millisecond}, nil
		}, sink.Retry, "no answer from 127.0.0.1"},
		{"private destination refused", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			_, srv := receiver(t, hecrecv.Options{})
			return srv.URL, Options{}, nil
		}, sink.Config, "the destination is a loopback address; siemsync refuses loopback, private, link-local and cloud-metadata destinations unless the operator allows them with --allow-private-destinations"},
		{"localhost name refused", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			_, srv := receiver(t, hecrecv.Options{})
			return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), Options{}, nil
		}, sink.Config, "is a loopback address"},
		{"tls unknown authority", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			ca, other := testpki.NewCA(t, "Real CA"), testpki.NewCA(t, "Other CA")
			cert, _, _ := ca.Issue(t, testpki.Leaf{CN: "splunk", IPs: loopback, Client: false})
			srv := tlsReceiver(t, hecrecv.New(hecrecv.Options{}), &tls.Config{Certificates: []tls.Certificate{cert}})
			return srv.URL, Options{AllowPrivate: true}, func(in *siemsync.Integration) { in.CAPEM = other.PEM }
		}, sink.Config, "is signed by an authority siemsync does not trust: paste the CA certificate in ca_pem"},
		{"tls splunk default certificate", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			ca := testpki.NewCA(t, "SplunkCommonCA")
			cert, _, _ := ca.Issue(t, testpki.Leaf{CN: "SplunkServerDefaultCert", Client: false})
			srv := tlsReceiver(t, hecrecv.New(hecrecv.Options{}), &tls.Config{Certificates: []tls.Certificate{cert}})
			return srv.URL, Options{AllowPrivate: true}, func(in *siemsync.Integration) { in.CAPEM = ca.PEM }
		}, sink.Config, "Splunk's self-signed default certificate (SplunkServerDefaultCert)"},
		{"tls client certificate required", func(t *testing.T) (string, Options, func(*siemsync.Integration)) {
			ca := testpki.NewCA(t, "Real CA")
			cert, _, _ := ca.Issue(t, testpki.Leaf{CN: "splunk", IPs: loopback, Client: false})
			pool := x509.NewCertPool()
			pool.AddCert(ca.Cert)
			srv := tlsReceiver(t, hecrecv.New(hecrecv.Options{}), &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
			return srv.URL, Options{AllowPrivate: true}, func(in *siemsync.Integration) { in.CAPEM = ca.PEM }
		}, sink.Config, "127.0.0.1 requires a client certificate and refused the connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, opts, mod := tt.setup(t)
			s, err := New(integration(url, mod), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Send(t.Context(), batch(s, "t", 2), 2)
			var se *sink.Error
			if !errors.As(err, &se) {
				t.Fatalf("want *sink.Error, got %T %v", err, err)
			}
			if se.Class != tt.class || !strings.Contains(se.Error(), tt.msg) {
				t.Fatalf("got %v %q\nwant %v containing %q", se.Class, se.Error(), tt.class, tt.msg)
			}
			if strings.Contains(se.Error(), testToken) {
				t.Fatalf("message leaks the token: %s", se.Error())
			}
		})
	}
}

func TestSendTLS(t *testing.T) {
	ca := testpki.NewCA(t, "Real CA")
	cert, _, _ := ca.Issue(t, testpki.Leaf{CN: "splunk", IPs: loopback, Client: false})
	r := hecrecv.New(hecrecv.Options{Tokens: []string{testToken}})
	srv := tlsReceiver(t, r, &tls.Config{Certificates: []tls.Certificate{cert}})
	s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.CAPEM = ca.PEM; in.Gzip = true }), Options{})
	if err := s.Send(t.Context(), batch(s, "tls", 5), 5); err != nil {
		t.Fatal(err)
	}
	if r.Count() != 5 {
		t.Fatalf("received %d", r.Count())
	}
}

// TestConnectionReuse checks that batches, answered well or badly, go over
// one keep-alive connection.
func TestConnectionReuse(t *testing.T) {
	r := hecrecv.New(hecrecv.Options{Tokens: []string{testToken}})
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Gzip = true }), Options{})
	faults := []hecrecv.Fault{{}, {Status: 503}, {Status: 400, Code: 6}, {Status: 502, Body: "<html>bad gateway</html>"}, {Status: 413}}
	for i := range 20 {
		r.SetFault(faults[i%len(faults)])
		s.Send(t.Context(), batch(s, "c", 10), 10)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 20 requests, want 1", n)
	}
}

func TestAck(t *testing.T) {
	tests := []struct {
		name    string
		recv    hecrecv.Options
		fault   hecrecv.Fault
		ack     bool
		timeout time.Duration
		class   sink.Class
		msg     string
		minWait time.Duration
	}{
		{name: "acknowledged at once", recv: hecrecv.Options{Ack: true}, ack: true},
		{name: "late ack", recv: hecrecv.Options{Ack: true}, fault: hecrecv.Fault{AckDelay: 700 * time.Millisecond}, ack: true, minWait: 700 * time.Millisecond},
		{name: "never acknowledged", recv: hecrecv.Options{Ack: true}, fault: hecrecv.Fault{AckNever: true}, ack: true, timeout: time.Second,
			class: sink.Retry, msg: "batch not acknowledged by Splunk within 1s; it will be sent again", minWait: time.Second},
		{name: "token requires ack, integration does not", recv: hecrecv.Options{Ack: true}, ack: false,
			class: sink.Config, msg: "this HEC token requires indexer acknowledgement (code 10, Data channel is missing): turn on ack for the integration"},
		{name: "integration wants ack, receiver has none", recv: hecrecv.Options{}, ack: true,
			class: sink.Config, msg: "indexer acknowledgement is off on the token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, srv := receiver(t, tt.recv)
			r.SetFault(tt.fault)
			in := integration(srv.URL, func(in *siemsync.Integration) {
				in.Ack = tt.ack
				if tt.timeout > 0 {
					in.AckTimeout = siemsync.Duration(tt.timeout)
				}
			})
			s := sinkFor(t, in, Options{})
			start := time.Now()
			err := s.Send(t.Context(), batch(s, "a", 3), 3)
			if waited := time.Since(start); waited < tt.minWait {
				t.Errorf("returned after %v, want at least %v", waited, tt.minWait)
			}
			if tt.class == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tt.ack && tt.recv.Ack && r.Events()[0].Channel != s.Channel() {
					t.Errorf("channel %q, want %q", r.Events()[0].Channel, s.Channel())
				}
				return
			}
			if sink.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v (%v)\nwant %v containing %q", err, sink.ClassOf(err), tt.class, tt.msg)
			}
		})
	}
}

// TestAckDisabledOnToken: the event POST returns an ackId (a proxy, or a
// token changed in between) but the ack endpoint says ack is off.
func TestAckDisabledOnToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/services/collector/ack" {
			w.WriteHeader(400)
			io.WriteString(w, `{"text":"ACK is disabled","code":14}`)
			return
		}
		io.WriteString(w, `{"text":"Success","code":0,"ackId":5}`)
	}))
	t.Cleanup(srv.Close)
	s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Ack = true }), Options{})
	err := s.Send(t.Context(), batch(s, "a", 1), 1)
	if sink.ClassOf(err) != sink.Config || !strings.Contains(err.Error(), "ack is on for this integration but disabled on the token (code 14, ACK is disabled): turn ack off or enable indexer acknowledgement (useACK) on the token in Splunk") {
		t.Fatalf("got %v", err)
	}
}

// TestAckWithoutAckID: in ack mode a 200 without an ackId proves nothing
// was indexed, so it is not a delivery: the cycle fails with the fix.
func TestAckWithoutAckID(t *testing.T) {
	var acks atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/services/collector/ack" {
			acks.Add(1)
		}
		io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	t.Cleanup(srv.Close)
	s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Ack = true }), Options{})
	err := s.Send(t.Context(), batch(s, "a", 1), 1)
	if sink.ClassOf(err) != sink.Config || !strings.Contains(err.Error(), "indexer acknowledgement is off on the token") {
		t.Fatalf("got %v, want a configuration error saying ack is off on the token", err)
	}
	if acks.Load() != 0 {
		t.Fatalf("%d ack queries without an ackId", acks.Load())
	}
}

// TestAckCookieJar: a sticky load balancer routes by cookie; the ack
// query must carry the cookie the event POST got.
func TestAckCookieJar(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/services/collector/ack" {
			polls.Add(1)
			c, err := r.Cookie("AWSALB")
			if err != nil || c.Value != "indexer-2" {
				// Another indexer: it never heard of this ackId.
				io.WriteString(w, `{"acks":{"0":false}}`)
				return
			}
			io.WriteString(w, `{"acks":{"0":true}}`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "AWSALB", Value: "indexer-2", Path: "/"})
		io.WriteString(w, `{"text":"Success","code":0,"ackId":0}`)
	}))
	t.Cleanup(srv.Close)
	s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Ack = true; in.AckTimeout = siemsync.Duration(2 * time.Second) }), Options{})
	if err := s.Send(t.Context(), batch(s, "a", 1), 1); err != nil {
		t.Fatalf("%v (after %d polls)", err, polls.Load())
	}
	if polls.Load() != 1 {
		t.Fatalf("%d polls, want 1", polls.Load())
	}
}

func TestAckContextCancelled(t *testing.T) {
	r, srv := receiver(t, hecrecv.Options{Ack: true})
	r.SetFault(hecrecv.Fault{AckNever: true})
	s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Ack = true }), Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := s.Send(ctx, batch(s, "a", 1), 1)
	if sink.ClassOf(err) != sink.Retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

// TestBodyReuse: Send returns only once the transport is done with the
// body, so the caller may overwrite it at once: small bodies (copied) and
// large ones (lent to the transport and waited for).
func TestBodyReuse(t *testing.T) {
	r, srv := receiver(t, hecrecv.Options{})
	s := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Gzip = false }), Options{})
	buf := make([]byte, 0, 1<<16)
	want := 0
	for i := range 30 {
		n := 20
		if i%2 == 1 {
			n = 200 // beyond smallBody
		}
		buf = batch(s, "b"+strconv.Itoa(i), n)
		if small := len(buf) <= smallBody; small != (n == 20) {
			t.Fatalf("a batch of %d events is %d bytes: adjust the sizes to smallBody", n, len(buf))
		}
		if err := s.Send(t.Context(), buf, n); err != nil {
			t.Fatal(err)
		}
		want += n
		for j := range buf {
			buf[j] = 'X'
		}
	}
	if r.Count() != want || len(r.IDs()) != want {
		t.Fatalf("received %d events, %d ids, want %d", r.Count(), len(r.IDs()), want)
	}
}

// TestSmallRequestIsOneWrite: a small request goes out in one write, its
// headers with its body (a write on a socket is most of a request's cost).
func TestSmallRequestIsOneWrite(t *testing.T) {
	r, srv := receiver(t, hecrecv.Options{})
	var writes atomic.Int32
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return &countingConn{Conn: c, writes: &writes}, err
	}
	for _, gzip := range []bool{true, false} {
		s, err := New(integration(srv.URL, func(in *siemsync.Integration) { in.Gzip = gzip }), Options{Client: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// Uncompressed, fewer events: the transport's 4 KiB write buffer
		// holds the headers and a body of about 3.5 KiB.
		events := 10
		if !gzip {
			events = 3
		}
		before := writes.Load()
		if err := s.Send(t.Context(), batch(s, fmt.Sprint("w", gzip), events), events); err != nil {
			t.Fatal(err)
		}
		if n := writes.Load() - before; n != 1 {
			t.Errorf("gzip %v: a request of %d events took %d writes, want 1", gzip, events, n)
		}
	}
	if r.Count() != 13 {
		t.Errorf("received %d events, want 13", r.Count())
	}
}

type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func TestMetrics(t *testing.T) {
	_, srv := receiver(t, hecrecv.Options{})
	m := newMetrics()
	var posts, wire atomic.Int32
	onPost := func(p PostInfo) {
		posts.Add(1)
		if p.Status == http.StatusOK {
			wire.Add(int32(p.WireBytes))
		}
	}
	s := sinkFor(t, integration(srv.URL, nil), Options{Metrics: m, OnPost: onPost})
	for range 3 {
		if err := s.Send(t.Context(), batch(s, "m", 1), 1); err != nil {
			t.Fatal(err)
		}
	}
	refused := sinkFor(t, integration(srv.URL, func(in *siemsync.Integration) { in.Token = "not-the-token" }), Options{Metrics: m, OnPost: onPost})
	if err := refused.Send(t.Context(), batch(refused, "m", 1), 1); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	if n := histogramCount(t, m); n != 4 {
		t.Fatalf("%d observations, want 4", n)
	}
	if posts.Load() != 4 {
		t.Fatalf("OnPost called %d times", posts.Load())
	}
	// Only the accepted posts' bytes count as sent.
	accepted := wire.Load()
	want := fmt.Sprintf("# HELP siemsync_bytes_sent_total Bytes of accepted batches: raw (before compression) and wire (as sent).\n"+
		"# TYPE siemsync_bytes_sent_total counter\n"+
		"siemsync_bytes_sent_total{encoding=\"wire\",integration=%q} %d\n", s.in.ID, accepted)
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "siemsync_bytes_sent_total"); err != nil {
		t.Error(err)
	}
}

func TestNewBadTLS(t *testing.T) {
	_, err := New(integration("https://s:8088", func(in *siemsync.Integration) { in.CAPEM = "not a cert" }), Options{})
	if sink.ClassOf(err) != sink.Config || !strings.Contains(err.Error(), "ca_pem") {
		t.Fatalf("got %v", err)
	}
}

func newMetrics() *metrics.Metrics { return metrics.New() }

func histogramCount(t *testing.T, m *metrics.Metrics) uint64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "siemsync_request_duration_seconds" {
			continue
		}
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == "splunk_hec" {
					return mm.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}

// TestOptionsClient: a caller-supplied client is used as given, with a
// cookie jar added and redirects not followed.
func TestOptionsClient(t *testing.T) {
	r, srv := receiver(t, hecrecv.Options{})
	var used atomic.Int32
	base := srv.Client()
	c := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		used.Add(1)
		return base.Transport.RoundTrip(req)
	})}
	s, err := New(integration(srv.URL, nil), Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Send(t.Context(), batch(s, "o", 2), 2); err != nil {
		t.Fatal(err)
	}
	if used.Load() != 1 || r.Count() != 2 || c.Jar != nil {
		t.Fatalf("used %d, received %d, caller's client changed: %v", used.Load(), r.Count(), c.Jar != nil)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The encoder trusts the store's metadata (ingest only stores valid JSON
// objects). Should a corrupt value ever reach it, the destination refuses
// the event as bad data with its index, which the sync cycle turns into one
// set-aside event rather than a lost batch.
func TestCorruptMetadataIsRefusedAsBadEvent(t *testing.T) {
	t.Parallel()
	r, srv := receiver(t, hecrecv.Options{})
	s := sinkFor(t, integration(srv.URL, nil), Options{})
	body := batch(s, "ok", 2)
	bad := auditEvent()
	bad.Audit.Metadata = json.RawMessage(`{"a":`)
	body = s.Append(body, bad)
	body = append(body, batch(s, "after", 1)...)
	err := s.Send(t.Context(), body, 4)
	var se *sink.Error
	if !errors.As(err, &se) || se.Class != sink.BadEvent || se.Index != 2 {
		t.Fatalf("send = %v (%+v), want a BadEvent at index 2", err, se)
	}
	if r.Count() != 0 {
		t.Errorf("receiver kept %d events of a refused batch", r.Count())
	}
}

// TestTemporaryRedirectReleasesBody: a 307/308 is reported as a redirect
// at once; the request body the client made for the redirect it does not
// follow is released, so the send does not wait for it (it waited 10 s).
func TestTemporaryRedirectReleasesBody(t *testing.T) {
	t.Parallel()
	for _, status := range []int{307, 308} {
		srv := canned(t, status, "", map[string]string{"Location": "https://elsewhere.example.com/services/collector/event"})
		var logs bytes.Buffer
		s := sinkFor(t, integration(srv.URL, nil), Options{Logger: zerolog.New(&logs)})
		err := s.Send(t.Context(), batch(s, "e", 3), 3)
		var se *sink.Error
		if !errors.As(err, &se) || !strings.Contains(se.Msg, fmt.Sprintf("redirects (HTTP %d)", status)) {
			t.Errorf("%d: %v", status, err)
		}
		if strings.Contains(logs.String(), "did not release a request body") {
			t.Errorf("%d: the request body made for the redirect was never released", status)
		}
	}
}

// TestCapacityWarningIsLogged: a batch accepted with Splunk's "approaching
// capacity" codes is delivered, and the warning names the integration and
// the code (the sink's logger carries no integration of its own).
func TestCapacityWarningIsLogged(t *testing.T) {
	t.Parallel()
	for _, code := range []int{24, 25} {
		srv := canned(t, 200, fmt.Sprintf(`{"text":"HEC is approaching its capacity limit","code":%d}`, code), nil)
		var logs bytes.Buffer
		in := integration(srv.URL, nil)
		s := sinkFor(t, in, Options{Logger: zerolog.New(&logs)})
		if err := s.Send(t.Context(), batch(s, "e", 2), 2); err != nil {
			t.Fatalf("code %d: want delivered, got %v", code, err)
		}
		var line struct {
			Level, Integration, Message string
			Code                        int
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("code %d: one JSON log line, got %q: %v", code, logs.String(), err)
		}
		if line.Level != "warn" || line.Integration != in.ID || line.Code != code || !strings.Contains(line.Message, "approaching capacity") {
			t.Errorf("code %d: log line %+v", code, line)
		}
	}
}

package hec

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/hecrecv"
)

const testToken = "0d2c6e3a-5f4b-4e8a-9c1d-7b6a5e4d3c2b"

// integration returns a HEC integration posting to url with the test token.
func integration(url string, mod func(*siemsync.Integration)) *siemsync.Integration {
	in := &siemsync.Integration{
		ID: "7e3f1c2a-0b9d-4e8f-a6c5-1d2e3f4a5b6c", Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90",
		Name: "test", Kind: siemsync.KindHEC, URL: url, Token: testToken, Sources: []string{"audit"},
	}
	in.ApplyDefaults()
	if mod != nil {
		mod(in)
	}
	return in
}

// receiver starts an HEC receiver that accepts testToken on a plain HTTP
// loopback server.
func receiver(t *testing.T, o hecrecv.Options) (*hecrecv.Receiver, *httptest.Server) {
	t.Helper()
	if o.Tokens == nil {
		o.Tokens = []string{testToken}
	}
	r := hecrecv.New(o)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

// sinkFor builds a sink through the real transport (netguard dialer with
// private destinations allowed, the integration's TLS settings).
func sinkFor(t *testing.T, in *siemsync.Integration, opts Options) *Sink {
	t.Helper()
	opts.AllowPrivate = true
	if opts.Hostname == "" {
		opts.Hostname = "test-host"
	}
	s, err := New(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// batch encodes n audit events with ids prefix-0 … prefix-(n-1).
func batch(s *Sink, prefix string, n int) []byte {
	var b []byte
	for i := range n {
		ev := auditEvent()
		ev.Audit.ID = prefix + "-" + strconv.Itoa(i)
		b = s.Append(b, ev)
	}
	return b
}

// tlsReceiver serves h over TLS with cfg on loopback.
func tlsReceiver(t *testing.T, h http.Handler, cfg *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	// Refused handshakes are the point of these tests, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

var loopback = []net.IP{net.ParseIP("127.0.0.1")}

// storedMetadata turns fuzz input into metadata the store can hold: what
// ingest accepts is a JSON object in valid UTF-8, kept compact. Anything
// else cannot reach the encoder, so it becomes "no metadata".
func storedMetadata(b []byte) []byte {
	var buf bytes.Buffer
	if !utf8.Valid(b) || json.Compact(&buf, b) != nil || !bytes.HasPrefix(buf.Bytes(), []byte("{")) {
		return nil
	}
	return buf.Bytes()
}

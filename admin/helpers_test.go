package admin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/testpki"
)

const (
	adminToken = "admin-token-5d1e0c9b7a"
	hecToken   = "hec-SECRET-3f9a1c77e2"
	acct       = "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"
	acct2      = "9b2d7e41-0c6a-4f3e-8a51-6d7c2e9f1b30"
)

// bundle is one admin server over fakes.
type bundle struct {
	t       *testing.T
	srv     *admin.Server
	st      *fakeStore
	syncer  *fakeSyncer
	ing     *fakeIngester
	metrics *metrics.Metrics
	steps   []siemsync.Step // what the Tester returns
	tested  chan *siemsync.Integration
	secrets []string // strings no response may contain
}

func setup(t *testing.T, mod ...func(*admin.Config)) *bundle {
	t.Helper()
	b := &bundle{
		t: t, st: newFakeStore(), syncer: &fakeSyncer{}, ing: &fakeIngester{}, metrics: metrics.New(),
		steps:   []siemsync.Step{{Name: "url", OK: true, Message: "ok"}, {Name: "token", OK: true, Message: "accepted"}},
		tested:  make(chan *siemsync.Integration, 10),
		secrets: []string{hecToken, adminToken},
	}
	logs := &lockedBuffer{}
	t.Cleanup(func() { b.noSecretsIn("the log", logs.String()) })
	cfg := admin.Config{
		Store: b.st, Syncer: b.syncer, Ingest: b.ing, Metrics: b.metrics,
		Logger: zerolog.New(io.MultiWriter(zerolog.NewTestWriter(t), logs)).Level(zerolog.DebugLevel),
		Tester: func(_ context.Context, in *siemsync.Integration, send bool) []siemsync.Step {
			b.tested <- in
			return b.steps
		},
		TokenHash: sha256.Sum256([]byte(adminToken)),
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := admin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.srv = srv
	return b
}

// serve runs one request and checks that the response carries no secret.
func (b *bundle) serve(r *http.Request) *httptest.ResponseRecorder {
	b.t.Helper()
	if r.RemoteAddr == "" {
		r.RemoteAddr = "192.0.2.1:1234"
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, r)
	b.noSecrets(w)
	return w
}

func (b *bundle) noSecrets(w *httptest.ResponseRecorder) {
	b.t.Helper()
	all := w.Body.String()
	for k, v := range w.Header() {
		all += "\n" + k + ": " + strings.Join(v, ",")
	}
	b.noSecretsIn("a response", all)
}

func (b *bundle) noSecretsIn(what, text string) {
	b.t.Helper()
	for _, s := range b.secrets {
		if s != "" && strings.Contains(text, s) {
			b.t.Fatalf("%s contains a secret %q:\n%s", what, s[:6]+"…", text)
		}
	}
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// api sends an API request with the admin token.
func (b *bundle) api(method, path, body string) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.apiAs(adminToken, method, path, body)
}

func (b *bundle) apiAs(token, method, path, body string) *httptest.ResponseRecorder {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return b.serve(r)
}

// create makes an integration through the API and returns its id.
func (b *bundle) create(body map[string]any) string {
	b.t.Helper()
	w := b.api("POST", "/api/v1/integrations", jsonOf(b.t, body))
	if w.Code != http.StatusCreated {
		b.t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var in siemsync.Integration
	decode(b.t, w, &in)
	return in.ID
}

func hecBody() map[string]any {
	return map[string]any{
		"account": acct, "name": "Splunk prod", "kind": "splunk_hec",
		"url": "https://splunk.example.com:8088", "token": hecToken, "sources": []string{"audit", "jobs"},
	}
}

func syslogBody() map[string]any {
	return map[string]any{
		"account": acct, "name": "QRadar", "kind": "syslog_cef", "address": "siem.example.com:6514",
		"protocol": "tls", "framing": "octet", "min_severity": 3, "sources": []string{"audit"},
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q, body %s", ct, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
}

type errBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
		Line    int    `json:"line"`
	} `json:"error"`
}

func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code, field string) errBody {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var e errBody
	decode(t, w, &e)
	if e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q field %q", e.Error, code, field)
	}
	return e
}

// certPair makes a client certificate for cn and its key in PEM.
func certPair(t *testing.T, cn string) (certPEM, keyPEM string) {
	_, certPEM, keyPEM = testpki.NewCA(t, cn+" CA").Issue(t, testpki.Leaf{CN: cn, DNS: []string{cn}, Client: true})
	return certPEM, keyPEM
}

// keyBody is the base64 middle of a PEM key: what must never leak.
func keyBody(keyPEM string) string {
	lines := strings.Split(strings.TrimSpace(keyPEM), "\n")
	return lines[1]
}

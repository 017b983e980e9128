package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/internal/version"
	"github.com/siemsync/siemsync/store"
)

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	cases := map[string]func(r *http.Request){
		"no header":    func(r *http.Request) {},
		"wrong token":  func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") },
		"wrong scheme": func(r *http.Request) { r.Header.Set("Authorization", "Basic "+adminToken) },
		"bare token":   func(r *http.Request) { r.Header.Set("Authorization", adminToken) },
		"empty bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") },
		"token prefix": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminToken[:10]) },
		"session only": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "siemsync_session", Value: "x.y"}) },
	}
	var bodies []string
	n := 0
	for name, set := range cases {
		b := setup(t) // a fresh failure count: a few wrong tokens are 401, not yet 429
		for _, ep := range []struct{ method, path string }{
			{"GET", "/api/v1/integrations"}, {"POST", "/api/v1/integrations"}, {"DELETE", "/api/v1/integrations/x"},
			{"GET", "/metrics"}, {"GET", "/api/v1/metrics"}, {"POST", "/api/v1/accounts/" + acct + "/audit"},
		} {
			r := httptest.NewRequest(ep.method, ep.path, strings.NewReader(`{}`))
			// One address per request: wrong tokens from one address are
			// rate-limited (TestAPIAuthRateLimit).
			n++
			r.RemoteAddr = fmt.Sprintf("198.51.100.%d:1234", n)
			set(r)
			w := b.serve(r)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("%s %s %s: status %d", name, ep.method, ep.path, w.Code)
			}
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate", name)
			}
			bodies = append(bodies, w.Body.String())
		}
	}
	// The same answer whatever was wrong: no hint.
	for _, body := range bodies {
		if body != bodies[0] {
			t.Fatalf("401 bodies differ:\n%s\n%s", bodies[0], body)
		}
	}
	if w := setup(t).api("GET", "/api/v1/integrations", ""); w.Code != http.StatusOK {
		t.Fatalf("good token: %d %s", w.Code, w.Body)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, p := range []string{"/healthz", "/api/v1/healthz"} {
		w := b.serve(httptest.NewRequest("GET", p, nil))
		var got struct{ Status, Version string }
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil ||
			got.Status != "ok" || got.Version != version.String() || got.Version == "" {
			t.Fatalf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	b.st.err = errBoom
	if w := b.serve(httptest.NewRequest("GET", "/healthz", nil)); w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "disk") {
		t.Fatalf("store down: %d %s", w.Code, w.Body)
	}
}

func TestAPICreateGetList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if w := b.api("GET", "/api/v1/integrations", ""); strings.TrimSpace(w.Body.String()) != "{\n  \"integrations\": []\n}" {
		t.Fatalf("empty list: %s", w.Body)
	}
	w := b.api("POST", "/api/v1/integrations", jsonOf(t, hecBody()))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var in siemsync.Integration
	decode(t, w, &in)
	if w.Header().Get("Location") != "/api/v1/integrations/"+in.ID {
		t.Errorf("location %q", w.Header().Get("Location"))
	}
	if !in.TokenSet || !in.Enabled || !in.Gzip || in.Sourcetype != "_json" || in.MaxBatchEvents != siemsync.DefaultMaxBatchEvents {
		t.Errorf("created %+v: want the defaults (enabled, gzip, _json, 10000 events)", in)
	}
	if b.st.token(in.ID) != hecToken {
		t.Errorf("token not stored")
	}
	if !strings.Contains(w.Body.String(), `"token_set": true`) {
		t.Errorf("no token_set: %s", w.Body)
	}

	id2 := b.create(syslogBody())
	other := hecBody()
	other["account"], other["name"], other["enabled"] = acct2, "Other", false
	b.create(other)

	w = b.api("GET", "/api/v1/integrations/"+id2, "")
	var sl siemsync.Integration
	decode(t, w, &sl)
	if sl.Kind != siemsync.KindSyslog || sl.Address != "siem.example.com:6514" || sl.MinSeverity != 3 || sl.Framing != "octet" {
		t.Errorf("syslog %+v", sl)
	}

	var list struct{ Integrations []siemsync.Integration }
	decode(t, b.api("GET", "/api/v1/integrations?account="+acct, ""), &list)
	if len(list.Integrations) != 2 {
		t.Fatalf("account filter: %d", len(list.Integrations))
	}
	decode(t, b.api("GET", "/api/v1/integrations", ""), &list)
	if len(list.Integrations) != 3 {
		t.Fatalf("all: %d", len(list.Integrations))
	}
	wantError(t, b.api("GET", "/api/v1/integrations?account=nope", ""), 400, "invalid", "account")
	wantError(t, b.api("GET", "/api/v1/integrations/nope", ""), 404, "not_found", "")

	var accts struct{ Accounts []siemsync.Account }
	decode(t, b.api("GET", "/api/v1/accounts", ""), &accts)
	if len(accts.Accounts) != 2 {
		t.Errorf("accounts %+v", accts)
	}
}

func TestAPICreateValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	certPEM, keyPEM := certPair(t, "client")
	_, otherKey := certPair(t, "other")
	b.secrets = append(b.secrets, keyBody(keyPEM), keyBody(otherKey))

	with := func(base func() map[string]any, kv ...any) string {
		m := base()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1]
		}
		return jsonOf(t, m)
	}
	cases := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"no account", with(hecBody, "account", nil), 400, "invalid", "account"},
		{"bad account", with(hecBody, "account", "acme"), 400, "invalid", "account"},
		{"no name", with(hecBody, "name", "  "), 400, "invalid", "name"},
		{"long name", with(hecBody, "name", strings.Repeat("n", 201)), 400, "invalid", "name"},
		{"no sources", with(hecBody, "sources", []string{}), 400, "invalid", "sources"},
		{"unknown source", with(hecBody, "sources", []string{"audit", "logs"}), 400, "invalid", "sources"},
		{"source twice", with(hecBody, "sources", []string{"audit", "audit"}), 400, "invalid", "sources"},
		{"bad kind", with(hecBody, "kind", "kafka"), 400, "invalid", "kind"},
		{"batch bytes small", with(hecBody, "max_batch_bytes", 10), 400, "invalid", "max_batch_bytes"},
		{"batch events big", with(hecBody, "max_batch_events", 2000000), 400, "invalid", "max_batch_events"},
		{"no url", with(hecBody, "url", nil), 400, "invalid", "url"},
		{"url scheme", with(hecBody, "url", "ftp://splunk"), 400, "invalid", "url"},
		{"url creds", with(hecBody, "url", "https://u:p@splunk:8088"), 400, "invalid", "url"},
		{"url token", with(hecBody, "url", "https://splunk:8088/?token=x"), 400, "invalid", "url"},
		{"no token", with(hecBody, "token", nil), 400, "invalid", "token"},
		{"token spaces", with(hecBody, "token", "a b"), 400, "invalid", "token"},
		{"index newline", with(hecBody, "index", "a\nb"), 400, "invalid", "index"},
		{"sourcetype long", with(hecBody, "sourcetype", strings.Repeat("s", 1025)), 400, "invalid", "sourcetype"},
		{"ack timeout text", with(hecBody, "ack", true, "ack_timeout", "soon"), 400, "invalid", "ack_timeout"},
		{"ack timeout range", with(hecBody, "ack", true, "ack_timeout", "2h"), 400, "invalid", "ack_timeout"},
		{"syslog no address", with(syslogBody, "address", nil), 400, "invalid", "address"},
		{"syslog bad address", with(syslogBody, "address", "siem example.com"), 400, "invalid", "address"},
		{"syslog bad port", with(syslogBody, "address", "siem:99999"), 400, "invalid", "address"},
		{"syslog protocol", with(syslogBody, "protocol", "udp"), 400, "invalid", "protocol"},
		{"syslog framing", with(syslogBody, "framing", "nul"), 400, "invalid", "framing"},
		{"syslog severity", with(syslogBody, "min_severity", 11), 400, "invalid", "min_severity"},
		{"hec severity", with(hecBody, "min_severity", -1), 400, "invalid", "min_severity"},
		{"bad channel", with(hecBody, "channel", "chan-1"), 400, "invalid", "channel"},
		{"splunk url unknown param", with(hecBody, "url", "splunk://s:8088/services/collector/raw?colour=red"), 400, "invalid", "url"},
		{"audit pattern", with(hecBody, "audit_events", []string{`Sign in\`}), 400, "invalid", "audit_events"},
		{"job status", with(syslogBody, "job_statuses", []string{"done"}), 400, "invalid", "job_statuses"},
		{"job types type", with(hecBody, "job_types", "backup"), 400, "invalid", "job_types"},
		{"bad ca", with(hecBody, "ca_pem", "not a cert"), 400, "invalid", "ca_pem"},
		{"ca is a key", with(hecBody, "ca_pem", keyPEM), 400, "invalid", "ca_pem"},
		{"cert without key", with(hecBody, "client_cert_pem", certPEM), 400, "invalid", "client_key_pem"},
		{"key without cert", with(hecBody, "client_key_pem", keyPEM), 400, "invalid", "client_cert_pem"},
		{"bad cert", with(hecBody, "client_cert_pem", "xx", "client_key_pem", keyPEM), 400, "invalid", "client_cert_pem"},
		{"key mismatch", with(hecBody, "client_cert_pem", certPEM, "client_key_pem", otherKey), 400, "invalid", "client_key_pem"},
		{"backfill format", with(hecBody, "backfill_since", "yesterday"), 400, "invalid", "backfill_since"},
		{"backfill future", with(hecBody, "backfill_since", time.Now().Add(time.Hour).Format(time.RFC3339)), 400, "invalid", "backfill_since"},
		{"read-only id", with(hecBody, "id", "x"), 400, "invalid", "id"},
		{"read-only status", with(hecBody, "status", map[string]any{}), 400, "invalid", "status"},
		{"read-only token_set", with(hecBody, "token_set", true), 400, "invalid", "token_set"},
		{"unknown field", with(hecBody, "colour", "red"), 400, "unknown_field", "colour"},
		{"wrong type sources", with(hecBody, "sources", "audit"), 400, "invalid", "sources"},
		{"wrong type name", with(hecBody, "name", 7), 400, "invalid", "name"},
		{"wrong type enabled", with(hecBody, "enabled", "yes"), 400, "invalid", "enabled"},
		{"wrong type batch", with(hecBody, "max_batch_events", 1.5), 400, "invalid", "max_batch_events"},
		{"wrong type ack_timeout", with(hecBody, "ack_timeout", 30), 400, "invalid", "ack_timeout"},
		{"malformed", `{"name": "x",`, 400, "invalid", ""},
		{"syntax", `{"name" "x"}`, 400, "invalid", ""},
		{"not an object", `["x"]`, 400, "invalid", ""},
		{"two objects", jsonOf(t, hecBody()) + `{}`, 400, "invalid", ""},
		{"empty", ` `, 400, "invalid", ""},
		{"too large", `{"name":"` + strings.Repeat("x", admin.MaxJSONBody) + `"}`, 413, "too_large", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/integrations", strings.NewReader(c.body))
			r.Header.Set("Authorization", "Bearer "+adminToken)
			w := b.serve(r)
			e := wantError(t, w, c.status, c.code, c.field)
			if c.field != "" && !strings.Contains(e.Error.Message, c.field) {
				t.Errorf("message %q does not name %s", e.Error.Message, c.field)
			}
		})
	}
	if n := len(b.st.ints); n != 0 {
		t.Fatalf("%d integrations stored by bad requests", n)
	}
}

func TestAPIConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.create(hecBody())
	wantError(t, b.api("POST", "/api/v1/integrations", jsonOf(t, hecBody())), 409, "conflict", "name")
	other := hecBody()
	other["account"] = acct2 // same name in another account is fine
	b.create(other)
}

func TestAPIPatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(hecBody())
	path := "/api/v1/integrations/" + id

	w := b.api("PATCH", path, `{"name":"Renamed","index":"siem"}`)
	var in siemsync.Integration
	decode(t, w, &in)
	if w.Code != 200 || in.Name != "Renamed" || in.Index != "siem" || in.URL != "https://splunk.example.com:8088" || !in.TokenSet {
		t.Fatalf("patch: %d %+v", w.Code, in)
	}
	if b.st.token(id) != hecToken {
		t.Fatal("omitted token did not keep the stored one")
	}
	b.api("PATCH", path, `{"token":""}`)
	if b.st.token(id) != hecToken {
		t.Fatal("empty token did not keep the stored one")
	}
	newToken := "hec-NEW-SECRET-9d8c7b"
	b.secrets = append(b.secrets, newToken)
	if w := b.api("PATCH", path, `{"token":"`+newToken+`"}`); w.Code != 200 {
		t.Fatalf("new token: %d %s", w.Code, w.Body)
	}
	if b.st.token(id) != newToken {
		t.Fatal("token not replaced")
	}

	certPEM, keyPEM := certPair(t, "client")
	b.secrets = append(b.secrets, keyBody(keyPEM))
	decode(t, b.api("PATCH", path, jsonOf(t, map[string]any{"client_cert_pem": certPEM, "client_key_pem": keyPEM})), &in)
	if !in.ClientKeySet || in.ClientCertPEM == "" {
		t.Fatalf("client cert: %+v", in)
	}
	decode(t, b.api("PATCH", path, `{"name":"Again"}`), &in)
	if !in.ClientKeySet {
		t.Fatal("client key lost on an unrelated patch")
	}
	in = siemsync.Integration{}
	decode(t, b.api("PATCH", path, `{"client_cert_pem":""}`), &in)
	if in.ClientKeySet || in.ClientCertPEM != "" {
		t.Fatalf("client cert not removed: %+v", in)
	}

	wantError(t, b.api("PATCH", path, `{"url":"nope"}`), 400, "invalid", "url")
	wantError(t, b.api("PATCH", path, `{"account":"`+acct2+`"}`), 400, "invalid", "account")
	wantError(t, b.api("PATCH", path, `{"backfill_since":"2025-01-01T00:00:00Z"}`), 400, "invalid", "backfill_since")
	wantError(t, b.api("PATCH", path, `{"bogus":1}`), 400, "unknown_field", "bogus")
	wantError(t, b.api("PATCH", path, `{"gzip":"yes"}`), 400, "invalid", "gzip")
	wantError(t, b.api("PATCH", path, ``), 400, "invalid", "")
	wantError(t, b.api("PATCH", "/api/v1/integrations/nope", `{"name":"x"}`), 404, "not_found", "")

	// The kind is fixed, as on the page and the command line: a change is
	// refused and changes nothing; naming the same kind is fine.
	before := b.api("GET", path, "").Body.String()
	w = b.api("PATCH", path, `{"kind":"syslog_cef","address":"siem.example.com:6514","name":"renamed"}`)
	wantError(t, w, 400, "invalid", "kind")
	if !strings.Contains(w.Body.String(), "add a new syslog_cef integration") {
		t.Fatalf("kind change message: %s", w.Body)
	}
	if after := b.api("GET", path, "").Body.String(); after != before {
		t.Fatalf("a refused kind change changed the integration:\n%s\n%s", before, after)
	}
	decode(t, b.api("PATCH", path, `{"kind":"splunk_hec","name":"same kind"}`), &in)
	if in.Kind != siemsync.KindHEC || in.Name != "same kind" || !in.TokenSet {
		t.Fatalf("same-kind patch: %+v", in)
	}
}

// TestAPICreateDefaults: a create with only the required fields gets the
// defaults the CLI and the page give: enabled, both sources, gzip.
func TestAPICreateDefaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := hecBody()
	delete(body, "sources")
	delete(body, "gzip")
	delete(body, "enabled")
	var in siemsync.Integration
	decode(t, b.api("GET", "/api/v1/integrations/"+b.create(body), ""), &in)
	def := siemsync.NewIntegration()
	if !slices.Equal(in.Sources, []string{"audit", "jobs"}) || !slices.Equal(in.Sources, def.Sources) || !in.Enabled || !in.Gzip {
		t.Fatalf("defaults: sources %v enabled %v gzip %v", in.Sources, in.Enabled, in.Gzip)
	}
}

func TestAPIDeleteAndEnabled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(hecBody())
	path := "/api/v1/integrations/" + id

	var in siemsync.Integration
	decode(t, b.api("PUT", path+"/enabled", `{"enabled":false}`), &in)
	if in.Enabled {
		t.Fatal("still enabled")
	}
	decode(t, b.api("PUT", path+"/enabled", `{"enabled":true}`), &in)
	if !in.Enabled {
		t.Fatal("still disabled")
	}
	wantError(t, b.api("PUT", path+"/enabled", `{}`), 400, "invalid", "enabled")
	wantError(t, b.api("PUT", path+"/enabled", `{"enabled":"no"}`), 400, "invalid", "enabled")
	wantError(t, b.api("PUT", path+"/enabled", `{"enabled":true,"x":1}`), 400, "unknown_field", "x")
	wantError(t, b.api("PUT", "/api/v1/integrations/nope/enabled", `{"enabled":true}`), 404, "not_found", "")

	if w := b.api("DELETE", path, ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", w.Code)
	}
	wantError(t, b.api("GET", path, ""), 404, "not_found", "")
	wantError(t, b.api("DELETE", path, ""), 404, "not_found", "")
}

func TestAPIRouting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantError(t, b.api("GET", "/api/v1/nothing", ""), 404, "not_found", "")
	w := b.api("PUT", "/api/v1/integrations", "")
	wantError(t, w, 405, "method_not_allowed", "")
	if !strings.Contains(w.Header().Get("Allow"), "POST") {
		t.Errorf("Allow %q", w.Header().Get("Allow"))
	}
}

func TestAPITest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(hecBody())
	path := "/api/v1/integrations/" + id + "/test"

	var res struct {
		OK    bool
		Steps []siemsync.Step
	}
	decode(t, b.api("POST", path, ""), &res)
	if !res.OK || len(res.Steps) != 2 {
		t.Fatalf("test: %+v", res)
	}
	if got := <-b.tested; got.Token != hecToken {
		t.Fatal("tester did not get the secrets")
	}

	// A failing step, and a message that repeats the token: redacted.
	b.steps = []siemsync.Step{{Name: "url", OK: true}, {Name: "token", OK: false, Message: "token " + hecToken + " is invalid (HEC code 4)"}}
	w := b.api("POST", path, `{"send_test_event":true}`)
	decode(t, w, &res)
	<-b.tested
	if res.OK || !strings.Contains(res.Steps[1].Message, "[redacted]") {
		t.Fatalf("failing test: %+v", res)
	}
	wantError(t, b.api("POST", path, `{"send":true}`), 400, "unknown_field", "send")
	wantError(t, b.api("POST", "/api/v1/integrations/nope/test", ""), 404, "not_found", "")

	nb := setup(t, func(c *admin.Config) { c.Tester = nil })
	nid := nb.create(hecBody())
	wantError(t, nb.api("POST", "/api/v1/integrations/"+nid+"/test", ""), 501, "not_available", "")
}

func TestAPIStatusAndSync(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := hecBody()
	body["insecure_skip_verify"] = true
	id := b.create(body)
	now := time.Now().UTC()
	b.st.mu.Lock()
	b.st.ints[id].Status = siemsync.Status{LastComplete: &now, EventsLastCycle: 42, SetAside: 1, LagSeconds: 12}
	b.st.runs[id] = []store.Run{{ID: 1, Integration: id, Started: now, Finished: &now, Events: 42}}
	b.st.mu.Unlock()

	var st struct {
		siemsync.Status
		Enabled    bool
		RecentRuns []store.Run `json:"recent_runs"`
	}
	decode(t, b.api("GET", "/api/v1/integrations/"+id+"/status", ""), &st)
	if st.EventsLastCycle != 42 || st.SetAside != 1 || len(st.RecentRuns) != 1 || !st.Enabled {
		t.Fatalf("status %+v", st)
	}
	if len(st.Warnings) == 0 || !strings.Contains(st.Warnings[0], "verif") {
		t.Fatalf("no skip-verify warning: %+v", st.Warnings)
	}
	wantError(t, b.api("GET", "/api/v1/integrations/nope/status", ""), 404, "not_found", "")

	sync := "/api/v1/integrations/" + id + "/sync"
	var res struct {
		OK     bool
		Error  string
		Status map[string]any
	}
	decode(t, b.api("POST", sync, ""), &res)
	if !res.OK || res.Status == nil {
		t.Fatalf("sync: %+v", res)
	}
	b.syncer.RunNowFunc = func(ctx context.Context, id string) error {
		return fmt.Errorf("integration %s: %w", id, siemsync.ErrRunning)
	}
	wantError(t, b.api("POST", sync, ""), 409, "running", "")
	b.syncer.RunNowFunc = func(ctx context.Context, id string) error {
		return fmt.Errorf("HEC refused token %s (code 4): check the token", hecToken)
	}
	decode(t, b.api("POST", sync, ""), &res)
	if res.OK || !strings.Contains(res.Error, "code 4") {
		t.Fatalf("failed cycle: %+v", res)
	}
	wantError(t, b.api("POST", "/api/v1/integrations/nope/sync", ""), 404, "not_found", "")
	b.api("PUT", "/api/v1/integrations/"+id+"/enabled", `{"enabled":false}`)
	wantError(t, b.api("POST", sync, ""), 409, "disabled", "")

	nb := setup(t, func(c *admin.Config) { c.Syncer = nil })
	nid := nb.create(hecBody())
	wantError(t, nb.api("POST", "/api/v1/integrations/"+nid+"/sync", ""), 501, "not_available", "")
}

// A sync started by the API keeps running when the client goes away.
func TestAPISyncOutlivesClient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(hecBody())
	got := make(chan error, 1)
	b.syncer.RunNowFunc = func(ctx context.Context, id string) error {
		got <- ctx.Err()
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := httptest.NewRequest("POST", "/api/v1/integrations/"+id+"/sync", nil).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+adminToken)
	b.serve(r)
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("cycle context: %v", err)
		}
	default:
		// The integration lookup saw the cancelled context first: fine too.
	}
}

func TestAPISetAside(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(hecBody())
	now := time.Now().UTC()
	b.st.mu.Lock()
	b.st.setAside[id] = []store.SetAside{
		{ID: 7, Integration: id, Source: "audit", Seq: 12, EventID: "ev-1", Reason: "HEC code 6: invalid data format", Body: []byte(`{"x":1}`), CreatedAt: now},
		{ID: 8, Integration: id, Source: "jobs", Seq: 3, EventID: "ev-2", Reason: "too large", CreatedAt: now},
	}
	b.st.mu.Unlock()
	base := "/api/v1/integrations/" + id + "/setaside"

	var list struct {
		SetAside []map[string]any `json:"set_aside"`
	}
	w := b.api("GET", base, "")
	decode(t, w, &list)
	if len(list.SetAside) != 2 || list.SetAside[0]["event_id"] != "ev-1" || list.SetAside[0]["reason"] == "" {
		t.Fatalf("list %s", w.Body)
	}
	for _, k := range []string{"id", "seq", "event_id", "reason", "created_at"} {
		if _, ok := list.SetAside[0][k]; !ok {
			t.Errorf("no %s in %v", k, list.SetAside[0])
		}
	}
	if strings.Contains(w.Body.String(), "body") {
		t.Errorf("set-aside list carries the event body: %s", w.Body)
	}

	b.syncer.RetryFunc = func(ctx context.Context, id string) (int, int, error) { return 1, 1, nil }
	var rr map[string]int
	decode(t, b.api("POST", base+"/retry", ""), &rr)
	if rr["delivered"] != 1 || rr["remaining"] != 1 {
		t.Fatalf("retry %v", rr)
	}
	b.syncer.RetryFunc = func(ctx context.Context, id string) (int, int, error) { return 0, 0, siemsync.ErrRunning }
	wantError(t, b.api("POST", base+"/retry", ""), 409, "running", "")

	if w := b.api("DELETE", base+"/7", ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	wantError(t, b.api("DELETE", base+"/7", ""), 404, "not_found", "")
	wantError(t, b.api("DELETE", base+"/abc", ""), 404, "not_found", "")
	wantError(t, b.api("GET", "/api/v1/integrations/nope/setaside", ""), 404, "not_found", "")
	wantError(t, b.api("POST", "/api/v1/integrations/nope/setaside/retry", ""), 404, "not_found", "")
}

func TestAPIIngest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := func(path, ct string, body io.Reader) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, body)
		r.Header.Set("Authorization", "Bearer "+adminToken)
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return b.serve(r)
	}
	audit := "/api/v1/accounts/" + acct + "/audit"
	w := post(audit, "application/x-ndjson", strings.NewReader("{\"a\":1}\n{\"a\":2}\n"))
	var res store.IngestResult
	decode(t, w, &res)
	if w.Code != 200 || res.Lines != 2 || res.Stored != 2 {
		t.Fatalf("ingest: %d %s", w.Code, w.Body)
	}
	w = post("/api/v1/accounts/"+acct+"/jobs", "", strings.NewReader("{}\n"))
	if w.Code != 200 {
		t.Fatalf("jobs: %d %s", w.Code, w.Body)
	}

	e := wantError(t, post(audit, "application/x-ndjson", strings.NewReader("{}\n{}\n{\"bad\":1}\n")), 400, "invalid", "time")
	if e.Error.Line != 3 || !strings.Contains(e.Error.Message, "line 3") {
		t.Fatalf("line: %+v", e.Error)
	}
	if b.ing.lines[acct+"/audit"] != 2 {
		t.Fatalf("bad file stored something: %v", b.ing.lines)
	}
	wantError(t, post("/api/v1/accounts/acme/audit", "", strings.NewReader("{}\n")), 400, "invalid", "account")
	wantError(t, post(audit, "application/x-www-form-urlencoded", strings.NewReader("{}")), 415, "unsupported_media_type", "")

	big := io.LimitReader(&repeat{}, admin.MaxNDJSONBody+1)
	wantError(t, post(audit, "application/x-ndjson", big), 413, "too_large", "")

	nb := setup(t, func(c *admin.Config) { c.Ingest = nil })
	r := httptest.NewRequest("POST", audit, strings.NewReader("{}"))
	r.Header.Set("Authorization", "Bearer "+adminToken)
	wantError(t, nb.serve(r), 501, "not_available", "")
}

// TestAPIIngestTurns: at most IngestConcurrency bodies load into the store
// at once (each holds batches of parsed records in memory); the others wait
// on disk for a turn and then load.
func TestAPIIngestTurns(t *testing.T) {
	t.Parallel()
	const turns, requests = 2, 5
	b := setup(t, func(c *admin.Config) { c.IngestConcurrency = turns })
	b.ing.gate = make(chan struct{})
	release := sync.OnceFunc(func() { close(b.ing.gate) })
	defer release()
	codes := make(chan int, requests)
	for range requests {
		go func() {
			r := httptest.NewRequest("POST", "/api/v1/accounts/"+acct+"/audit", strings.NewReader("{\"a\":1}\n"))
			r.Header.Set("Authorization", "Bearer "+adminToken)
			codes <- b.serve(r).Code
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.ing.running.Load() < turns {
		if time.Now().After(deadline) {
			t.Fatalf("%d ingests loading, want %d", b.ing.running.Load(), turns)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a third to start, if it could
	// A client that gives up while it waits for a turn loads nothing.
	ctx, cancel := context.WithCancel(context.Background())
	gone := httptest.NewRequest("POST", "/api/v1/accounts/"+acct+"/audit", strings.NewReader("{\"gone\":1}\n{\"gone\":2}\n")).WithContext(ctx)
	gone.Header.Set("Authorization", "Bearer "+adminToken)
	served := make(chan struct{})
	go func() { defer close(served); b.serve(gone) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-served
	release()
	for range requests {
		if code := <-codes; code != 200 {
			t.Errorf("ingest: HTTP %d", code)
		}
	}
	if m := b.ing.most.Load(); m != turns {
		t.Errorf("%d ingests loaded at once, want %d", m, turns)
	}
	if n := b.ing.lines[acct+"/audit"]; n != requests {
		t.Errorf("%d lines stored, want %d", n, requests)
	}
}

// repeat is an endless stream of 1 KiB lines.
type repeat struct{ n int }

func (r *repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
		if r.n%1024 == 1023 {
			p[i] = '\n'
		}
		r.n++
	}
	return len(p), nil
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(hecBody())
	b.st.mu.Lock()
	b.st.ints[id].Status.LagSeconds = 93
	b.st.mu.Unlock()
	b.metrics.CycleDone(id, "ok")
	b.metrics.ObserveRequest("splunk_hec", 0.02)
	for _, p := range []string{"/metrics", "/api/v1/metrics"} {
		w := b.api("GET", p, "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			t.Fatalf("%s: %d %s", p, w.Code, w.Header())
		}
		for _, want := range []string{
			`siemsync_cycles_total{integration="` + id + `",result="ok"} 1`,
			`siemsync_lag_seconds{integration="` + id + `"} 93`,
			`siemsync_request_duration_seconds_bucket{kind="splunk_hec",le="0.025"} 1`,
			`siemsync_cycle_duration_seconds_count 0`,
		} {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("%s: no %q in\n%s", p, want, w.Body)
			}
		}
	}
	nb := setup(t, func(c *admin.Config) { c.Metrics = nil })
	wantError(t, nb.api("GET", "/metrics", ""), 404, "not_found", "")
}

func TestAPIInternalErrorIsOpaque(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.st.err = errBoom
	w := b.api("GET", "/api/v1/integrations", "")
	wantError(t, w, 500, "internal", "")
	if strings.Contains(w.Body.String(), "disk") {
		t.Fatalf("internal error leaked: %s", w.Body)
	}
}

func TestNewNeedsStoreAndToken(t *testing.T) {
	t.Parallel()
	if _, err := admin.New(admin.Config{}); err == nil {
		t.Fatal("no store: no error")
	}
	if _, err := admin.New(admin.Config{Store: newFakeStore()}); err == nil {
		t.Fatal("no token hash: no error")
	}
}

package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/internal/version"
	"github.com/siemsync/siemsync/store"
)

// browser is a signed-in page session over a bundle.
type browser struct {
	*bundle
	cookie *http.Cookie
	csrf   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func login(t *testing.T, b *bundle) *browser {
	t.Helper()
	return loginAs(t, b, adminToken)
}

// loginAs signs in with an admin token or an account key.
func loginAs(t *testing.T, b *bundle, token string) *browser {
	t.Helper()
	w := b.postLogin(token)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var c *http.Cookie
	for _, ck := range w.Result().Cookies() {
		if ck.Name == "siemsync_session" {
			c = ck
		}
	}
	if c == nil {
		t.Fatal("no session cookie")
	}
	br := &browser{bundle: b, cookie: c}
	page := br.get("/")
	m := csrfRE.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatalf("no csrf token on the index page:\n%s", page.Body)
	}
	br.csrf = m[1]
	return br
}

func (b *bundle) postLogin(token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.serve(r)
}

func (br *browser) get(path string) *httptest.ResponseRecorder {
	br.t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	r.AddCookie(br.cookie)
	return br.serve(r)
}

// post sends a urlencoded form with the session's CSRF token.
func (br *browser) post(path string, v url.Values) *httptest.ResponseRecorder {
	br.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if _, ok := v["csrf"]; !ok {
		v.Set("csrf", br.csrf)
	}
	r := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.AddCookie(br.cookie)
	return br.serve(r)
}

// postMultipart sends the add/edit form as the browser does, with files.
func (br *browser) postMultipart(path string, v url.Values, files map[string]string) *httptest.ResponseRecorder {
	br.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := v["csrf"]; !ok {
		v.Set("csrf", br.csrf)
	}
	for k, vs := range v {
		for _, x := range vs {
			_ = mw.WriteField(k, x)
		}
	}
	for k, content := range files {
		fw, _ := mw.CreateFormFile(k, k+".pem")
		_, _ = fw.Write([]byte(content))
	}
	_ = mw.Close()
	r := httptest.NewRequest("POST", path, &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.AddCookie(br.cookie)
	return br.serve(r)
}

func hecForm() url.Values {
	return url.Values{
		"account": {acct}, "name": {"Splunk prod"}, "kind": {"splunk_hec"}, "enabled": {"on"},
		"source_audit": {"on"}, "source_jobs": {"on"}, "url": {"https://splunk.example.com:8088"},
		"token": {hecToken}, "sourcetype": {"_json"}, "gzip": {"on"}, "ack_timeout": {"5m"},
		"protocol": {"tls"}, "framing": {"octet"}, "min_severity": {"0"},
		"max_batch_bytes": {"4194304"}, "max_batch_events": {"10000"},
	}
}

func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, prefix string) string {
	t.Helper()
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), prefix) {
		t.Fatalf("want redirect to %s, got %d %q:\n%s", prefix, w.Code, w.Header().Get("Location"), w.Body)
	}
	return w.Header().Get("Location")
}

func wantBody(t *testing.T, w *httptest.ResponseRecorder, parts ...string) {
	t.Helper()
	body := html.UnescapeString(w.Body.String())
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Fatalf("page (status %d) lacks %q:\n%s", w.Code, p, body)
		}
	}
}

func TestPageLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *admin.Config) { c.SecureCookies = true })
	if w := b.serve(httptest.NewRequest("GET", "/", nil)); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Fatalf("anonymous index: %d", w.Code)
	}
	w := b.serve(httptest.NewRequest("GET", "/login", nil))
	wantBody(t, w, "Admin token or account key", `type="password"`)
	footer := `<footer class="wrap footer">siemsync ` + version.String() + `</footer>`
	if strings.Contains(w.Body.String(), footer) {
		t.Fatal("the sign-in page shows the version to anyone")
	}

	w = b.postLogin("wrong")
	if w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
		t.Fatalf("wrong token: %d %v", w.Code, w.Result().Cookies())
	}
	wantBody(t, w, "That admin token or account key is not valid.")
	if w := b.postLogin(""); w.Code != http.StatusUnauthorized {
		t.Fatalf("empty token: %d", w.Code)
	}

	br := login(t, b)
	c := br.cookie
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.MaxAge != int(admin.SessionTTL/time.Second) {
		t.Fatalf("cookie %+v", c)
	}
	if strings.Contains(c.Value, adminToken) {
		t.Fatal("cookie carries the token")
	}
	wantBody(t, br.get("/"), footer)
	if w := br.get("/login"); w.Code != http.StatusSeeOther {
		t.Fatalf("signed-in login page: %d", w.Code)
	}

	// A forged or altered cookie is no session.
	flip := func(b byte) string {
		if b == 'A' {
			return "B"
		}
		return "A"
	}
	for _, v := range []string{"x", c.Value + "x", flip(c.Value[0]) + c.Value[1:], c.Value[:len(c.Value)-1] + flip(c.Value[len(c.Value)-1])} {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: "siemsync_session", Value: v})
		if w := b.serve(r); w.Code != http.StatusSeeOther {
			t.Fatalf("forged cookie %q: %d", v, w.Code)
		}
	}

	// Logout ends the session for good, even if the cookie is replayed.
	wantRedirect(t, br.post("/logout", nil), "/login")
	if w := br.get("/"); w.Code != http.StatusSeeOther {
		t.Fatalf("after logout: %d", w.Code)
	}
}

func TestPageSessionExpires(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	b := setup(t, func(c *admin.Config) { c.Now = func() time.Time { return clock() } })
	br := login(t, b)
	clock = func() time.Time { return now.Add(admin.SessionTTL + time.Second) }
	if w := br.get("/"); w.Code != http.StatusSeeOther {
		t.Fatalf("expired session: %d", w.Code)
	}
}

func TestPageLoginRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := 0; i < 10; i++ {
		if w := b.postLogin("wrong"); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, w.Code)
		}
	}
	if w := b.postLogin(adminToken); w.Code != http.StatusTooManyRequests {
		t.Fatalf("after 10 failures: %d", w.Code)
	}
}

func TestPageCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)
	id := b.create(hecBody())
	other := login(t, b) // another session: its token does not fit this one

	for name, v := range map[string]url.Values{
		"missing":       {"csrf": {""}},
		"wrong":         {"csrf": {"AAAA"}},
		"other session": {"csrf": {other.csrf}},
	} {
		for _, path := range []string{"/integrations/" + id + "/enabled", "/integrations/" + id + "/delete", "/integrations/new", "/logout"} {
			v.Set("enabled", "false")
			w := br.post(path, v)
			if w.Code != http.StatusForbidden {
				t.Fatalf("%s csrf on %s: %d", name, path, w.Code)
			}
		}
	}
	in, _ := b.st.GetIntegration(context.Background(), id, false)
	if !in.Enabled {
		t.Fatal("a refused form changed the integration")
	}

	// A cross-site request is refused even with the right token.
	r := httptest.NewRequest("POST", "/integrations/"+id+"/enabled", strings.NewReader("csrf="+url.QueryEscape(br.csrf)+"&enabled=false"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(br.cookie)
	if w := b.serve(r); w.Code != http.StatusForbidden {
		t.Fatalf("cross-site: %d", w.Code)
	}
	// No session: 401, nothing changed.
	r = httptest.NewRequest("POST", "/integrations/"+id+"/enabled", strings.NewReader("enabled=false"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if w := b.serve(r); w.Code != http.StatusUnauthorized {
		t.Fatalf("no session: %d", w.Code)
	}
	// The right token works.
	wantRedirect(t, br.post("/integrations/"+id+"/enabled", url.Values{"enabled": {"false"}}), "/")
}

func TestPageCreateEdit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)
	caPEM, _ := certPair(t, "ca.example.com")
	certPEM, keyPEM := certPair(t, "client")
	b.secrets = append(b.secrets, keyBody(keyPEM))

	w := br.get("/integrations/new?account=" + acct)
	wantBody(t, w, "Add integration", `name="token"`, `type="password"`, "Skip certificate verification", "Backfill since",
		`enctype="multipart/form-data"`, `value="syslog_cef"`)

	// A validation error: shown at the field, what was typed kept, the
	// token not echoed.
	f := hecForm()
	f.Set("url", "splunk.example.com")
	f.Set("name", "My <Splunk>")
	w = br.postMultipart("/integrations/new", f, nil)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("invalid form: %d", w.Code)
	}
	wantBody(t, w, `id="url" name="url" type="url" value="splunk.example.com"`, `aria-invalid="true" aria-describedby="url-error"`,
		`id="url-error">HEC URL must be an http:// or https:// URL`, `value="My <Splunk>"`, "token and key you typed were not kept")
	if len(b.st.ints) != 0 {
		t.Fatal("invalid form stored an integration")
	}

	// Each kind of field error lands on its field.
	for field, mutate := range map[string]func(url.Values){
		"name":             func(v url.Values) { v.Set("name", "") },
		"sources":          func(v url.Values) { v.Del("source_audit"); v.Del("source_jobs") },
		"token":            func(v url.Values) { v.Del("token") },
		"max_batch_events": func(v url.Values) { v.Set("max_batch_events", "lots") },
		"max_batch_bytes":  func(v url.Values) { v.Set("max_batch_bytes", "5") },
		"ack_timeout":      func(v url.Values) { v.Set("ack_timeout", "soon") },
		"backfill_since":   func(v url.Values) { v.Set("backfill_since", "yesterday") },
		"ca_pem":           func(v url.Values) { v.Set("ca_pem", "junk") },
		"client_key_pem":   func(v url.Values) { v.Set("client_cert_pem", certPEM) },
		"account":          func(v url.Values) { v.Set("account", "acme") },
		"address":          func(v url.Values) { v.Set("kind", "syslog_cef") },
		"kind":             func(v url.Values) { v.Set("kind", "kafka") },
	} {
		v := hecForm()
		mutate(v)
		w := br.postMultipart("/integrations/new", v, nil)
		if w.Code != http.StatusBadRequest {
			t.Fatalf("%s: %d", field, w.Code)
		}
		wantBody(t, w, `id="`+field+`-error"`)
	}

	// Fixed: created, with the CA from an uploaded file.
	f.Set("url", "https://splunk.example.com:8088")
	w = br.postMultipart("/integrations/new", f, map[string]string{"ca_pem_file": caPEM})
	loc := wantRedirect(t, w, "/integrations/")
	id := strings.TrimPrefix(loc, "/integrations/")
	in, err := b.st.GetIntegration(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	if in.Token != hecToken || in.CAPEM != strings.TrimSpace(caPEM) || !in.Gzip || !in.Enabled || in.Name != "My <Splunk>" {
		t.Fatalf("created %+v", in)
	}
	w = br.get(loc)
	wantBody(t, w, "My <Splunk> was added", "••••••••", "https://splunk.example.com:8088", "verified with a custom CA")

	// A duplicate name is an error at the name field.
	w = br.postMultipart("/integrations/new", f, nil)
	wantBody(t, w, `id="name-error">Name an integration with this name already exists`)

	// Edit: blank token keeps it; a client certificate and key are added.
	w = br.get("/integrations/" + id + "/edit")
	wantBody(t, w, "Save changes", "saved — leave blank to keep it")
	e := hecForm()
	e.Del("token")
	e.Set("name", "Splunk EU")
	e.Set("client_cert_pem", certPEM)
	w = br.postMultipart("/integrations/"+id+"/edit", e, map[string]string{"client_key_pem_file": keyPEM})
	wantRedirect(t, w, "/integrations/"+id)
	in, _ = b.st.GetIntegration(context.Background(), id, true)
	if in.Token != hecToken || in.Name != "Splunk EU" || in.ClientKeyPEM != strings.TrimSpace(keyPEM) {
		t.Fatalf("edited %+v", in)
	}
	w = br.get("/integrations/" + id + "/edit")
	wantBody(t, w, "Remove the client certificate and key", `name="kind" value="splunk_hec" checked hidden`,
		"fixed: for another destination, add a new integration")
	if strings.Contains(w.Body.String(), `value="syslog_cef"`) {
		t.Fatal("the edit form offers another kind")
	}

	// A kind change posted anyway is refused at the kind field, as by the
	// API and the CLI, and nothing changes.
	k := hecForm()
	k.Set("kind", "syslog_cef")
	k.Set("address", "siem.example.com:6514")
	w = br.postMultipart("/integrations/"+id+"/edit", k, nil)
	wantBody(t, w, `id="kind-error"`, "cannot change from splunk_hec to syslog_cef")
	if in, _ := b.st.GetIntegration(context.Background(), id, true); in.Kind != siemsync.KindHEC || in.Token != hecToken || in.Address != "" {
		t.Fatalf("a refused kind change changed the integration: %+v", in)
	}

	// An edit with an error keeps the stored token and key untouched.
	e.Set("url", "")
	w = br.postMultipart("/integrations/"+id+"/edit", e, nil)
	wantBody(t, w, `id="url-error"`)
	if b.st.token(id) != hecToken {
		t.Fatal("token changed by a failed edit")
	}

	// Remove the client certificate.
	e.Set("url", "https://splunk.example.com:8088")
	e.Set("remove_client_cert", "on")
	wantRedirect(t, br.postMultipart("/integrations/"+id+"/edit", e, nil), "/integrations/"+id)
	in, _ = b.st.GetIntegration(context.Background(), id, false)
	if in.ClientCertPEM != "" || in.ClientKeySet {
		t.Fatalf("client cert not removed: %+v", in)
	}

	// A syslog integration through the form.
	s := url.Values{"account": {acct}, "name": {"QRadar"}, "kind": {"syslog_cef"}, "source_audit": {"on"},
		"address": {"siem.example.com:6514"}, "protocol": {"tcp"}, "framing": {"lf"}, "min_severity": {"5"},
		"max_batch_bytes": {"4194304"}, "max_batch_events": {"10000"}}
	loc = wantRedirect(t, br.postMultipart("/integrations/new", s, nil), "/integrations/")
	in, _ = b.st.GetIntegration(context.Background(), strings.TrimPrefix(loc, "/integrations/"), false)
	if in.Kind != siemsync.KindSyslog || in.Protocol != "tcp" || in.Framing != "lf" || in.MinSeverity != 5 || in.Enabled {
		t.Fatalf("syslog %+v", in)
	}
	wantBody(t, br.get(loc), "siem.example.com:6514", "newline framing")

	wantBody(t, br.get("/integrations/nope/edit"), "does not exist")
}

func TestPageIndexAndActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)
	w := br.get("/")
	wantBody(t, w, "No accounts yet")

	body := hecBody()
	body["insecure_skip_verify"] = true
	id := b.create(body)
	other := hecBody()
	other["account"], other["name"] = acct2, "Elastic"
	b.create(other)
	now := time.Now().UTC()
	b.st.mu.Lock()
	b.st.ints[id].Status = siemsync.Status{LastComplete: &now, EventsLastCycle: 1234, LastError: &now,
		ErrorMessage: "HEC refused the token (code 4)", SetAside: 1, LagSeconds: 75}
	b.st.runs[id] = []store.Run{
		{ID: 1, Started: now.Add(-10 * time.Minute), Finished: &now, Events: 800},
		{ID: 2, Started: now.Add(-5 * time.Minute), Finished: &now, Error: "timeout <b>"},
	}
	b.st.setAside[id] = []store.SetAside{{ID: 5, Integration: id, Source: "audit", Seq: 9, EventID: "ev-9", Reason: "HEC code 6", CreatedAt: now}}
	b.st.mu.Unlock()

	w = br.get("/")
	wantBody(t, w, "Splunk prod", "Elastic", acct, acct2, "1\u202f234", "1 min 15 s", "HEC refused the token (code 4)",
		"certificate verification is off", `role="switch" aria-checked="true"`, "<svg class=\"chart\"", "failed after 0 events: timeout <b>")
	if strings.Contains(w.Body.String(), "timeout <b>") {
		t.Fatal("run error not escaped in the chart")
	}

	// Toggle off and on.
	wantRedirect(t, br.post("/integrations/"+id+"/enabled", url.Values{"enabled": {"false"}, "next": {"/#i-" + id}}), "/#i-"+id)
	if in, _ := b.st.GetIntegration(context.Background(), id, false); in.Enabled {
		t.Fatal("not disabled")
	}
	wantBody(t, br.get("/"), "is disabled", `aria-checked="false"`)
	wantRedirect(t, br.post("/integrations/"+id+"/enabled", url.Values{"enabled": {"true"}, "next": {"https://evil.example/"}}), "/")
	if in, _ := b.st.GetIntegration(context.Background(), id, false); !in.Enabled {
		t.Fatal("not enabled")
	}

	// Test connection: the steps show on the detail page.
	b.steps = []siemsync.Step{{Name: "dns", OK: true, Message: "resolved"}, {Name: "token", OK: false, Message: "invalid token " + hecToken}}
	wantRedirect(t, br.post("/integrations/"+id+"/test", nil), "/integrations/"+id+"#test")
	<-b.tested
	w = br.get("/integrations/" + id)
	wantBody(t, w, "Connection test: failed", "resolved", "invalid token [redacted]")
	// Shown once.
	if strings.Contains(br.get("/integrations/"+id).Body.String(), "Connection test") {
		t.Fatal("test result shown twice")
	}

	// Sync now: complete, running, failed.
	b.syncer.RunNowFunc = func(_ context.Context, id string) error {
		b.st.mu.Lock()
		defer b.st.mu.Unlock()
		b.st.runs[id] = append(b.st.runs[id], store.Run{ID: 3, Started: now, Finished: &now, Events: 1234, SetAside: 2})
		return nil
	}
	wantRedirect(t, br.post("/integrations/"+id+"/sync", url.Values{"next": {"/integrations/" + id}}), "/integrations/"+id)
	wantBody(t, br.get("/integrations/"+id), "Sync complete: 1\u202f234 events sent; 2 set aside")
	b.syncer.RunNowFunc = func(context.Context, string) error { return siemsync.ErrRunning }
	br.post("/integrations/"+id+"/sync", nil)
	wantBody(t, br.get("/"), "already running")
	b.syncer.RunNowFunc = func(context.Context, string) error { return fmt.Errorf("token %s refused", hecToken) }
	br.post("/integrations/"+id+"/sync", nil)
	wantBody(t, br.get("/"), "The cycle failed: token [redacted] refused")

	// Set-aside events: listed, retried, dropped.
	w = br.get("/integrations/" + id)
	wantBody(t, w, "Set-aside events", "ev-9", "HEC code 6", "Retry all", "/setaside/5/drop")
	b.syncer.RetryFunc = func(context.Context, string) (int, int, error) { return 1, 0, nil }
	wantRedirect(t, br.post("/integrations/"+id+"/setaside/retry", nil), "/integrations/"+id+"#setaside")
	wantBody(t, br.get("/integrations/"+id), "1 set-aside events delivered.")
	wantRedirect(t, br.post("/integrations/"+id+"/setaside/5/drop", nil), "/integrations/"+id+"#setaside")
	wantBody(t, br.get("/integrations/"+id), "Set-aside event dropped.")
	if sa, _ := b.st.ListSetAside(context.Background(), id); len(sa) != 0 {
		t.Fatal("not dropped")
	}
	wantBody(t, br.get("/integrations/"+id), "None. Events the destination")

	// Delete with confirmation.
	wantBody(t, br.get("/integrations/"+id+"/delete"), "Delete Splunk prod?", "cannot be undone")
	wantRedirect(t, br.post("/integrations/"+id+"/delete", nil), "/")
	wantBody(t, br.get("/"), "Splunk prod was deleted.")
	if _, err := b.st.GetIntegration(context.Background(), id, false); err == nil {
		t.Fatal("not deleted")
	}
	if w := br.get("/integrations/" + id); w.Code != http.StatusNotFound {
		t.Fatalf("deleted detail: %d", w.Code)
	}
	if w := br.post("/integrations/"+id+"/delete", nil); w.Code != http.StatusNotFound {
		t.Fatalf("delete again: %d", w.Code)
	}
}

func TestPageHeadersAndAssets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)
	w := br.get("/")
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "DENY",
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
	} {
		if !strings.Contains(w.Header().Get(k), want) {
			t.Errorf("%s: %q", k, w.Header().Get(k))
		}
	}
	m := regexp.MustCompile(`/static/app\.css\?v=([0-9a-f]+)`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no versioned stylesheet link")
	}
	for path, ct := range map[string]string{"/static/app.css?v=" + m[1]: "text/css", "/static/app.js": "javascript", "/static/favicon.svg": "image/svg+xml"} {
		w := b.serve(httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), ct) {
			t.Errorf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	if w := b.serve(httptest.NewRequest("GET", "/static/app.css?v="+m[1], nil)); !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("versioned asset cache: %q", w.Header().Get("Cache-Control"))
	}
	if w := br.get("/nothing-here"); w.Code != http.StatusNotFound {
		t.Errorf("unknown page: %d", w.Code)
	}
}

func TestPageOversizeForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)
	f := hecForm()
	w := br.postMultipart("/integrations/new", f, map[string]string{"ca_pem_file": strings.Repeat("x", admin.MaxFormBody)})
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize form: %d", w.Code)
	}
	w = br.postMultipart("/integrations/new", f, map[string]string{"ca_pem_file": strings.Repeat("x", 300<<10)})
	wantBody(t, w, `id="ca_pem-error">CA certificate file is larger than 256 KiB`)
}

func TestPageStoreErrorIsOpaque(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)
	b.st.err = errBoom
	w := br.get("/")
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "disk") {
		t.Fatalf("store error: %d %s", w.Code, w.Body)
	}
}

// TestPageNextStaysOnSite: the "next" of a page action is followed only
// when it is a path of this site; what a browser would read as another
// host (tab or line break dropped, backslash read as slash) is not.
func TestPageNextStaysOnSite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)
	id := b.create(hecBody())
	for next, want := range map[string]string{
		"/#i-" + id:              "/#i-" + id,
		"/integrations/" + id:    "/integrations/" + id,
		"/\t/evil.example":       "/",
		"/\n/evil.example":       "/",
		"/ /evil.example":        "/",
		"/\\evil.example":        "/",
		"/x\\..\\\\evil.example": "/",
		"//evil.example":         "/",
		"https://evil.example/":  "/",
		"/%09/evil.example":      "/%09/evil.example", // escaped: a path, which the browser keeps
		"javascript:alert(1)":    "/",
		"/\x00/evil.example":     "/",
		"/\u3000/evil.example":   "/",
	} {
		w := br.post("/integrations/"+id+"/enabled", url.Values{"enabled": {"true"}, "next": {next}})
		if got := w.Header().Get("Location"); w.Code != http.StatusSeeOther || got != want {
			t.Errorf("next %q: %d to %q, want %q", next, w.Code, got, want)
		}
	}
}

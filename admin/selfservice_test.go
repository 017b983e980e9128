package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

// selfService is an admin server on the real store and the real ingest,
// with two accounts, an integration in each, a key of each, and a revoked
// key of account A.
type selfService struct {
	*bundle
	db                     *sqlite.DB
	intA, intB             string
	keyA, keyB, keyRevoked string
	addr                   atomic.Int32
}

func setupSelfService(t *testing.T) *selfService {
	t.Helper()
	db, _ := openStore(t)
	b := setup(t, func(c *admin.Config) {
		c.Store, c.Ingest, c.Egress = db, ingestAdapter{db}, "203.0.113.0/28\n2001:db8::/64"
		c.Preview, c.Replays = &fakePreviewer{body: "{}\n"}, &fakeReplays{m: map[string]store.Replay{}}
	})
	ss := &selfService{bundle: b, db: db}
	for _, a := range []string{acct, acct2} {
		w := ss.req(adminToken, "POST", "/api/v1/accounts/"+a+"/audit",
			`{"id":"seed-`+a[:4]+`","time":"2026-12-01T10:00:00Z","account":"`+a+`","event":"Sign in"}`+"\n")
		if w.Code != http.StatusOK {
			t.Fatalf("seed %s: %d %s", a, w.Code, w.Body)
		}
	}
	ss.intA = b.create(hecBody())
	bB := hecBody()
	bB["account"], bB["name"] = acct2, "Other customer's Splunk"
	ss.intB = b.create(bB)
	ss.keyA = ss.newKey(acct, "portal-a")
	ss.keyB = ss.newKey(acct2, "portal-b")
	ss.keyRevoked = ss.newKey(acct, "old")
	var list struct{ Keys []store.AccountKey }
	decode(t, ss.req(adminToken, "GET", "/api/v1/accounts/"+acct+"/keys", ""), &list)
	for _, k := range list.Keys {
		if k.Name == "old" {
			if w := ss.req(adminToken, "DELETE", "/api/v1/accounts/"+acct+"/keys/"+k.ID, ""); w.Code != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", w.Code, w.Body)
			}
		}
	}
	return ss
}

type ingestAdapter struct{ db *sqlite.DB }

func (i ingestAdapter) Audit(ctx context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return ingest.Audit(ctx, i.db, r, ingest.Options{Account: account})
}

func (i ingestAdapter) Jobs(ctx context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return ingest.Jobs(ctx, i.db, r, ingest.Options{Account: account})
}

// newKey creates a key as the operator; the key joins the strings no
// later response or log line may contain.
func (ss *selfService) newKey(account, name string) string {
	ss.t.Helper()
	w := ss.req(adminToken, "POST", "/api/v1/accounts/"+account+"/keys", `{"name":"`+name+`"}`)
	if w.Code != http.StatusCreated {
		ss.t.Fatalf("create key: %d %s", w.Code, w.Body)
	}
	var k struct {
		ID, Name, Key string
	}
	decode(ss.t, w, &k)
	if !strings.HasPrefix(k.Key, admin.KeyPrefix) || k.ID == "" || k.Name != name {
		ss.t.Fatalf("created key %+v", k)
	}
	ss.secrets = append(ss.secrets, k.Key)
	return k.Key
}

// req sends an API request from an address of its own, so that the wrong
// tokens of a table do not trip the rate limit.
func (ss *selfService) req(token, method, path, body string) *httptest.ResponseRecorder {
	ss.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	n := ss.addr.Add(1)
	r.RemoteAddr = fmt.Sprintf("192.0.2.%d:4000", 1+n%250)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return ss.serve(r)
}

// principals of the table, in column order.
var principals = []string{"admin", "own key", "other key", "revoked key", "no key"}

func (ss *selfService) token(who string) string {
	switch who {
	case "admin":
		return adminToken
	case "own key":
		return ss.keyA
	case "other key":
		return ss.keyB
	case "revoked key":
		return ss.keyRevoked
	}
	return ""
}

// TestAccountKeyScope is every endpoint of the API against every kind of
// caller: the admin token, a key of the integration's account (A), a key of
// another account (B), a revoked key of A, and no key.
func TestAccountKeyScope(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	A, iA := acct, ss.intA
	n := 0
	uniq := func() string { n++; return fmt.Sprint(n) }
	createBody := func() string {
		b := hecBody()
		b["name"] = "Created " + uniq()
		return jsonOf(t, b)
	}
	freshIntegration := func() string {
		b := hecBody()
		b["name"] = "To delete " + uniq()
		return ss.create(b)
	}
	freshKey := func() string {
		var k struct{ ID string }
		w := ss.req(adminToken, "POST", "/api/v1/accounts/"+A+"/keys", `{"name":"k`+uniq()+`"}`)
		decode(t, w, &k)
		var key struct{ Key string }
		decode(t, w, &key)
		ss.secrets = append(ss.secrets, key.Key)
		return k.ID
	}
	auditLine := func() string {
		return `{"id":"r` + uniq() + `","time":"2026-12-01T10:00:00Z","account":"` + A + `","event":"Sign in"}` + "\n"
	}
	jobLine := func() string {
		return `{"job":"00000000-0000-4000-8000-0000000000` + fmt.Sprintf("%02d", n%100) + `","account":"` + A + `","status":"scheduled"}` + "\n"
	}
	const u, f = http.StatusUnauthorized, http.StatusForbidden
	for _, tc := range []struct {
		method, path string
		body         func() string
		prepare      func() string // replaces {x} in path, per request
		want         [5]int        // admin, own, other, revoked, none
	}{
		{"GET", "/api/v1/integrations", nil, nil, [5]int{200, 200, 200, u, u}},
		{"POST", "/api/v1/integrations", createBody, nil, [5]int{201, 201, f, u, u}},
		{"POST", "/api/v1/integrations/test", createBody, nil, [5]int{200, 200, f, u, u}},
		{"GET", "/api/v1/integrations/" + iA, nil, nil, [5]int{200, 200, 404, u, u}},
		{"PATCH", "/api/v1/integrations/" + iA, func() string { return `{"index":"i` + uniq() + `"}` }, nil, [5]int{200, 200, 404, u, u}},
		{"PUT", "/api/v1/integrations/" + iA + "/enabled", func() string { return `{"enabled":true}` }, nil, [5]int{200, 200, 404, u, u}},
		{"POST", "/api/v1/integrations/" + iA + "/test", nil, nil, [5]int{200, 200, 404, u, u}},
		{"GET", "/api/v1/integrations/" + iA + "/status", nil, nil, [5]int{200, 200, 404, u, u}},
		{"POST", "/api/v1/integrations/" + iA + "/sync", nil, nil, [5]int{200, 200, 404, u, u}},
		{"GET", "/api/v1/integrations/" + iA + "/setaside", nil, nil, [5]int{200, 200, 404, u, u}},
		{"POST", "/api/v1/integrations/" + iA + "/setaside/retry", nil, nil, [5]int{200, 200, 404, u, u}},
		{"GET", "/api/v1/integrations/" + iA + "/preview", nil, nil, [5]int{200, 200, 404, u, u}},
		{"POST", "/api/v1/integrations/preview", createBody, nil, [5]int{200, 200, f, u, u}},
		// The admin's replay runs, so the own key's start is a conflict.
		{"POST", "/api/v1/integrations/" + iA + "/replay", func() string { return `{"since":"2026-12-01T00:00:00Z"}` }, nil, [5]int{202, 409, 404, u, u}},
		{"GET", "/api/v1/integrations/" + iA + "/replay", nil, nil, [5]int{200, 200, 404, u, u}},
		{"DELETE", "/api/v1/integrations/" + iA + "/replay", nil, nil, [5]int{200, 409, 404, u, u}},
		{"DELETE", "/api/v1/integrations/{x}", nil, freshIntegration, [5]int{204, 204, 404, u, u}},
		// No such set-aside event for anyone; the other key is stopped earlier.
		{"DELETE", "/api/v1/integrations/" + iA + "/setaside/1", nil, nil, [5]int{404, 404, 404, u, u}},
		{"GET", "/api/v1/accounts", nil, nil, [5]int{200, f, f, u, u}},
		{"GET", "/api/v1/accounts/" + A, nil, nil, [5]int{200, 200, 404, u, u}},
		{"PATCH", "/api/v1/accounts/" + A, func() string { return `{"siem_enabled":true}` }, nil, [5]int{200, f, f, u, u}},
		{"POST", "/api/v1/accounts/" + A + "/audit", auditLine, nil, [5]int{200, f, f, u, u}},
		{"POST", "/api/v1/accounts/" + A + "/jobs", jobLine, nil, [5]int{200, f, f, u, u}},
		{"GET", "/api/v1/accounts/" + A + "/keys", nil, nil, [5]int{200, f, f, u, u}},
		{"POST", "/api/v1/accounts/" + A + "/keys", func() string { return `{"name":"n` + uniq() + `"}` }, nil, [5]int{201, f, f, u, u}},
		{"DELETE", "/api/v1/accounts/" + A + "/keys/{x}", nil, freshKey, [5]int{204, f, f, u, u}},
		{"GET", "/api/v1/metrics", nil, nil, [5]int{200, f, f, u, u}},
		{"GET", "/metrics", nil, nil, [5]int{200, f, f, u, u}},
		{"GET", "/api/v1/egress", nil, nil, [5]int{200, 200, 200, u, u}},
	} {
		for i, who := range principals {
			path := tc.path
			if tc.prepare != nil {
				path = strings.Replace(path, "{x}", tc.prepare(), 1)
			}
			body := ""
			if tc.body != nil {
				body = tc.body()
			}
			w := ss.req(ss.token(who), tc.method, path, body)
			if w.Code != tc.want[i] {
				t.Errorf("%s %s as %s: %d, want %d: %s", tc.method, tc.path, who, w.Code, tc.want[i], w.Body)
			}
		}
	}
}

// TestAccountKeySeesItsOwnOnly checks the content of what a key gets: its
// account's integrations only, nothing of the other account anywhere.
func TestAccountKeySeesItsOwnOnly(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	var list struct{ Integrations []siemsync.Integration }
	w := ss.req(ss.keyA, "GET", "/api/v1/integrations", "")
	decode(t, w, &list)
	if len(list.Integrations) != 1 || list.Integrations[0].ID != ss.intA {
		t.Fatalf("key A lists %+v", list.Integrations)
	}
	if strings.Contains(w.Body.String(), acct2) || strings.Contains(w.Body.String(), ss.intB) {
		t.Fatalf("key A's list names account B: %s", w.Body)
	}
	wantError(t, ss.req(ss.keyA, "GET", "/api/v1/integrations?account="+acct2, ""), 403, "forbidden", "")

	// Another account's integration is exactly as absent as an unknown one.
	other := ss.req(ss.keyA, "GET", "/api/v1/integrations/"+ss.intB, "")
	unknown := ss.req(ss.keyA, "GET", "/api/v1/integrations/00000000-0000-4000-8000-000000000000", "")
	if other.Code != 404 || other.Body.String() != unknown.Body.String() {
		t.Fatalf("other account's integration: %d %s; unknown: %s", other.Code, other.Body, unknown.Body)
	}

	// A create without account is for the key's account; naming another is a 403.
	b := hecBody()
	delete(b, "account")
	b["name"] = "Mine"
	var created siemsync.Integration
	w = ss.req(ss.keyA, "POST", "/api/v1/integrations", jsonOf(t, b))
	decode(t, w, &created)
	if w.Code != 201 || created.Account != acct {
		t.Fatalf("create without account: %d %+v", w.Code, created)
	}
	b["account"], b["name"] = acct2, "Theirs"
	wantError(t, ss.req(ss.keyA, "POST", "/api/v1/integrations", jsonOf(t, b)), 403, "forbidden", "")
	if list, _ := ss.db.ListIntegrations(t.Context(), acct2); len(list) != 1 {
		t.Fatalf("account B has %d integrations after a refused create", len(list))
	}

	var acc siemsync.Account
	decode(t, ss.req(ss.keyA, "GET", "/api/v1/accounts/"+acct, ""), &acc)
	if acc.ID != acct || !acc.SIEMEnabled {
		t.Fatalf("own account %+v", acc)
	}
	var eg map[string]string
	decode(t, ss.req(ss.keyA, "GET", "/api/v1/egress", ""), &eg)
	if eg["egress_addresses"] != "203.0.113.0/28\n2001:db8::/64" {
		t.Fatalf("egress %v", eg)
	}
}

// TestTestUnsavedStoresNothing: POST /integrations/test validates like a
// create, runs the test with the given token, and stores nothing.
func TestTestUnsavedStoresNothing(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	before, _ := ss.db.ListIntegrations(t.Context(), "")
	b := hecBody()
	b["name"] = "Trial"
	var res struct {
		OK    bool
		Steps []siemsync.Step
	}
	decode(t, ss.req(ss.keyA, "POST", "/api/v1/integrations/test", jsonOf(t, b)), &res)
	if !res.OK || len(res.Steps) != 2 {
		t.Fatalf("test result %+v", res)
	}
	if in := <-ss.tested; in.Token != hecToken || in.Name != "Trial" || in.ID != "" {
		t.Fatalf("tested %+v", in)
	}
	delete(b, "url")
	wantError(t, ss.req(ss.keyA, "POST", "/api/v1/integrations/test", jsonOf(t, b)), 400, "invalid", "url")
	after, _ := ss.db.ListIntegrations(t.Context(), "")
	if len(after) != len(before) {
		t.Fatalf("a test stored an integration: %d -> %d", len(before), len(after))
	}
}

// TestRevocationIsImmediate: a revoked key fails on the very next request,
// and so does a page session opened with it.
func TestRevocationIsImmediate(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	key := ss.newKey(acct, "short-lived")
	br := loginAs(t, ss.bundle, key)
	if w := br.get("/"); w.Code != 200 {
		t.Fatalf("page with the key: %d", w.Code)
	}
	if w := ss.req(key, "GET", "/api/v1/integrations", ""); w.Code != 200 {
		t.Fatalf("api with the key: %d", w.Code)
	}
	var list struct{ Keys []store.AccountKey }
	decode(t, ss.req(adminToken, "GET", "/api/v1/accounts/"+acct+"/keys", ""), &list)
	id := ""
	for _, k := range list.Keys {
		if k.Name == "short-lived" {
			id = k.ID
		}
	}
	if w := ss.req(adminToken, "DELETE", "/api/v1/accounts/"+acct+"/keys/"+id, ""); w.Code != 204 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := ss.req(key, "GET", "/api/v1/integrations", ""); w.Code != 401 {
		t.Fatalf("api right after revocation: %d", w.Code)
	}
	if w := br.get("/"); w.Code != http.StatusSeeOther {
		t.Fatalf("page right after revocation: %d", w.Code)
	}
	if w := ss.req(adminToken, "DELETE", "/api/v1/accounts/"+acct+"/keys/"+id, ""); w.Code != 404 {
		t.Fatalf("revoke twice: %d", w.Code)
	}
}

// TestKeyFailuresRateLimited: after ten wrong tokens or keys from one
// address, that address gets 429 for a while: for more wrong keys and for
// the admin token, but not for a working account key.
func TestKeyFailuresRateLimited(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	try := func(token string) int {
		r := httptest.NewRequest("GET", "/api/v1/integrations", nil)
		r.RemoteAddr = "198.51.100.9:5000"
		r.Header.Set("Authorization", "Bearer "+token)
		return ss.serve(r).Code
	}
	for i := range 10 {
		if c := try(admin.KeyPrefix + "guess" + fmt.Sprint(i)); c != 401 {
			t.Fatalf("guess %d: %d", i, c)
		}
	}
	if c := try(admin.KeyPrefix + "guess-more"); c != http.StatusTooManyRequests {
		t.Fatalf("11th wrong key: %d, want 429", c)
	}
	if c := try(admin.KeyPrefix + "guess-again"); c != http.StatusTooManyRequests {
		t.Fatalf("wrong key while blocked: %d, want 429", c)
	}
	if c := try(adminToken); c != http.StatusTooManyRequests {
		t.Fatalf("the admin token while blocked: %d, want 429 (not even looked at)", c)
	}
	// A working key still works: keys cannot be guessed, and one customer's
	// revoked key must not lock out the others behind the same address.
	if c := try(ss.keyA); c != http.StatusOK {
		t.Fatalf("a working key while blocked: %d, want 200", c)
	}
	if w := ss.req(ss.keyA, "GET", "/api/v1/integrations", ""); w.Code != 200 {
		t.Fatalf("another address: %d", w.Code)
	}
}

// TestFeatureSwitch: with the SIEM feature of the account off, a key cannot
// add an integration (403, contact the operator); the operator can switch
// it back on.
func TestFeatureSwitch(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	if w := ss.req(adminToken, "PATCH", "/api/v1/accounts/"+acct, `{"siem_enabled":false}`); w.Code != 200 {
		t.Fatalf("switch off: %d %s", w.Code, w.Body)
	}
	b := hecBody()
	b["name"] = "While off"
	e := wantError(t, ss.req(ss.keyA, "POST", "/api/v1/integrations", jsonOf(t, b)), 403, "forbidden", "")
	if !strings.Contains(e.Error.Message, "contact the operator") {
		t.Fatalf("message %q", e.Error.Message)
	}
	br := loginAs(t, ss.bundle, ss.keyA)
	wantBody(t, br.get("/"), "Contact the operator")
	wantBody(t, br.postMultipart("/integrations/new", hecFormNamed("While off"), nil), "contact the operator")
	if w := ss.req(adminToken, "PATCH", "/api/v1/accounts/"+acct, `{"siem_enabled":"no"}`); w.Code != 400 {
		t.Fatalf("bad body: %d", w.Code)
	}
	if w := ss.req(adminToken, "PATCH", "/api/v1/accounts/"+acct, `{"siem_enabled":true}`); w.Code != 200 {
		t.Fatalf("switch on: %d", w.Code)
	}
	if w := ss.req(ss.keyA, "POST", "/api/v1/integrations", jsonOf(t, b)); w.Code != 201 {
		t.Fatalf("create after switching on: %d %s", w.Code, w.Body)
	}
}

func hecFormNamed(name string) url.Values {
	v := hecForm()
	v.Set("name", name)
	return v
}

// TestAuditTrail: every change through the API and the page is an audit
// record of its account, naming who, from where and which fields, never a
// secret; nothing lands in the other account.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	newToken := "hec-NEW-SECRET-77aa1c"
	ss.secrets = append(ss.secrets, newToken)
	iA := ss.intA
	ss.req(ss.keyA, "PATCH", "/api/v1/integrations/"+iA, `{"index":"security","token":"`+newToken+`"}`)
	ss.req(ss.keyA, "PUT", "/api/v1/integrations/"+iA+"/enabled", `{"enabled":false}`)
	ss.req(ss.keyA, "PUT", "/api/v1/integrations/"+iA+"/enabled", `{"enabled":true}`)
	ss.req(ss.keyA, "POST", "/api/v1/integrations/"+iA+"/test", "")
	ss.req(ss.keyA, "POST", "/api/v1/integrations/"+iA+"/sync", "")
	ss.req(ss.keyA, "POST", "/api/v1/integrations/"+iA+"/setaside/retry", "")
	br := loginAs(t, ss.bundle, ss.keyA)
	e := hecFormNamed("Via page")
	e.Del("token")
	wantRedirect(t, br.postMultipart("/integrations/"+iA+"/edit", e, nil), "/integrations/"+iA)
	wantRedirect(t, br.post("/integrations/"+iA+"/delete", nil), "/")

	recs, err := ss.db.AuditPage(t.Context(), store.AuditQuery{Account: acct, Limit: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ event, user, fields string }
	var got []row
	for _, r := range recs {
		for _, s := range ss.secrets {
			if strings.Contains(string(r.Metadata), s) || strings.Contains(r.Event, s) {
				t.Fatalf("audit record %q carries a secret", r.Event)
			}
		}
		if r.User == "" || strings.HasPrefix(r.ID, "seed") {
			continue
		}
		var md struct {
			Integration string   `json:"integration_id"`
			Fields      []string `json:"changed_fields"`
			KeyName     string   `json:"key_name"`
		}
		if err := json.Unmarshal(r.Metadata, &md); err != nil {
			t.Fatal(err)
		}
		if r.IP == "" || r.Account != acct {
			t.Errorf("record %q: ip %q account %s", r.Event, r.IP, r.Account)
		}
		if md.Integration != "" && md.Integration != iA && r.Event != "SIEM integration created" {
			t.Errorf("record %q of integration %s", r.Event, md.Integration)
		}
		got = append(got, row{r.Event, r.User, strings.Join(md.Fields, ",") + md.KeyName})
	}
	want := []row{
		{"SIEM integration created", "admin", ""},
		{"SIEM account key created", "admin", "portal-a"},
		{"SIEM account key created", "admin", "old"},
		{"SIEM account key revoked", "admin", "old"},
		{"SIEM integration updated", "key:portal-a", "index,token"},
		{"SIEM integration disabled", "key:portal-a", ""},
		{"SIEM integration enabled", "key:portal-a", ""},
		{"SIEM integration connection tested", "key:portal-a", ""},
		{"SIEM integration sync requested", "key:portal-a", ""},
		{"SIEM integration set-aside events retried", "key:portal-a", ""},
		{"SIEM integration updated", "key:portal-a", "index,name"},
		{"SIEM integration deleted", "key:portal-a", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit trail of A:\n got %v\nwant %v", got, want)
	}
	// Account B's trail holds only its own.
	recsB, _ := ss.db.AuditPage(t.Context(), store.AuditQuery{Account: acct2, Limit: 1000}, nil)
	for _, r := range recsB {
		if strings.Contains(string(r.Metadata), iA) || strings.Contains(r.User, "portal-a") {
			t.Errorf("account B's trail has A's change %q", r.Event)
		}
	}
}

// TestSessionsAcrossWorkers: a page session opened on one server works on
// another server over the same store (two workers behind a load balancer),
// sign-out on either ends it on both, and a server with another admin token
// does not accept it.
func TestSessionsAcrossWorkers(t *testing.T) {
	t.Parallel()
	db, _ := openStore(t)
	worker := func(token string) *bundle {
		return setup(t, func(c *admin.Config) { c.Store, c.TokenHash = db, sha256.Sum256([]byte(token)) })
	}
	w1, w2, other := worker(adminToken), worker(adminToken), worker("another-admin-token-1234")
	br := login(t, w1)
	on := func(b *bundle) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(br.cookie)
		return b.serve(r).Code
	}
	if c := on(w2); c != http.StatusOK {
		t.Fatalf("session of worker 1 on worker 2: %d", c)
	}
	if c := on(other); c != http.StatusSeeOther {
		t.Fatalf("session on a server with another admin token: %d", c)
	}
	// Sign out on worker 2.
	r := httptest.NewRequest("POST", "/logout", strings.NewReader(url.Values{"csrf": {br.csrf}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.AddCookie(br.cookie)
	if w := w2.serve(r); w.Code != http.StatusSeeOther {
		t.Fatalf("logout on worker 2: %d %s", w.Code, w.Body)
	}
	if c := on(w1); c != http.StatusSeeOther {
		t.Fatalf("worker 1 after sign-out on worker 2: %d", c)
	}
}

func TestKeyCreateInput(t *testing.T) {
	t.Parallel()
	ss := setupSelfService(t)
	for _, tc := range []struct {
		account, body string
		status        int
		code, field   string
	}{
		{acct, `{"name":""}`, 400, "invalid", "name"},
		{acct, `{"name":"   "}`, 400, "invalid", "name"},
		{acct, `{"name":"a\u0007b"}`, 400, "invalid", "name"},
		{acct, `{"name":"` + strings.Repeat("x", 201) + `"}`, 400, "invalid", "name"},
		{acct, `{"name":"portal-a"}`, 409, "conflict", "name"}, // a working key has it
		{acct, `{"name":"x","key":"ssk_chosen"}`, 400, "unknown_field", "key"},
		{acct, `not json`, 400, "invalid", ""},
		{"00000000-0000-4000-8000-000000000000", `{"name":"x"}`, 404, "not_found", ""},
		{"not-a-uuid", `{"name":"x"}`, 404, "not_found", ""},
	} {
		w := ss.req(adminToken, "POST", "/api/v1/accounts/"+tc.account+"/keys", tc.body)
		if w.Code != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", tc.account, tc.body[:min(len(tc.body), 30)], w.Code, tc.status, w.Body)
			continue
		}
		wantError(t, w, tc.status, tc.code, tc.field)
	}
	// A key of account B cannot be revoked through account A.
	var list struct{ Keys []store.AccountKey }
	decode(t, ss.req(adminToken, "GET", "/api/v1/accounts/"+acct2+"/keys", ""), &list)
	if w := ss.req(adminToken, "DELETE", "/api/v1/accounts/"+acct+"/keys/"+list.Keys[0].ID, ""); w.Code != 404 {
		t.Fatalf("revoke B's key through A: %d", w.Code)
	}
	if w := ss.req(ss.keyB, "GET", "/api/v1/integrations", ""); w.Code != 200 {
		t.Fatalf("B's key after the refused revoke: %d", w.Code)
	}
}

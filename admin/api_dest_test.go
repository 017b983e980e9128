package admin_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/siemsync/siemsync"
)

// TestAPIDestinationForms: the Cloudflare Logpush form is stored as its
// fields, and neither the answer nor an error quotes the token.
func TestAPIDestinationForms(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const ch = "0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10"
	body := hecBody()
	delete(body, "token")
	body["url"] = "splunk://splunk.example.com:8088/services/collector/raw?channel=" + ch +
		"&insecure-skip-verify=false&sourcetype=cloudflare:json&header_Authorization=Splunk%20" + hecToken
	body["audit_events"] = []string{"Sign in*"}
	body["job_statuses"] = []string{siemsync.JobUnsuccessful}
	body["min_severity"] = 4
	body["heartbeat"] = true
	w := b.api("POST", "/api/v1/integrations", jsonOf(t, body))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), hecToken) {
		t.Fatalf("the answer quotes the token: %s", w.Body)
	}
	var in siemsync.Integration
	decode(t, w, &in)
	if in.URL != "https://splunk.example.com:8088/services/collector/raw" || in.Channel != ch || in.Sourcetype != "cloudflare:json" ||
		!in.TokenSet || b.st.token(in.ID) != hecToken || !in.Heartbeat || in.MinSeverity != 4 ||
		!slices.Equal(in.AuditEvents, []string{"Sign in*"}) || !slices.Equal(in.JobStatuses, []string{siemsync.JobUnsuccessful}) {
		t.Errorf("stored %+v", in)
	}
	if g := b.api("GET", "/api/v1/integrations/"+in.ID, ""); strings.Contains(g.Body.String(), hecToken) {
		t.Errorf("GET quotes the token")
	}

	bad := hecBody()
	bad["url"] = "splunk://splunk.example.com:8088/services/collector/raw?header_Authorization=Splunk%20" + hecToken + "&insecure-skip-verify=perhaps"
	w = b.api("POST", "/api/v1/integrations", jsonOf(t, bad))
	if w.Code != http.StatusBadRequest || strings.Contains(w.Body.String(), hecToken) || !strings.Contains(w.Body.String(), "insecure-skip-verify") {
		t.Errorf("bad splunk:// URL: %d %s", w.Code, w.Body)
	}

	// A pasted "Splunk TOKEN" header value is the token.
	pref := hecBody()
	pref["name"], pref["token"], pref["url"] = "prefixed", "Splunk "+hecToken, "https://splunk.example.com"
	w = b.api("POST", "/api/v1/integrations", jsonOf(t, pref))
	var p siemsync.Integration
	decode(t, w, &p)
	if w.Code != http.StatusCreated || b.st.token(p.ID) != hecToken || p.URL != "https://splunk.example.com:8088" {
		t.Errorf("prefixed token: %d, token %q, url %q", w.Code, b.st.token(p.ID), p.URL)
	}
}

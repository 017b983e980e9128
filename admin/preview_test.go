package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
)

// fakePreviewer records what it was asked and answers body.
type fakePreviewer struct {
	mu    sync.Mutex
	calls []previewCall
	body  string
}

type previewCall struct {
	in    siemsync.Integration
	saved bool
	limit int
}

func (f *fakePreviewer) Preview(_ context.Context, in *siemsync.Integration, saved bool, limit int) (siemsync.Preview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, previewCall{*in, saved, limit})
	if limit < 1 || limit > 100 {
		return siemsync.Preview{}, siemsync.Invalid("limit", "must be between 1 and 100")
	}
	return siemsync.Preview{Body: []byte(f.body), Events: strings.Count(f.body, "\n"), More: true,
		UploadTime: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}, nil
}

func (f *fakePreviewer) last(t *testing.T) previewCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the previewer was not called")
	}
	return f.calls[len(f.calls)-1]
}

func TestAPIPreview(t *testing.T) {
	t.Parallel()
	pv := &fakePreviewer{body: "{\"event\":1}\n{\"event\":\"" + hecToken + "\"}\n"}
	b := setup(t, func(c *admin.Config) { c.Preview = pv })
	id := b.create(hecBody())

	w := b.api("GET", "/api/v1/integrations/"+id+"/preview?limit=7", "")
	if w.Code != http.StatusOK || w.Header().Get("Siemsync-Preview-Events") != "2" || w.Header().Get("Siemsync-Preview-More") != "true" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("preview: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if want := "{\"event\":1}\n{\"event\":\"[token]\"}\n"; w.Body.String() != want { // serve checks no token leaked
		t.Errorf("body %q, want %q", w.Body, want)
	}
	if c := pv.last(t); !c.saved || c.limit != 7 || c.in.ID != id || c.in.Token != hecToken {
		t.Errorf("previewer got saved %v limit %d id %s, token loaded %v", c.saved, c.limit, c.in.ID, c.in.Token == hecToken)
	}
	if w := b.api("GET", "/api/v1/integrations/"+id+"/preview", ""); w.Code != 200 || pv.last(t).limit != admin.DefaultPreviewLimit {
		t.Errorf("default limit: %d %d", w.Code, pv.last(t).limit)
	}
	for _, q := range []string{"?limit=ten", "?limit=0", "?limit=101"} {
		w := b.api("GET", "/api/v1/integrations/"+id+"/preview"+q, "")
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"limit"`) {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
	}
	if w := b.api("GET", "/api/v1/integrations/00000000-0000-4000-8000-000000000000/preview", ""); w.Code != http.StatusNotFound {
		t.Errorf("unknown id: %d", w.Code)
	}

	// Unsaved: no token needed, nothing stored.
	pv.body = "{\"event\":1}\n"
	body := hecBody()
	delete(body, "token")
	body["backfill_since"] = "2025-01-01T00:00:00Z"
	n := len(b.st.ints)
	w = b.api("POST", "/api/v1/integrations/preview?limit=3", jsonOf(t, body))
	if w.Code != http.StatusOK {
		t.Fatalf("unsaved preview: %d %s", w.Code, w.Body)
	}
	if c := pv.last(t); c.saved || c.limit != 3 || c.in.BackfillSince == nil || c.in.Token != "" {
		t.Errorf("unsaved: saved %v limit %d backfill %v", c.saved, c.limit, c.in.BackfillSince)
	}
	if len(b.st.ints) != n {
		t.Error("an unsaved preview stored an integration")
	}
	body["url"] = "ftp://x"
	if w := b.api("POST", "/api/v1/integrations/preview", jsonOf(t, body)); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"url"`) {
		t.Errorf("bad unsaved body: %d %s", w.Code, w.Body)
	}

	nb := setup(t)
	nid := nb.create(hecBody())
	if w := nb.api("GET", "/api/v1/integrations/"+nid+"/preview", ""); w.Code != http.StatusNotImplemented {
		t.Errorf("without a previewer: %d", w.Code)
	}
}

func TestAPIProfileAndAlertFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const hook = "https://hooks.slack.com/services/T0/B0/WebhookSecretPart"
	b.secrets = append(b.secrets, "WebhookSecretPart")
	body := hecBody()
	body["profile"], body["notify_url"], body["alert_after"] = "ocsf", hook, "45m"
	id := b.create(body)
	w := b.api("GET", "/api/v1/integrations/"+id, "")
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["profile"] != "ocsf" || got["notify_url_set"] != true || got["notify_host"] != "hooks.slack.com" || got["alert_after"] != "45m0s" {
		t.Errorf("view: profile %v set %v host %v after %v", got["profile"], got["notify_url_set"], got["notify_host"], got["alert_after"])
	}
	for _, tt := range []struct{ body, field string }{
		{`{"profile":"ecs"}`, "profile"},
		{`{"alert_after":"soon"}`, "alert_after"},
		{`{"notify_url":"ftp://x/y"}`, "notify_url"},
		{`{"notify_host":"x"}`, "notify_host"},
	} {
		w := b.api("PATCH", "/api/v1/integrations/"+id, tt.body)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"`+tt.field+`"`) {
			t.Errorf("PATCH %s: %d %s", tt.body, w.Code, w.Body)
		}
	}
	sys := syslogBody()
	sys["profile"] = "ocsf"
	if w := b.api("POST", "/api/v1/integrations", jsonOf(t, sys)); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "CEF") {
		t.Errorf("syslog with ocsf: %d %s", w.Code, w.Body)
	}
	// Leaving notify_url out keeps it; "" removes it.
	b.api("PATCH", "/api/v1/integrations/"+id, `{"name":"renamed"}`)
	if in := b.st.ints[id]; !in.NotifyURLSet {
		t.Error("a PATCH without notify_url removed it")
	}
	w = b.api("PATCH", "/api/v1/integrations/"+id, `{"notify_url":""}`)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"notify_url_set": true`) {
		t.Errorf("remove: %d %s", w.Code, w.Body)
	}
}

func TestPageFormPreview(t *testing.T) {
	t.Parallel()
	pv := &fakePreviewer{body: "{\"event\":{\"id\":\"a-1\"}}\n"}
	b := setup(t, func(c *admin.Config) { c.Preview = pv })
	br := login(t, b)
	wantBody(t, br.get("/integrations/new?account="+acct), `name="preview"`, "Preview", `name="profile"`, `name="notify_url"`, `name="alert_after"`)

	f := hecForm()
	f.Del("token") // a preview needs no token
	f.Set("preview", "1")
	f.Set("profile", "ocsf")
	w := br.postMultipart("/integrations/new", f, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("preview of a new integration: %d %s", w.Code, w.Body)
	}
	wantBody(t, w, `id="preview"`, `{"event":{"id":"a-1"}}`, "Nothing was sent or saved", `value="Splunk prod"`)
	if c := pv.last(t); c.saved || c.in.Profile != siemsync.ProfileOCSF || c.limit != 20 {
		t.Errorf("previewer got saved %v profile %q limit %d", c.saved, c.in.Profile, c.limit)
	}
	if len(b.st.ints) != 0 {
		t.Fatal("the preview button stored the integration")
	}

	id := b.create(hecBody())
	f = hecForm()
	f.Set("name", "Edited")
	f.Set("preview", "1")
	w = br.postMultipart("/integrations/"+id+"/edit", f, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("preview of an edit: %d %s", w.Code, w.Body)
	}
	wantBody(t, w, "from this integration's checkpoint")
	if c := pv.last(t); !c.saved || c.in.ID != id || c.in.Name != "Edited" {
		t.Errorf("edit preview got saved %v id %s name %q", c.saved, c.in.ID, c.in.Name)
	}
	if b.st.ints[id].Name != "Splunk prod" {
		t.Error("the preview button saved the edit")
	}
}

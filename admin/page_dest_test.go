package admin_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/siemsync/siemsync"
)

// TestPageFiltersAndSplunkURL: the form takes the filters and the
// heartbeat, and a splunk:// URL re-shown after an error has lost its token.
func TestPageFiltersAndSplunkURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := login(t, b)

	f := hecForm()
	f.Del("token")
	f.Set("url", "splunk://splunk.example.com:8088/services/collector/raw?channel=0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10&header_Authorization=Splunk%20"+hecToken)
	f.Set("audit_events", "Sign in*\r\n\r\nExport*")
	f.Set("job_status_unsuccessful", "on")
	f.Set("job_status_in progress", "on")
	f.Set("job_types", "backup\nrestore")
	f.Set("min_severity", "4")
	f.Set("heartbeat", "on")
	loc := wantRedirect(t, br.postMultipart("/integrations/new", f, nil), "/integrations/")
	id := strings.TrimPrefix(loc, "/integrations/")
	in, _ := b.st.GetIntegration(context.Background(), id, false)
	if in.URL != "https://splunk.example.com:8088/services/collector/raw" || b.st.token(id) != hecToken || !in.Heartbeat || in.MinSeverity != 4 ||
		!slices.Equal(in.AuditEvents, []string{"Sign in*", "Export*"}) || !slices.Equal(in.JobTypes, []string{"backup", "restore"}) ||
		!slices.Equal(in.JobStatuses, []string{siemsync.JobInProgress, siemsync.JobUnsuccessful}) {
		t.Fatalf("stored %+v", in)
	}
	w := br.get(loc)
	wantBody(t, w, "Sign in*, Export*", "in progress, unsuccessful", "0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10")
	if strings.Contains(w.Body.String(), hecToken) {
		t.Fatal("the detail page shows the token")
	}
	edit := br.get(loc + "/edit")
	wantBody(t, edit, `name="job_status_unsuccessful" value="on" checked`, "Sign in*\nExport*")

	// An error elsewhere re-shows the form: the URL without its token.
	f.Set("name", "second")
	f.Set("min_severity", "11")
	w = br.postMultipart("/integrations/new", f, nil)
	if w.Code != http.StatusBadRequest || strings.Contains(w.Body.String(), hecToken) {
		t.Fatalf("re-shown form: %d, token shown %v", w.Code, strings.Contains(w.Body.String(), hecToken))
	}
	wantBody(t, w, `id="min_severity-error"`, "channel=0b6f4a0e", "were not kept")
}

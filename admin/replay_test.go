package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/store"
)

// fakeReplays keeps one replay per integration in memory.
type fakeReplays struct {
	mu sync.Mutex
	m  map[string]store.Replay
}

func (f *fakeReplays) Begin(_ context.Context, in *siemsync.Integration, since, until time.Time) (store.Replay, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m[in.ID].State == store.ReplayRunning {
		return store.Replay{}, siemsync.ErrConflict
	}
	r := store.Replay{Integration: in.ID, Since: since, Until: until, Total: 40, Sent: 10, State: store.ReplayRunning,
		Started: time.Now().Add(-10 * time.Second), Updated: time.Now()}
	f.m[in.ID] = r
	return r, nil
}

func (f *fakeReplays) Get(_ context.Context, id string) (store.ReplayStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.m[id]
	if !ok {
		return store.ReplayStatus{}, siemsync.ErrNotFound
	}
	return store.Progress(r, time.Now()), nil
}

func (f *fakeReplays) Cancel(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.m[id]
	if !ok || r.State != store.ReplayRunning {
		return siemsync.ErrConflict
	}
	r.State = store.ReplayCancelled
	f.m[id] = r
	return nil
}

func TestAPIReplay(t *testing.T) {
	t.Parallel()
	rp := &fakeReplays{m: map[string]store.Replay{}}
	b := setup(t, func(c *admin.Config) { c.Replays = rp })
	id := b.create(hecBody())
	path := "/api/v1/integrations/" + id + "/replay"

	if w := b.api("GET", path, ""); w.Code != http.StatusNotFound {
		t.Errorf("no replay yet: %d", w.Code)
	}
	for body, field := range map[string]string{
		`{}`:                    "since",
		`{"since":"yesterday"}`: "since",
		`{"since":"2026-11-20T00:00:00Z","until":"x"}`:                    "until",
		`{"since":"2026-11-21T00:00:00Z","until":"2026-11-20T00:00:00Z"}`: "since",
		`{"since":"2026-11-20T00:00:00Z","extra":1}`:                      "extra",
	} {
		w := b.api("POST", path, body)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"`+field+`"`) {
			t.Errorf("%s: %d %s", body, w.Code, w.Body)
		}
	}
	w := b.api("POST", path, `{"since":"2026-01-01T00:00:00Z","until":"2999-01-01T00:00:00Z"}`)
	if w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"state": "running"`) || !strings.Contains(w.Body.String(), `"eta_seconds"`) {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	if r := rp.m[id]; r.Until.After(time.Now()) {
		t.Errorf("until in the future was kept: %v", r.Until)
	}
	if w := b.api("POST", path, `{"since":"2026-01-01T00:00:00Z"}`); w.Code != http.StatusConflict {
		t.Errorf("second start: %d", w.Code)
	}
	if w := b.api("GET", path, ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"percent": 25`) {
		t.Errorf("get: %d %s", w.Code, w.Body)
	}
	if w := b.api("GET", "/api/v1/integrations/"+id+"/status", ""); !strings.Contains(w.Body.String(), `"replay": {`) {
		t.Errorf("status without the replay: %s", w.Body)
	}
	if w := b.api("DELETE", path, ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"cancelled"`) {
		t.Errorf("cancel: %d %s", w.Code, w.Body)
	}
	if w := b.api("DELETE", path, ""); w.Code != http.StatusConflict {
		t.Errorf("cancel again: %d", w.Code)
	}
	if w := b.api("POST", "/api/v1/integrations/00000000-0000-4000-8000-000000000000/replay", `{"since":"2026-01-01T00:00:00Z"}`); w.Code != http.StatusNotFound {
		t.Errorf("unknown integration: %d", w.Code)
	}
}

func TestPageReplay(t *testing.T) {
	t.Parallel()
	rp := &fakeReplays{m: map[string]store.Replay{}}
	b := setup(t, func(c *admin.Config) { c.Replays = rp })
	br := login(t, b)
	id := b.create(hecBody())
	w := br.get("/integrations/" + id)
	wantBody(t, w, `id="replay"`, `name="since"`, "Replay window")
	if strings.Contains(w.Body.String(), `http-equiv="refresh"`) {
		t.Error("the page refreshes without a running replay")
	}
	w = br.post("/integrations/"+id+"/replay", url.Values{"since": {"2026-01-01T00:00"}})
	if w.Code != http.StatusSeeOther || rp.m[id].State != store.ReplayRunning {
		t.Fatalf("start from the page: %d %+v", w.Code, rp.m[id])
	}
	w = br.get("/integrations/" + id)
	wantBody(t, w, "Replay started", `<progress class="progress" max="40" value="10"`, "10 of 40 sent (25%)", "Cancel replay", `http-equiv="refresh" content="2"`)
	br.post("/integrations/"+id+"/replay/cancel", url.Values{})
	if rp.m[id].State != store.ReplayCancelled {
		t.Errorf("cancel from the page: %+v", rp.m[id])
	}
}

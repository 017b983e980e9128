package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/alert"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/store/sqlite"
	ssync "github.com/siemsync/siemsync/sync"
)

const acct = "11111111-1111-4111-8111-111111111111"

// clock is a test clock that only moves when told.
type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hook is a webhook receiver that records every alert.
type hook struct {
	mu     gosync.Mutex
	got    []alert.Payload
	status atomic.Int32 // answer; 0 means 200
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var p alert.Payload
	if err := json.Unmarshal(b, &p); err != nil || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad alert", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, p)
	h.mu.Unlock()
	if s := h.status.Load(); s != 0 {
		w.WriteHeader(int(s))
	}
}

func (h *hook) events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.got {
		out = append(out, p.Event)
	}
	return out
}

// nopSink accepts everything.
type nopSink struct{}

func (nopSink) Append(dst []byte, ev *siemsync.Event) []byte { return append(dst, ev.ID()+"\n"...) }
func (nopSink) Send(context.Context, []byte, int) error      { return nil }
func (nopSink) Close() error                                 { return nil }

type fixture struct {
	db       *sqlite.DB
	clk      *clock
	hook     *hook
	notifier *alert.Notifier
	syncer   *ssync.Syncer
	down     atomic.Bool
	id       string
}

func setup(t *testing.T, alertAfter time.Duration) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}, hook: &hook{}}
	srv := httptest.NewServer(f.hook)
	t.Cleanup(srv.Close)
	c, err := secret.New(bytes.Repeat([]byte{7}, 32), "test")
	if err != nil {
		t.Fatal(err)
	}
	f.db, err = sqlite.Open(t.Context(), t.TempDir()+"/s.db", sqlite.Options{Cipher: c, Now: f.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	log := zerolog.New(zerolog.NewTestWriter(t))
	f.notifier = alert.New(alert.Config{Store: f.db, AllowPrivate: true, Logger: log, Now: f.clk.now})
	f.syncer = ssync.New(ssync.Config{
		Store: f.db, Hostname: "h", Logger: log, Now: f.clk.now, Observer: f.notifier,
		Open: func(context.Context, *siemsync.Integration) (ssync.Sink, error) {
			if f.down.Load() {
				return nil, errors.New("connection refused")
			}
			return nopSink{}, nil
		},
	})
	in := &siemsync.Integration{Account: acct, CreateAccount: true, Name: "splunk", Kind: siemsync.KindHEC, Enabled: true,
		Sources: []string{"audit"}, URL: "https://splunk.example.com", Token: "tok",
		NotifyURL: srv.URL + "/services/T000/B000/secret", AlertAfter: siemsync.Duration(alertAfter)}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	f.id = in.ID
	return f
}

// cycles runs n cycles, a minute apart, waiting for each one's alert check.
func (f *fixture) cycles(t *testing.T, n int, wantErr bool) {
	t.Helper()
	for range n {
		f.clk.add(time.Minute)
		res := f.syncer.Cycle(t.Context(), f.id)
		if (res.Err != nil) != wantErr {
			t.Fatalf("cycle error %v, want error %v", res.Err, wantErr)
		}
		f.notifier.Wait()
	}
}

func (f *fixture) status(t *testing.T) siemsync.Status {
	t.Helper()
	in, err := f.db.GetIntegration(t.Context(), f.id, false)
	if err != nil {
		t.Fatal(err)
	}
	return in.Status
}

func TestOneAlertWhileFailingAndOneOnRecovery(t *testing.T) {
	f := setup(t, 10*time.Minute)
	f.cycles(t, 2, false)
	f.down.Store(true)
	f.cycles(t, 9, true) // 9 minutes since the last success: not yet
	if got := f.hook.events(); len(got) != 0 {
		t.Fatalf("alerts before alert_after: %v", got)
	}
	f.cycles(t, 30, true)
	if got := f.hook.events(); len(got) != 1 || got[0] != alert.EventFailing {
		t.Fatalf("after 39 failing minutes: alerts %v, want one failing", got)
	}
	p := f.hook.got[0]
	if p.Integration.ID != f.id || p.Error == "" || p.LagSeconds < 600 || p.Text == "" {
		t.Errorf("failing payload: %+v", p)
	}
	if st := f.status(t); st.Alert != siemsync.AlertFiring {
		t.Errorf("status alert %q, want firing", st.Alert)
	}
	f.down.Store(false)
	f.cycles(t, 5, false)
	if got := f.hook.events(); len(got) != 2 || got[1] != alert.EventRecovered {
		t.Fatalf("after recovery: alerts %v, want failing then one recovered", got)
	}
	if st := f.status(t); st.Alert != siemsync.AlertOK {
		t.Errorf("status alert %q after recovery", st.Alert)
	}
	// A second outage alerts again, once.
	f.down.Store(true)
	f.cycles(t, 20, true)
	if got := f.hook.events(); len(got) != 3 || got[2] != alert.EventFailing {
		t.Fatalf("second outage: alerts %v", got)
	}
}

func TestWebhookFailureShownAndRetriedNextCycle(t *testing.T) {
	f := setup(t, time.Minute)
	f.hook.status.Store(http.StatusInternalServerError)
	f.down.Store(true)
	f.cycles(t, 3, true) // the webhook refuses each attempt; the cycles fail for their own reason only
	st := f.status(t)
	if st.Alert != siemsync.AlertOK || st.AlertError == "" {
		t.Fatalf("status after webhook failures: alert %q, alert_error %q", st.Alert, st.AlertError)
	}
	if bytes.Contains([]byte(st.AlertError), []byte("secret")) {
		t.Errorf("the webhook URL's path leaked into the status: %s", st.AlertError)
	}
	attempts := len(f.hook.events())
	if attempts < 2 {
		t.Fatalf("webhook attempts %d: a failed alert must be tried again next cycle", attempts)
	}
	f.hook.status.Store(0)
	f.cycles(t, 3, true)
	if got := f.hook.events(); len(got) != attempts+1 {
		t.Fatalf("after the webhook works again: %d more posts, want 1", len(got)-attempts)
	}
	if st := f.status(t); st.Alert != siemsync.AlertFiring || st.AlertError != "" {
		t.Errorf("status: alert %q, alert_error %q", st.Alert, st.AlertError)
	}
}

func TestPrivateWebhookRefusedUnlessAllowed(t *testing.T) {
	f := setup(t, time.Minute)
	strict := alert.New(alert.Config{Store: f.db, Logger: zerolog.Nop(), Now: f.clk.now})
	f.down.Store(true)
	f.clk.add(2 * time.Minute)
	f.syncer.Cycle(t.Context(), f.id)
	f.notifier.Wait()
	// The fixture's notifier (private allowed) sent it; reset and try the strict one.
	if _, err := f.db.SwapAlertState(t.Context(), f.id, siemsync.AlertFiring, siemsync.AlertOK); err != nil {
		t.Fatal(err)
	}
	n := len(f.hook.events())
	if err := strict.Check(t.Context(), f.id); err != nil {
		t.Fatal(err)
	}
	if len(f.hook.events()) != n {
		t.Fatalf("a webhook on loopback was called without --allow-private-destinations")
	}
	if st := f.status(t); st.AlertError == "" || !bytes.Contains([]byte(st.AlertError), []byte("loopback")) {
		t.Errorf("alert_error %q, want the loopback refusal", st.AlertError)
	}
}

package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync/admin"
)

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func guarded(t *testing.T, proxies ...string) (*bundle, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	var trusted []netip.Prefix
	for _, p := range proxies {
		trusted = append(trusted, netip.MustParsePrefix(p))
	}
	b := setup(t, func(cfg *admin.Config) { cfg.Now, cfg.TrustedProxies = c.now, trusted })
	return b, c
}

// apiFrom calls the API with token from a client address (and an
// X-Forwarded-For header when xff is set).
func (b *bundle) apiFrom(addr, xff, token string) int {
	r := httptest.NewRequest("GET", "/api/v1/integrations", nil)
	r.RemoteAddr = addr + ":40000"
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	return b.serve(r).Code
}

func (b *bundle) loginFrom(addr, xff, token string) int {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = addr + ":40000"
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	return b.serve(r).Code
}

// TestBearerThrottledGlobally: wrong tokens from many addresses (one guess
// each, so no per-address limit helps) lock the API out with a growing
// back-off, without the token of a locked-out request being checked (no
// oracle); the admin's address that used the API before keeps working.
func TestBearerThrottledGlobally(t *testing.T) {
	t.Parallel()
	b, c := guarded(t)
	if code := b.apiFrom("198.51.100.7", "", adminToken); code != 200 {
		t.Fatalf("admin: %d", code)
	}
	guesses := 0
	for i := 0; ; i++ {
		code := b.apiFrom(fmt.Sprintf("203.0.%d.%d", i/250, i%250+1), "", fmt.Sprintf("guess-%d-xxxxxxxxxx", i))
		if code == http.StatusTooManyRequests {
			break
		}
		if code != http.StatusUnauthorized || i > 100 {
			t.Fatalf("guess %d: %d; want 401 then 429 within 100 guesses", i, code)
		}
		guesses++
	}
	if code := b.apiFrom("192.0.2.99", "", adminToken); code != http.StatusTooManyRequests {
		t.Errorf("right token from an unknown address during the lock-out: %d, want 429 (else the lock-out tells a right guess)", code)
	}
	if code := b.apiFrom("198.51.100.7", "", adminToken); code != 200 {
		t.Errorf("the admin's own address during the lock-out: %d, want 200", code)
	}
	// The lock-out grows with every guess after it ends.
	var waits []time.Duration
	for range 4 {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/api/v1/integrations", nil)
		r.RemoteAddr = "203.0.113.200:1"
		r.Header.Set("Authorization", "Bearer nope-nope-nope-nope")
		b.srv.ServeHTTP(w, r)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Fatalf("during the lock-out: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
		}
		var secs int
		fmt.Sscan(w.Header().Get("Retry-After"), &secs)
		waits = append(waits, time.Duration(secs)*time.Second)
		c.add(time.Duration(secs) * time.Second)
		if code := b.apiFrom("203.0.113.201", "", "another-wrong-guess-x"); code != http.StatusUnauthorized {
			t.Fatalf("after the lock-out: %d, want 401", code)
		}
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] <= waits[i-1] {
			t.Errorf("lock-outs %v do not grow", waits)
		}
	}
	t.Logf("%d free guesses, then lock-outs %v", guesses, waits)
}

// TestSignInLimiterBehindProxy: behind a trusted proxy, each client named
// by X-Forwarded-For has its own limit, so an attacker cannot lock out the
// admin (who comes through the same proxy); without --trusted-proxies the
// header is ignored, so a forged one gains an attacker nothing.
func TestSignInLimiterBehindProxy(t *testing.T) {
	t.Parallel()
	b, _ := guarded(t, "10.0.0.0/8")
	const proxy = "10.1.2.3"
	for i := range 10 {
		if code := b.loginFrom(proxy, "203.0.113.66", fmt.Sprintf("wrong-guess-%d", i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := b.loginFrom(proxy, "203.0.113.66", adminToken); code != http.StatusTooManyRequests {
		t.Errorf("attacker after 10 guesses: %d, want 429", code)
	}
	if code := b.loginFrom(proxy, "198.51.100.7, 10.9.9.9", adminToken); code != http.StatusSeeOther {
		t.Errorf("admin through the same proxy (and a second trusted hop): %d, want 303", code)
	}
	// Without trusted proxies, X-Forwarded-For changes nothing.
	b2, _ := guarded(t)
	for i := range 10 {
		b2.loginFrom("203.0.113.66", fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("wrong-guess-%d", i))
	}
	if code := b2.loginFrom("203.0.113.66", "192.0.2.200", adminToken); code != http.StatusTooManyRequests {
		t.Errorf("forged X-Forwarded-For bypassed the limit: %d, want 429", code)
	}
}

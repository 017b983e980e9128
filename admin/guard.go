package admin

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// guard slows down admin token guessing, on the API and at sign-in alike.
//
//   - Per client address, maxAddrFailures failures in failureWindow block
//     that address until the window passes.
//   - Globally, past freeFailures failures (from any number of addresses)
//     every further failure doubles a lock-out, from backoffMin up to
//     backoffMax: guesses from many addresses are slowed as a whole.
//   - A lock-out must not lock the real admin out: an address that signed
//     in or called the API with the right token recently stays "known" and
//     is still checked during a global lock-out. Others get 429 without
//     their token being checked, so the lock-out is no oracle.
//
// The client address is the connection's, or with trusted proxies the
// first untrusted one of X-Forwarded-For (see clientAddr).
type guard struct {
	mu       sync.Mutex
	failures map[string][]time.Time // per address, within failureWindow
	order    []string               // addresses in order of their first failure, for eviction
	known    map[string]time.Time   // addresses that authenticated, and when
	global   int                    // failures since the last quiet period
	last     time.Time              // last failure
	delay    time.Duration          // current global lock-out step
	until    time.Time              // global lock-out end
}

const (
	maxAddrFailures = 10
	failureWindow   = 5 * time.Minute
	freeFailures    = 20
	backoffMin      = time.Second
	backoffMax      = 5 * time.Minute
	// maxTracked bounds the memory of per-address failures and known
	// addresses; past it the oldest entry goes, never all of them.
	maxTracked = 10000
	knownFor   = 24 * time.Hour
)

func newGuard() *guard {
	return &guard{failures: map[string][]time.Time{}, known: map[string]time.Time{}}
}

// allow reports whether a request from addr may have its token checked,
// and if not, how long until it may.
func (g *guard) allow(addr string, now time.Time) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ts := g.recent(addr, now); len(ts) >= maxAddrFailures {
		return false, ts[0].Add(failureWindow).Sub(now)
	}
	if now.Before(g.until) {
		if t, ok := g.known[addr]; ok && now.Sub(t) < knownFor {
			return true, 0
		}
		return false, g.until.Sub(now)
	}
	return true, 0
}

// fail records a wrong token from addr; global says whether it also counts
// towards the global lock-out.
func (g *guard) fail(addr string, now time.Time, global bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.known, addr)
	if _, ok := g.failures[addr]; !ok {
		if len(g.order) >= maxTracked {
			g.evict()
		}
		g.order = append(g.order, addr)
	}
	g.failures[addr] = append(g.recent(addr, now), now)
	if !global {
		return
	}
	if now.Sub(g.last) > failureWindow { // a quiet period forgives
		g.global, g.delay = 0, 0
	}
	g.last = now
	g.global++
	if g.global > freeFailures {
		g.delay = min(max(2*g.delay, backoffMin), backoffMax)
		g.until = now.Add(g.delay)
	}
}

// ok records a right token from addr.
func (g *guard) ok(addr string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.known[addr]; !ok && len(g.known) >= maxTracked {
		for a, t := range g.known { // drop the stalest
			if now.Sub(t) >= knownFor || len(g.known) >= maxTracked {
				delete(g.known, a)
			}
		}
	}
	g.known[addr] = now
}

// evict drops the address whose failures started first.
func (g *guard) evict() {
	for len(g.order) > 0 {
		a := g.order[0]
		g.order = g.order[1:]
		if _, ok := g.failures[a]; ok {
			delete(g.failures, a)
			return
		}
	}
}

func (g *guard) recent(addr string, now time.Time) []time.Time {
	ts, ok := g.failures[addr]
	if !ok {
		return nil
	}
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > failureWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(g.failures, addr)
		g.compact()
		return nil
	}
	g.failures[addr] = ts
	return ts
}

// compact drops forgotten addresses from order once they are most of it.
func (g *guard) compact() {
	if len(g.order) < 2*len(g.failures)+64 {
		return
	}
	kept := g.order[:0]
	for _, a := range g.order {
		if _, ok := g.failures[a]; ok {
			kept = append(kept, a)
		}
	}
	g.order = kept
}

// clientAddr is the address of the client: the connection's peer, or,
// when that peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not itself a trusted proxy. Without trusted
// proxies X-Forwarded-For is ignored: anyone can write it.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 || !isTrusted(host, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if _, err := netip.ParseAddr(hop); err != nil {
			return host // a garbled header: count the proxy itself
		}
		if !isTrusted(hop, trusted) {
			return hop
		}
	}
	return host
}

func isTrusted(addr string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads a comma-separated list of CIDR prefixes or
// addresses (--trusted-proxies, SIEMSYNC_TRUSTED_PROXIES).
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, &net.ParseError{Type: "CIDR prefix or IP address", Text: f}
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

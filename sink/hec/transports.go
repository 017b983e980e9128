package hec

import (
	"container/list"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"net/http"
	"sync"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/netguard"
)

// Defaults of a Transports.
const (
	// DefaultMaxTransports bounds the destinations whose connections are
	// kept: one transport (and its idle connections) per destination and
	// TLS identity.
	DefaultMaxTransports = 1024
	// DefaultIdleConnTimeout closes a connection idle that long. It is
	// longer than the default schedule (5 minutes), so that the next cycle
	// of an integration finds the connection of the last one. A peer that
	// closes idle connections sooner (AWS load balancers after 60 s) is
	// noticed when its FIN arrives, and the connection is dropped then;
	// TCP keep-alives (every 30 s, see netguard.Dialer) keep NAT and
	// firewall state alive and find a path that died silently.
	DefaultIdleConnTimeout = 6 * time.Minute
	// DefaultMaxIdlePerDestination is how many idle connections a
	// destination keeps: enough for the cycles that run at once (the sync
	// concurrency) to find one each.
	DefaultMaxIdlePerDestination = 128
)

// TransportOptions bound a Transports; zero fields take the defaults.
type TransportOptions struct {
	MaxTransports         int
	IdleConnTimeout       time.Duration
	MaxIdlePerDestination int
}

// Transports keeps the HTTP transports of the process, one per destination
// and connection settings, so that the cycles of an integration, and
// integrations that send to the same destination, reuse TCP and TLS
// connections instead of opening new ones every cycle. A transport is
// shared only by sinks whose connections would be made identically: same
// scheme, host and port, same TLS settings (CA, client certificate and key,
// server name, insecure flag) and same private-destination rule; a change
// of any of them gets a new transport, never a connection made with the old
// settings. The least recently used transport is dropped, with its idle
// connections, beyond MaxTransports, and any transport unused for
// IdleConnTimeout (its connections have expired by then too).
//
// The zero value is not usable; a nil *Transports makes every sink build
// its own transport. It is safe for concurrent use.
type Transports struct {
	opts TransportOptions
	now  func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *transportEntry, most recently used first
	byKey map[transportKey]*list.Element
	stats TransportStats
}

// TransportStats counts the cache's work, for tests and the bench.
type TransportStats struct {
	Hits, Misses, Evictions int64
	Len                     int
}

type transportKey struct {
	origin  string   // scheme://host:port
	tls     [32]byte // SHA-256 of the TLS settings; zero for http://
	private bool     // netguard's allow-private flag
}

type transportEntry struct {
	key      transportKey
	tr       *http.Transport
	lastUsed time.Time
}

// NewTransports returns an empty cache.
func NewTransports(o TransportOptions) *Transports {
	if o.MaxTransports <= 0 {
		o.MaxTransports = DefaultMaxTransports
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = DefaultIdleConnTimeout
	}
	if o.MaxIdlePerDestination <= 0 {
		o.MaxIdlePerDestination = DefaultMaxIdlePerDestination
	}
	return &Transports{opts: o, now: time.Now, lru: list.New(), byKey: map[transportKey]*list.Element{}}
}

// keyFor is the cache key of a sink posting to origin for in.
func keyFor(origin string, https bool, in *siemsync.Integration, private bool) transportKey {
	k := transportKey{origin: origin, private: private}
	if https {
		k.tls = tlsDigest(in)
	}
	return k
}

// tlsDigest hashes every integration setting tlsconf.Client reads. Each
// field is length-prefixed, so no two settings hash alike by moving bytes
// from one field to the next.
func tlsDigest(in *siemsync.Integration) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, f := range []string{in.CAPEM, in.ClientCertPEM, in.ClientKeyPEM, in.ServerName} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	if in.InsecureSkipVerify {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// get returns the transport for key, building it with tlsCfg() on a miss.
// tlsCfg's error is returned and nothing is cached.
func (t *Transports) get(key transportKey, tlsCfg func() (*tls.Config, error)) (*http.Transport, error) {
	if tr := t.lookup(key); tr != nil {
		return tr, nil
	}
	// Built outside the lock: a miss parses PEM (keys, certificates),
	// and the misses of a first round of many destinations should not
	// queue behind each other.
	cfg, err := tlsCfg()
	if err != nil {
		return nil, err
	}
	tr := newTransport(key.private, cfg, t.opts)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.byKey[key]; ok {
		// Another sink built the same one meanwhile; ours has no
		// connection yet and is dropped.
		t.stats.Hits++
		return t.touch(el, now), nil
	}
	t.stats.Misses++
	t.byKey[key] = t.lru.PushFront(&transportEntry{key: key, tr: tr, lastUsed: now})
	for t.lru.Len() > t.opts.MaxTransports {
		t.remove(t.lru.Back())
	}
	return tr, nil
}

// lookup returns the cached transport of key, nil when there is none.
func (t *Transports) lookup(key transportKey) *http.Transport {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	el, ok := t.byKey[key]
	if !ok {
		return nil
	}
	t.stats.Hits++
	return t.touch(el, now)
}

// touch marks an entry used now.
func (t *Transports) touch(el *list.Element, now time.Time) *http.Transport {
	e := el.Value.(*transportEntry)
	e.lastUsed = now
	t.lru.MoveToFront(el)
	return e.tr
}

// expire drops the transports unused for IdleConnTimeout, from the least
// recently used end.
func (t *Transports) expire(now time.Time) {
	for el := t.lru.Back(); el != nil; el = t.lru.Back() {
		if now.Sub(el.Value.(*transportEntry).lastUsed) < t.opts.IdleConnTimeout {
			return
		}
		t.remove(el)
	}
}

// remove drops a transport and closes its idle connections. A sink still
// using it keeps working; the connections it returns idle expire after
// IdleConnTimeout.
func (t *Transports) remove(el *list.Element) {
	e := t.lru.Remove(el).(*transportEntry)
	delete(t.byKey, e.key)
	e.tr.CloseIdleConnections()
	t.stats.Evictions++
}

// Stats returns the counts so far.
func (t *Transports) Stats() TransportStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.Len = t.lru.Len()
	return s
}

// Close closes the idle connections of every transport and empties the
// cache; for the end of the process, or of a test.
func (t *Transports) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for el := t.lru.Back(); el != nil; el = t.lru.Back() {
		t.remove(el)
	}
}

// newTransport is the HTTP transport of one destination.
func newTransport(private bool, tlsCfg *tls.Config, o TransportOptions) *http.Transport {
	return &http.Transport{
		// No proxy: a proxy would connect on our behalf, out of reach of
		// the netguard check on the destination address.
		Proxy:                 nil,
		DialContext:           netguard.Dialer(private, DefaultConnectTimeout).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   DefaultConnectTimeout,
		MaxIdleConnsPerHost:   o.MaxIdlePerDestination,
		IdleConnTimeout:       o.IdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

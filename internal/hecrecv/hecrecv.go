// Package hecrecv is a Splunk HTTP Event Collector compatible receiver. The
// demo, the end-to-end and fault-injection tests and the benchmark send to
// it instead of a real Splunk, so it answers the way Splunk does: the same
// endpoints, the same HTTP statuses and HEC codes (see
// shared/research/hec.md §2), the same channel and indexer acknowledgement
// rules, and gzip bodies. It keeps what it received so tests can count
// events by id, and it can be told at run time to misbehave (SetFault).
//
// Where Splunk's behaviour is uncertain, the receiver picks the stricter
// reading so a sender that works here works with Splunk:
//   - a batch with one bad event is refused whole: nothing of it is kept
//     (Splunk may or may not have indexed the events before the bad one);
//   - a `time` in exponent notation is refused with code 15.
package hecrecv

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// DefaultMaxContentLength is the largest request body (after gzip
// decoding) the receiver reads, like Splunk's max_content_length. Splunk's
// own default is 800 MiB; a test tool has no use for that much memory.
const DefaultMaxContentLength = 64 << 20

// Options configure a Receiver.
type Options struct {
	// Tokens are the valid HEC tokens. Empty accepts any non-empty token,
	// which suits the demo; tests that check token errors list tokens.
	Tokens []string
	// DisabledTokens exist but are disabled: code 1 (403).
	DisabledTokens []string
	// Indexes, when set, is the token's allowed index list: an event
	// naming another index is refused with code 7. An event without an
	// index always goes to the default index.
	Indexes []string
	// Ack turns on indexer acknowledgement (Splunk's useACK on the token):
	// event requests must carry a channel and get an ackId back.
	Ack bool
	// MaxContentLength caps the decoded body; above it the answer is 413.
	// 0 means DefaultMaxContentLength.
	MaxContentLength int
	// Discard counts events without decoding or keeping them: the
	// benchmark's fast path. Events and IDs stay empty; Count counts.
	Discard bool
	// Seed seeds the random choice of FailRatio; 0 picks a random seed.
	Seed uint64
	// Logger logs each refused request at debug level. The zero value logs
	// nothing.
	Logger zerolog.Logger
}

// Fault makes the receiver misbehave. The zero Fault is a healthy server.
// Status, FailRatio, ResetConn, Delay, MaxBytes and PoisonIDs apply to event
// requests; Down applies to every request.
type Fault struct {
	// Status answers every event request with this HTTP status, with Code
	// as the HEC code (0: the code Splunk uses with that status, e.g. 9
	// for 503, 8 for 500, 26 for 429; none for others) and Body, when
	// set, as the verbatim body instead (say, an HTML page from a load
	// balancer).
	Status int
	Code   int
	Body   string
	// RetryAfter is sent as the Retry-After header with Status, FailRatio
	// and Down answers.
	RetryAfter string
	// Down answers every request with 503: code 18 (queues full) on health
	// and code 9 (server busy) on everything else.
	Down bool
	// FailRatio answers that fraction of event requests (chosen at random)
	// with 503 code 9.
	FailRatio float64
	// ResetConn resets the TCP connection of every event request without
	// answering.
	ResetConn bool
	// Delay holds every event request this long before answering; a
	// request whose sender gives up meanwhile is dropped, nothing kept.
	Delay time.Duration
	// Jitter adds a random extra hold in [0, Jitter) to every event
	// request, so that requests sent together are answered out of order.
	Jitter time.Duration
	// MaxBytes answers 413 to a request whose decoded body is larger.
	MaxBytes int
	// PoisonIDs: a batch holding an event whose event.id is listed is
	// refused with 400 code 6 and the invalid-event-number of that event;
	// nothing of the batch is kept.
	PoisonIDs []string
	// AckDelay is how long after receipt an ackId reads true; AckNever
	// keeps every ackId false for ever.
	AckDelay time.Duration
	AckNever bool
}

// Envelope is one received event, decoded.
type Envelope struct {
	Time       float64         `json:"time,omitempty"` // epoch seconds; 0 when the event had none
	Host       string          `json:"host,omitempty"`
	Source     string          `json:"source,omitempty"`
	Sourcetype string          `json:"sourcetype,omitempty"`
	Index      string          `json:"index,omitempty"`
	Event      json.RawMessage `json:"event"`
	Fields     json.RawMessage `json:"fields,omitempty"`

	// ID is event.id when the event is an object with a string id.
	ID string `json:"-"`
	// Channel is the request's channel, "" if none.
	Channel string `json:"-"`
	// Raw is the envelope as received (compact JSON); empty from /raw.
	Raw json.RawMessage `json:"-"`
}

// Receiver is an http.Handler that behaves like Splunk HEC.
type Receiver struct {
	opts     Options
	tokens   map[string]bool
	disabled map[string]bool
	indexes  map[string]bool

	count    atomic.Int64 // events kept (or counted in Discard mode)
	requests atomic.Int64 // event requests received, answered or not
	bytes    atomic.Int64 // decoded body bytes of accepted requests

	mu       sync.Mutex
	fault    Fault
	poison   map[string]bool
	rng      *rand.Rand
	events   []Envelope
	ids      map[string]int
	channels map[string]*channel
	changed  chan struct{} // closed and replaced whenever count changes

	now func() time.Time // the clock of ack delays; tests set their own
}

type channel struct {
	next    int
	pending map[int]time.Time // ackId → when its request was received
}

// New returns a receiver with the given options.
func New(opts Options) *Receiver {
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = DefaultMaxContentLength
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	r := &Receiver{
		opts:     opts,
		tokens:   set(opts.Tokens),
		disabled: set(opts.DisabledTokens),
		indexes:  set(opts.Indexes),
		rng:      rand.New(rand.NewPCG(seed, seed>>1|1)),
		ids:      map[string]int{},
		channels: map[string]*channel{},
		changed:  make(chan struct{}),
		now:      time.Now,
	}
	return r
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// SetFault replaces the current fault; SetFault(Fault{}) heals the server.
func (r *Receiver) SetFault(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fault = f
	r.poison = set(f.PoisonIDs)
}

// Fault returns the current fault.
func (r *Receiver) Fault() Fault {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fault
}

// Events returns a copy of the events kept so far, in arrival order.
func (r *Receiver) Events() []Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Count is the number of events kept (or counted, in Discard mode).
func (r *Receiver) Count() int { return int(r.count.Load()) }

// Requests is the number of event requests received, including refused
// and faulted ones.
func (r *Receiver) Requests() int { return int(r.requests.Load()) }

// Bytes is the decoded body bytes of accepted requests.
func (r *Receiver) Bytes() int64 { return r.bytes.Load() }

// IDs maps each event.id received to the number of times it was received,
// so tests can check at-least-once delivery and count duplicates.
func (r *Receiver) IDs() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]int, len(r.ids))
	for k, v := range r.ids {
		m[k] = v
	}
	return m
}

// Reset forgets every event, id, channel and pending ack, and the counters.
// The fault stays.
func (r *Receiver) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
	r.ids = map[string]int{}
	r.channels = map[string]*channel{}
	r.count.Store(0)
	r.requests.Store(0)
	r.bytes.Store(0)
	r.notifyLocked()
}

// WaitCount waits until Count reaches n or ctx ends.
func (r *Receiver) WaitCount(ctx context.Context, n int) error {
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if r.Count() >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for %d events (have %d): %w", n, r.Count(), ctx.Err())
		}
	}
}

func (r *Receiver) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// ServeHTTP routes Splunk's HEC paths.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimSuffix(req.URL.Path, "/")
	path = strings.TrimSuffix(path, "/1.0")
	if r.Fault().Down {
		f := r.Fault()
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if path == "/services/collector/health" {
			reply(w, http.StatusServiceUnavailable, 18, "HEC is unhealthy, queues are full")
			return
		}
		reply(w, http.StatusServiceUnavailable, 9, "Server is busy")
		return
	}
	switch path {
	case "/services/collector", "/services/collector/event":
		r.serveEvents(w, req, false)
	case "/services/collector/raw":
		r.serveEvents(w, req, true)
	case "/services/collector/health":
		r.serveHealth(w, req)
	case "/services/collector/ack":
		r.serveAck(w, req)
	default:
		// Splunk's answer for a path it does not serve.
		reply(w, http.StatusNotFound, 404, "The requested URL was not found on this server.")
	}
}

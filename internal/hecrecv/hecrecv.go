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
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
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

// reply writes a HEC JSON answer. extra is appended inside the object.
func reply(w http.ResponseWriter, status, code int, text string, extra ...string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	b := make([]byte, 0, 64)
	b = append(b, `{"text":`...)
	b = strconv.AppendQuote(b, text)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	for _, e := range extra {
		b = append(b, ',')
		b = append(b, e...)
	}
	b = append(b, '}')
	w.Write(b) //nolint:errcheck // the client went away; nothing to do
}

func invalidEvent(i int) string { return `"invalid-event-number":` + strconv.Itoa(i) }

// hecError is a refusal: HTTP status, HEC code, text and the index of the
// event at fault (-1 for none).
type hecError struct {
	status, code int
	text         string
	event        int
}

func (e *hecError) write(w http.ResponseWriter) {
	if e.event >= 0 {
		reply(w, e.status, e.code, e.text, invalidEvent(e.event))
		return
	}
	reply(w, e.status, e.code, e.text)
}

var (
	errTokenRequired  = &hecError{http.StatusUnauthorized, 2, "Token is required", -1}
	errInvalidAuth    = &hecError{http.StatusUnauthorized, 3, "Invalid authorization", -1}
	errTokenDisabled  = &hecError{http.StatusForbidden, 1, "Token disabled", -1}
	errInvalidToken   = &hecError{http.StatusForbidden, 4, "Invalid token", -1}
	errQueryAuth      = &hecError{http.StatusBadRequest, 16, "Query string authorization is not enabled", -1}
	errNoData         = &hecError{http.StatusBadRequest, 5, "No data", -1}
	errChannelMissing = &hecError{http.StatusBadRequest, 10, "Data channel is missing", -1}
	errChannelInvalid = &hecError{http.StatusBadRequest, 11, "Invalid data channel", -1}
	errAckDisabled    = &hecError{http.StatusBadRequest, 14, "ACK is disabled", -1}
)

// token extracts and checks the request's token, as Splunk does: the
// `Splunk <token>` header, or Basic auth with the token as password.
func (r *Receiver) token(req *http.Request) (string, *hecError) {
	if req.URL.Query().Has("token") {
		// Query-string auth is off by default on a Splunk token.
		return "", errQueryAuth
	}
	h := req.Header.Get("Authorization")
	if h == "" {
		return "", errTokenRequired
	}
	var tok string
	scheme, rest, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Splunk"):
		tok = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return "", errInvalidAuth
		}
		_, tok, _ = strings.Cut(string(b), ":")
	default:
		return "", errInvalidAuth
	}
	switch {
	case tok == "":
		return "", errInvalidAuth
	case r.disabled[tok]:
		return "", errTokenDisabled
	case len(r.tokens) > 0 && !r.tokens[tok]:
		return "", errInvalidToken
	}
	return tok, nil
}

// channelOf returns the request's channel (header or query parameter) and
// checks it against the ack rules.
func (r *Receiver) channelOf(req *http.Request, required bool) (string, *hecError) {
	ch := req.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = req.URL.Query().Get("channel")
	}
	if ch == "" {
		if required {
			return "", errChannelMissing
		}
		return "", nil
	}
	if _, err := uuid.Parse(ch); err != nil || len(ch) != 36 {
		return "", errChannelInvalid
	}
	return ch, nil
}

func (r *Receiver) serveHealth(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, 405, "Method not allowed")
		return
	}
	// The health endpoint is open; a token, when sent, is checked and
	// answered with the health-probe codes 21 and 22.
	if req.Header.Get("Authorization") != "" {
		if _, e := r.token(req); e != nil {
			switch e.code {
			case 1:
				reply(w, http.StatusBadRequest, 22, "Token disabled")
				return
			case 3, 4:
				reply(w, http.StatusBadRequest, 21, "Invalid token")
				return
			}
		}
	}
	reply(w, http.StatusOK, 17, "HEC is healthy")
}

func (r *Receiver) serveAck(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, 405, "Method not allowed")
		return
	}
	if _, e := r.token(req); e != nil {
		r.refuse(w, req, e)
		return
	}
	if !r.opts.Ack {
		r.refuse(w, req, errAckDisabled)
		return
	}
	ch, e := r.channelOf(req, true)
	if e != nil {
		r.refuse(w, req, e)
		return
	}
	var q struct {
		Acks []int `json:"acks"`
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &q) != nil || q.Acks == nil {
		r.refuse(w, req, &hecError{http.StatusBadRequest, 6, "Invalid data format", -1})
		return
	}
	now := time.Now()
	r.mu.Lock()
	f := r.fault
	c := r.channels[ch]
	out := make([]byte, 0, 16+len(q.Acks)*12)
	out = append(out, `{"acks":{`...)
	for i, id := range q.Acks {
		ok := false
		if c != nil && !f.AckNever {
			if at, found := c.pending[id]; found && now.Sub(at) >= f.AckDelay {
				ok = true
				// Splunk reports true once, then forgets the id.
				delete(c.pending, id)
			}
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = strconv.AppendInt(out, int64(id), 10)
		out = append(out, `":`...)
		out = strconv.AppendBool(out, ok)
	}
	r.mu.Unlock()
	out = append(out, "}}"...)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(out) //nolint:errcheck // the client went away
}

func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request, e *hecError) {
	r.opts.Logger.Debug().Str("path", req.URL.Path).Int("status", e.status).Int("code", e.code).Msg(e.text)
	e.write(w)
}

func (r *Receiver) serveEvents(w http.ResponseWriter, req *http.Request, raw bool) {
	r.requests.Add(1)
	if req.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, 405, "Method not allowed")
		return
	}
	// Read the request before anything else: Go's server notices a
	// client that hangs up (and cancels the request context, which ends
	// a Delay) only once the body has been read.
	var wire []byte
	var rerr error
	if r.opts.Discard {
		// Nothing of the request is kept: read it into a reused buffer.
		buf := wireBufs.Get().(*bytes.Buffer)
		buf.Reset()
		defer wireBufs.Put(buf)
		if req.ContentLength > 0 && req.ContentLength <= int64(r.opts.MaxContentLength) {
			buf.Grow(int(req.ContentLength))
		}
		_, rerr = buf.ReadFrom(io.LimitReader(req.Body, int64(r.opts.MaxContentLength)+1))
		wire = buf.Bytes()
	} else {
		wire, rerr = io.ReadAll(io.LimitReader(req.Body, int64(r.opts.MaxContentLength)+1))
	}
	if done := r.injectFault(w, req); done {
		return
	}
	if _, e := r.token(req); e != nil {
		r.refuse(w, req, e)
		return
	}
	ch, e := r.channelOf(req, r.opts.Ack)
	if e != nil {
		r.refuse(w, req, e)
		return
	}
	if rerr != nil {
		r.refuse(w, req, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0})
		return
	}
	var (
		body    []byte
		size, n int
		envs    []Envelope
	)
	if r.opts.Discard && !raw {
		// Counted as it is decoded, never held whole: the benchmark's
		// path, which must cost the sender's machine little.
		n, size, e = r.countBody(wire, req.Header.Get("Content-Encoding"))
	} else if body, e = r.decodeBody(wire, req.Header.Get("Content-Encoding")); e == nil {
		size = len(body)
	}
	if e != nil {
		r.refuse(w, req, e)
		return
	}
	f := r.Fault()
	if f.MaxBytes > 0 && size > f.MaxBytes {
		r.refuse(w, req, tooLarge(size, f.MaxBytes))
		return
	}
	if body != nil && len(bytes.TrimSpace(body)) == 0 {
		r.refuse(w, req, errNoData)
		return
	}

	switch {
	case r.opts.Discard && !raw:
		// counted above
	case r.opts.Discard:
		n = bytes.Count(body, []byte{'\n'})
	case raw:
		envs = decodeRaw(body, req)
		n = len(envs)
	default:
		envs, e = r.decode(body)
		if e != nil {
			r.refuse(w, req, e)
			return
		}
		n = len(envs)
	}

	r.mu.Lock()
	if len(r.poison) > 0 {
		for i := range envs {
			if r.poison[envs[i].ID] {
				r.mu.Unlock()
				r.refuse(w, req, &hecError{http.StatusBadRequest, 6, "Invalid data format", i})
				return
			}
		}
	}
	for i := range envs {
		envs[i].Channel = ch
		if envs[i].ID != "" {
			r.ids[envs[i].ID]++
		}
	}
	r.events = append(r.events, envs...)
	r.count.Add(int64(n))
	r.bytes.Add(int64(size))
	ackID := -1
	if r.opts.Ack {
		c := r.channels[ch]
		if c == nil {
			c = &channel{pending: map[int]time.Time{}}
			r.channels[ch] = c
		}
		ackID = c.next
		c.next++
		c.pending[ackID] = time.Now()
	}
	r.notifyLocked()
	r.mu.Unlock()

	if ackID >= 0 {
		reply(w, http.StatusOK, 0, "Success", `"ackId":`+strconv.Itoa(ackID))
		return
	}
	reply(w, http.StatusOK, 0, "Success")
}

func tooLarge(n, max int) *hecError {
	return &hecError{http.StatusRequestEntityTooLarge, 413,
		fmt.Sprintf("Content-Length of %d too large (maximum is %d)", n, max), -1}
}

// injectFault applies the per-request faults and reports whether it has
// answered the request.
func (r *Receiver) injectFault(w http.ResponseWriter, req *http.Request) bool {
	r.mu.Lock()
	f := r.fault
	fail := f.FailRatio > 0 && r.rng.Float64() < f.FailRatio
	r.mu.Unlock()

	if f.Delay > 0 {
		// Read the body first: net/http notices a client that hangs up
		// (and cancels the request's context) only once the body has been
		// read, so without this a sender that gave up would still have its
		// batch kept.
		body, err := io.ReadAll(io.LimitReader(req.Body, int64(r.opts.MaxContentLength)+1))
		if err != nil {
			return true
		}
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), req.Body))
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.ResetConn {
		resetConn(w)
		return true
	}
	if f.RetryAfter != "" && (fail || f.Status != 0) {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if fail {
		reply(w, http.StatusServiceUnavailable, 9, "Server is busy")
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.Body != "" {
		ct := "text/plain; charset=utf-8"
		if strings.HasPrefix(strings.TrimSpace(f.Body), "<") {
			ct = "text/html; charset=utf-8"
		} else if json.Valid([]byte(f.Body)) {
			ct = "application/json; charset=UTF-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body) //nolint:errcheck // the client went away
		return true
	}
	code, text := f.Code, http.StatusText(f.Status)
	if code == 0 {
		code, text = defaultCode(f.Status)
	} else if t, ok := codeText[code]; ok {
		text = t
	}
	if code < 0 {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"text":%q}`, text)
		return true
	}
	reply(w, f.Status, code, text)
	return true
}

// codeText is Splunk's text for each HEC code (hec.md §2).
var codeText = map[int]string{
	0: "Success", 1: "Token disabled", 2: "Token is required", 3: "Invalid authorization",
	4: "Invalid token", 5: "No data", 6: "Invalid data format", 7: "Incorrect index",
	8: "Internal server error", 9: "Server is busy", 10: "Data channel is missing",
	11: "Invalid data channel", 12: "Event field is required", 13: "Event field cannot be blank",
	14: "ACK is disabled", 15: "Error in handling indexed fields",
	16: "Query string authorization is not enabled", 17: "HEC is healthy",
	18: "HEC is unhealthy, queues are full", 19: "HEC is unhealthy, ack service unavailable",
	20: "HEC is unhealthy, queues are full, ack service unavailable",
	21: "Invalid token", 22: "Token disabled", 23: "Server is shutting down",
	24: "HEC queue is approaching its capacity limit", 25: "HEC ACK is approaching its capacity limit",
	26: "HEC queue is at capacity", 27: "HEC ACK channel is at capacity",
}

// defaultCode is the HEC code Splunk pairs with an HTTP status; -1 when it
// sends none.
func defaultCode(status int) (int, string) {
	code := -1
	switch status {
	case http.StatusOK:
		code = 0
	case http.StatusInternalServerError:
		code = 8
	case http.StatusServiceUnavailable:
		code = 9
	case http.StatusTooManyRequests:
		code = 26
	case http.StatusUnauthorized:
		code = 2
	case http.StatusForbidden:
		code = 4
	case http.StatusBadRequest:
		code = 6
	}
	if t, ok := codeText[code]; ok {
		return code, t
	}
	return code, http.StatusText(status)
}

// resetConn aborts the connection with a TCP reset and no answer.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // best effort: a close is a fault too
	}
	conn.Close()
}

// decodeBody gunzips the request body when so encoded and applies the
// content length limit to the decoded bytes.
func (r *Receiver) decodeBody(wire []byte, encoding string) ([]byte, *hecError) {
	limit := r.opts.MaxContentLength
	switch enc := strings.ToLower(strings.TrimSpace(encoding)); enc {
	case "", "identity":
		if len(wire) > limit {
			return nil, tooLarge(len(wire), limit)
		}
		return wire, nil
	case "gzip":
	default:
		return nil, &hecError{http.StatusUnsupportedMediaType, 415, "Unsupported content encoding " + enc, -1}
	}
	if len(wire) == 0 {
		return nil, errNoData
	}
	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		return nil, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
	}
	defer zr.Close()
	var buf bytes.Buffer
	buf.Grow(min(4*len(wire), limit+1))
	n, err := buf.ReadFrom(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
	}
	if n > int64(limit) {
		return nil, tooLarge(int(n), limit)
	}
	return buf.Bytes(), nil
}

// wireEnvelope is the request's view of one event; RawMessage fields let
// the decoder tell an absent key from a null one.
type wireEnvelope struct {
	Time       json.RawMessage `json:"time"`
	Host       *string         `json:"host"`
	Source     *string         `json:"source"`
	Sourcetype *string         `json:"sourcetype"`
	Index      *string         `json:"index"`
	Event      json.RawMessage `json:"event"`
	Fields     json.RawMessage `json:"fields"`
}

func badEvent(code, i int) *hecError {
	return &hecError{http.StatusBadRequest, code, codeText[code], i}
}

// decode parses concatenated JSON envelopes (whitespace between them is
// allowed, as Splunk allows it) and validates each as Splunk does.
func (r *Receiver) decode(body []byte) ([]Envelope, *hecError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var envs []Envelope
	for i := 0; ; i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return envs, nil
			}
			return nil, badEvent(6, i)
		}
		if raw[0] != '{' {
			return nil, badEvent(6, i)
		}
		var we wireEnvelope
		if err := json.Unmarshal(raw, &we); err != nil {
			return nil, badEvent(6, i)
		}
		env, e := r.validate(&we, i)
		if e != nil {
			return nil, e
		}
		env.Raw = raw
		envs = append(envs, env)
	}
}

func (r *Receiver) validate(we *wireEnvelope, i int) (Envelope, *hecError) {
	var env Envelope
	switch {
	case we.Event == nil:
		return env, badEvent(12, i)
	case string(we.Event) == "null":
		return env, badEvent(13, i)
	case we.Event[0] == '"':
		var s string
		if json.Unmarshal(we.Event, &s) != nil || strings.TrimSpace(s) == "" {
			return env, badEvent(13, i)
		}
	}
	env.Event = we.Event
	if we.Event[0] == '{' {
		var id struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(we.Event, &id) == nil {
			if s, ok := id.ID.(string); ok {
				env.ID = s
			}
		}
	}
	if we.Time != nil && string(we.Time) != "null" {
		t, code := parseTime(we.Time)
		if code != 0 {
			return env, badEvent(code, i)
		}
		env.Time = t
	}
	for _, f := range []struct {
		p   *string
		dst *string
	}{{we.Host, &env.Host}, {we.Source, &env.Source}, {we.Sourcetype, &env.Sourcetype}, {we.Index, &env.Index}} {
		if f.p != nil {
			*f.dst = *f.p
		}
	}
	if env.Index != "" && len(r.indexes) > 0 && !r.indexes[env.Index] {
		return env, badEvent(7, i)
	}
	if we.Fields != nil && string(we.Fields) != "null" {
		if !flatFields(we.Fields) {
			return env, badEvent(15, i)
		}
		env.Fields = we.Fields
	}
	return env, nil
}

// parseTime reads an envelope time: a number, or a string holding one, of
// epoch seconds. It returns a HEC code when the time is refused.
func parseTime(raw json.RawMessage) (float64, int) {
	s := string(raw)
	if s[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, 6
		}
	}
	if strings.ContainsAny(s, "eE") {
		return 0, 15 // exponent notation (hec.md §1)
	}
	t, err := strconv.ParseFloat(s, 64)
	if err != nil || t < 0 {
		return 0, 6
	}
	return t, 0
}

// flatFields reports whether fields is an object of strings or arrays of
// strings, the only shape Splunk indexes.
func flatFields(raw json.RawMessage) bool {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, v := range m {
		switch v := v.(type) {
		case string:
		case []any:
			for _, x := range v {
				if _, ok := x.(string); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// decodeRaw turns a /raw body into one event per non-empty line, with the
// metadata from the query string.
func decodeRaw(body []byte, req *http.Request) []Envelope {
	q := req.URL.Query()
	var envs []Envelope
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, _ := json.Marshal(string(line))
		env := Envelope{Host: q.Get("host"), Source: q.Get("source"), Sourcetype: q.Get("sourcetype"), Index: q.Get("index"), Event: ev}
		var id struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(line, &id) == nil {
			if s, ok := id.ID.(string); ok {
				env.ID = s
			}
		}
		envs = append(envs, env)
	}
	return envs
}

// countObjects counts the top-level JSON objects of a body without
// decoding it: the Discard fast path. It tracks strings so braces inside
// them do not count.
func countObjects(b []byte) int {
	var c objectCounter
	c.write(b)
	return c.n
}

// objectCounter counts top-level JSON objects in a body fed to it in
// pieces. Inside strings it jumps from quote to quote with IndexByte, so
// a body costs little more than reading it.
type objectCounter struct {
	n, depth   int
	inStr, esc bool
	data       bool // a byte other than whitespace was seen
}

func (c *objectCounter) write(b []byte) {
	if !c.data && len(bytes.TrimLeft(b, " \t\r\n")) > 0 {
		c.data = true
	}
	for i := 0; i < len(b); {
		if c.inStr {
			if c.esc {
				c.esc = false
				i++
				continue
			}
			rest := b[i:]
			q := bytes.IndexByte(rest, '"')
			if q >= 0 {
				rest = rest[:q]
			}
			if k := bytes.IndexByte(rest, '\\'); k >= 0 {
				c.esc = true
				i += k + 1
				continue
			}
			if q < 0 {
				return
			}
			c.inStr = false
			i += q + 1
			continue
		}
		switch b[i] {
		case '"':
			c.inStr = true
		case '{':
			if c.depth == 0 {
				c.n++
			}
			c.depth++
		case '}':
			c.depth--
		}
		i++
	}
}

// Buffers the Discard path reuses from one request to the next.
var (
	wireBufs    = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	chunkBufs   = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
	gzipReaders sync.Pool // *gzip.Reader
)

// countBody decodes the request body piece by piece and counts its
// top-level objects, without keeping it. It returns the count and the
// decoded size, or the error Splunk would answer.
func (r *Receiver) countBody(wire []byte, encoding string) (n, size int, e *hecError) {
	limit := r.opts.MaxContentLength
	var c objectCounter
	switch enc := strings.ToLower(strings.TrimSpace(encoding)); enc {
	case "", "identity":
		if len(wire) > limit {
			return 0, 0, tooLarge(len(wire), limit)
		}
		c.write(wire)
		size = len(wire)
	case "gzip":
		if len(wire) == 0 {
			return 0, 0, errNoData
		}
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(wire))
		} else {
			err = zr.Reset(bytes.NewReader(wire))
		}
		if err != nil {
			return 0, 0, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
		}
		defer gzipReaders.Put(zr)
		buf := chunkBufs.Get().(*[]byte)
		defer chunkBufs.Put(buf)
		for {
			k, err := zr.Read(*buf)
			c.write((*buf)[:k])
			if size += k; size > limit {
				return 0, 0, tooLarge(size, limit)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, 0, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
			}
		}
	default:
		return 0, 0, &hecError{http.StatusUnsupportedMediaType, 415, "Unsupported content encoding " + enc, -1}
	}
	if !c.data {
		return 0, 0, errNoData
	}
	return c.n, size, nil
}

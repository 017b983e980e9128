// Package hec is the Splunk HTTP Event Collector sink: it encodes events as
// HEC JSON envelopes (Append), posts a batch of them in one attempt (Send),
// waits for indexer acknowledgement when the integration asks for it, and
// classifies every answer into the sink.Error classes the sync cycle acts
// on. Check is the integration's Test connection.
//
// The protocol details and the reasons behind the classification are in
// shared/research/hec.md; the wire format is SPEC §3.
package hec

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/tlsconf"
	"github.com/siemsync/siemsync/sink"
)

// Defaults.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	// GzipLevel is the compression level of request bodies. Level 1 is the
	// fastest; on _json batches it already gets most of the ratio of the
	// higher levels (see BenchmarkGzip), and the cycle is CPU-bound on a
	// small worker long before it is bandwidth-bound.
	GzipLevel = gzip.BestSpeed
	// maxAnswerBytes caps how much of an answer is read; HEC answers are
	// tiny, a load balancer's error page is not.
	maxAnswerBytes = 64 << 10
	// kind is the metrics label of this sink.
	kind = "splunk_hec"
)

// Ack polling: first poll soon (a lightly loaded Splunk acknowledges within
// a second), then back off to Splunk's recommended ~10 s.
const (
	ackFirstPoll = 200 * time.Millisecond
	ackMaxPoll   = 10 * time.Second
)

// Options are the sink's settings that do not come from the integration.
type Options struct {
	// AllowPrivate lets the sink connect to loopback, private and
	// link-local addresses (--allow-private-destinations).
	AllowPrivate bool
	// RequestTimeout bounds one POST, from connect to the end of the
	// answer; the ack wait has its own timeout (the integration's).
	RequestTimeout time.Duration
	// MaxEventBytes is the size above which an event's metadata is
	// replaced by a truncation marker (DefaultMaxEventBytes); negative
	// turns truncation off.
	MaxEventBytes int
	// Hostname is the envelope host of events whose account has none;
	// default: this machine's host name.
	Hostname string
	Metrics  *metrics.Metrics
	Logger   zerolog.Logger
	// Client replaces the HTTP client (tests). It bypasses the netguard
	// dialer and the integration's TLS settings. A cookie jar is added
	// when it has none.
	Client *http.Client
	// Vendor, Product and Version name the product in OCSF events'
	// metadata.product: the deployment's CEF vendor, product and version
	// (default "siemsync", "siemsync" and siemsync's version).
	Vendor, Product, Version string
	// Transports, when set, is the process's cache of transports: the
	// sink takes its destination's from it, and its connections outlive
	// the sink (see Transports). Nil: the sink has a transport of its own,
	// closed with it.
	Transports *Transports
	// OnPost, when set, is called after every event POST (not ack
	// queries) with what went on the wire; the benchmark measures request
	// latency and compressed bytes with it. It must be quick and safe for
	// concurrent use.
	OnPost func(PostInfo)
}

// PostInfo describes one event POST, for Options.OnPost.
type PostInfo struct {
	WireBytes int           // request body as sent (gzip-compressed when gzip is on)
	Status    int           // HTTP status; 0 when no answer arrived
	Duration  time.Duration // from sending the request to having read the answer
}

// Sink sends to one HEC integration. It is safe for concurrent use.
type Sink struct {
	in            settings
	eventURL      string
	base          string // scheme, host and path prefix of the HEC endpoints
	auth          string // "Splunk <token>"
	channel       string // X-Splunk-Request-Channel; "" when neither set, nor needed by ack or raw
	raw           bool   // the raw endpoint: bodies are event objects, metadata in the query
	timeout       time.Duration
	ackWait       time.Duration
	maxEvent      int
	host          string
	auditMeta     []byte // `,"source":…,"sourcetype":…[,"index":…],"event":`
	jobMeta       []byte
	heartbeatMeta []byte

	ocsf        bool   // profile ocsf
	ocsfProduct []byte // see ocsfProduct
	productName string

	client    *http.Client                  // Options.Client; nil when the sink sends through rt
	rt        *http.Transport               // shared (Options.Transports) or the sink's own
	jar       atomic.Pointer[cookiejar.Jar] // with rt: made when a response first sets a cookie
	transport *http.Transport               // the sink's own; nil with Options.Client or Options.Transports
	tlsCfg    *tls.Config                   // nil for http:// or with Options.Client
	private   bool                          // Options.AllowPrivate
	metrics   *metrics.Metrics
	onPost    func(PostInfo)
	log       zerolog.Logger // without the integration: logged is rare, and a sink per cycle is not
}

// Paths of the HEC endpoints after Sink.base.
const (
	ackPath    = "/services/collector/ack"
	healthPath = "/services/collector/health"
)

// settings are the integration's settings a sink reads after New: a sink
// is built for every cycle, and the whole integration is ten times the
// size.
type settings struct {
	ID, Token, Source, Sourcetype, Index string
	Gzip, Ack                            bool
}

// channelNS derives ack channels from integration ids (see channelFor).
var channelNS = uuid.MustParse("5b0f8f7e-1b7e-4c43-a3a5-2e6b51f0c1d9")

// channelFor is the ack channel of an integration: a name-based UUID of its
// id, so the channel survives restarts and each integration keeps to one
// channel instead of leaving a new one on Splunk every cycle (Splunk keeps
// idle channels for 10 minutes and caps their number).
func channelFor(id string) string {
	if id == "" {
		return uuid.NewString()
	}
	return uuid.NewSHA1(channelNS, []byte(id)).String()
}

// channelIfNeeded is the channel of an integration that sets none: one
// derived from its id when ack or the raw endpoint needs one, else "".
func channelIfNeeded(in *siemsync.Integration, raw bool) string {
	if in.Ack || raw {
		return channelFor(in.ID)
	}
	return ""
}

// New returns a sink for the HEC integration in. It fails only on settings
// that can never work (URL, certificates); everything the destination
// decides surfaces from Send.
func New(in *siemsync.Integration, opts Options) (*Sink, error) {
	u, base, raw, err := endpoints(in.URL)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		raw:      raw,
		in:       settings{ID: in.ID, Token: in.Token, Source: in.Source, Sourcetype: in.Sourcetype, Index: in.Index, Gzip: in.Gzip, Ack: in.Ack},
		eventURL: u.String(),
		base:     base,
		auth:     "Splunk " + in.Token,
		timeout:  opts.RequestTimeout,
		ackWait:  in.AckTimeout.D(),
		maxEvent: cmp.Or(opts.MaxEventBytes, DefaultMaxEventBytes),
		host:     opts.Hostname,
		metrics:  opts.Metrics,
		onPost:   opts.OnPost,
		log:      opts.Logger,
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	if s.ackWait <= 0 {
		s.ackWait = siemsync.DefaultAckTimeout
	}
	if s.host == "" {
		s.host, _ = os.Hostname()
	}
	s.channel = cmp.Or(in.Channel, channelIfNeeded(in, raw))
	s.ocsf = in.Profile == siemsync.ProfileOCSF
	if s.ocsf {
		s.ocsfProduct, s.productName = ocsfProduct(opts), cmp.Or(opts.Product, "siemsync")
	}
	s.auditMeta, s.jobMeta, s.heartbeatMeta = metaPrefixes(in)

	if opts.Client != nil {
		c := *opts.Client
		if c.Jar == nil {
			// A cookie jar per sink: sticky load balancers in front of
			// indexers (AWS ALB/ELB, Splunk's channel_cookie) route the
			// ack queries of a channel to the indexer that holds its
			// ackIds by cookie.
			c.Jar, _ = cookiejar.New(nil)
		}
		c.CheckRedirect = noRedirect
		s.client = &c
		return s, nil
	}
	https := u.Scheme == "https"
	s.private = opts.AllowPrivate
	tlsCfg := func() (*tls.Config, error) {
		cfg, err := tlsconf.Client(in, u.Hostname())
		if err != nil {
			return nil, &sink.Error{Class: sink.Config, Code: -1, Msg: err.Error()}
		}
		return cfg, nil
	}
	var tr *http.Transport
	if opts.Transports != nil {
		key := keyFor(u.Scheme+"://"+u.Host, https, in, opts.AllowPrivate)
		if tr, err = opts.Transports.get(key, tlsCfg); err != nil {
			return nil, err
		}
	} else {
		cfg, err := tlsCfg()
		if err != nil {
			return nil, err
		}
		tr = newTransport(opts.AllowPrivate, cfg, ownTransport)
		s.transport = tr
	}
	if https {
		s.tlsCfg = tr.TLSClientConfig
	}
	s.rt = tr
	return s, nil
}

// setCookies keeps the cookies of a response in the sink's cookie jar,
// made when a response first sets one: sticky load balancers in front of
// indexers (AWS ALB/ELB, Splunk's channel_cookie) route the ack queries of
// a channel to the indexer that holds its ackIds by cookie.
func (s *Sink) setCookies(u *url.URL, cookies []*http.Cookie) {
	jar := s.jar.Load()
	if jar == nil {
		jar, _ = cookiejar.New(nil)
		if !s.jar.CompareAndSwap(nil, jar) {
			jar = s.jar.Load() // another request made it first
		}
	}
	jar.SetCookies(u, cookies)
}

// do sends req as an http.Client with the sink's cookie jar that follows
// no redirect would, less the copy of the request's headers that Client.Do
// makes for a redirect on every request (3 % of a periodic cycle's CPU).
// A 3xx comes back as it is, for post to report.
func (s *Sink) do(req *http.Request) (*http.Response, error) {
	if s.client != nil {
		return s.client.Do(req)
	}
	if jar := s.jar.Load(); jar != nil { // an empty jar's lookup parses the host (2 % of a cycle)
		for _, c := range jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
	}
	resp, err := s.rt.RoundTrip(req)
	if err != nil {
		// As Client.Do reports it; the URL has no credentials (the token
		// goes in a header).
		op := req.Method[:1] + strings.ToLower(req.Method[1:])
		return nil, &url.Error{Op: op, URL: req.URL.String(), Err: err}
	}
	if rc := resp.Cookies(); len(rc) > 0 {
		s.setCookies(req.URL, rc)
	}
	return resp, nil
}

// ownTransport bounds the transport of a sink without Options.Transports:
// it lives for one cycle.
var ownTransport = TransportOptions{IdleConnTimeout: 90 * time.Second, MaxIdlePerDestination: 4}

// noRedirect stops the client from following redirects: a 301/302 would
// turn the POST into a GET, and following one would send the token to
// wherever the destination points. The 3xx is reported instead. For a
// 307/308 the client has already made the next request's body (GetBody):
// close it, or post would wait for it to be released.
func noRedirect(next *http.Request, _ []*http.Request) error {
	if next.Body != nil {
		next.Body.Close()
	}
	return http.ErrUseLastResponse
}

// endpoints returns the event URL, the base for /ack and /health, and
// whether the URL is the raw endpoint. A URL with an empty path (or "/")
// means /services/collector/event; a path that ends in one of HEC's event
// or raw paths keeps it, and whatever precedes it (a reverse proxy's prefix)
// is the base of the other endpoints. A URL without a port means 8088.
func endpoints(rawURL string) (event *url.URL, base string, raw bool, err error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", false, &sink.Error{Class: sink.Config, Code: -1,
			Msg: "the HEC URL must be an http:// or https:// URL, e.g. https://splunk.example.com:8088"}
	}
	u.Fragment, u.User = "", nil
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), siemsync.DefaultHECPort)
	}
	p := strings.TrimSuffix(u.Path, "/")
	prefix := p
	if p == "" {
		p = "/services/collector/event"
	} else {
		for _, suf := range []string{"/services/collector/event/1.0", "/services/collector/event",
			"/services/collector/raw/1.0", "/services/collector/raw", "/services/collector"} {
			if strings.HasSuffix(p, suf) {
				prefix = strings.TrimSuffix(p, suf)
				raw = strings.Contains(suf, "/raw")
				break
			}
		}
	}
	u.Path, u.RawPath = p, ""
	b := url.URL{Scheme: u.Scheme, Host: u.Host, Path: prefix}
	return u, b.String(), raw, nil
}

// metaPrefixes are the envelope metadata of audit, job and heartbeat
// events (`,"source":…,"sourcetype":…[,"index":…],"event":`), in one
// allocation: a sink is built for every cycle.
func metaPrefixes(in *siemsync.Integration) (audit, job, heartbeat []byte) {
	st := cmp.Or(in.Sourcetype, siemsync.DefaultSourcetype)
	b := make([]byte, 0, 3*(64+len(in.Source)+len(st)+len(in.Index))+64)
	add := func(source string) []byte {
		start := len(b)
		b = append(b, `,"source":`...)
		b = appendString(b, source, 0)
		b = append(b, `,"sourcetype":`...)
		b = appendString(b, st, 0)
		if in.Index != "" {
			b = append(b, `,"index":`...)
			b = appendString(b, in.Index, 0)
		}
		b = append(b, `,"event":`...)
		return b[start:len(b):len(b)]
	}
	audit = add(cmp.Or(in.Source, siemsync.DefaultAuditSource))
	job = add(cmp.Or(in.Source, siemsync.DefaultJobSource))
	// Heartbeats always have their own source, to search and alert on.
	heartbeat = add(siemsync.HeartbeatSource)
	return audit, job, heartbeat
}

// Channel is the ack channel the sink sends on, "" when ack is off.
func (s *Sink) Channel() string { return s.channel }

// EventURL is the URL batches are posted to.
func (s *Sink) EventURL() string { return s.eventURL }

// Close closes the idle connections of the sink's own transport. The
// connections of a shared transport (Options.Transports) stay open for the
// next cycle, and those of a caller's client (Options.Client) are the
// caller's.
func (s *Sink) Close() error {
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	return nil
}

var (
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, GzipLevel)
		return w
	}}
	gzipBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// compress gzips body into a pooled buffer; give it back with releaseBuf.
func compress(body []byte) *bytes.Buffer {
	buf := gzipBufs.Get().(*bytes.Buffer)
	buf.Reset()
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(buf)
	zw.Write(body) //nolint:errcheck // writes to a bytes.Buffer do not fail
	zw.Close()     //nolint:errcheck // same
	gzipWriters.Put(zw)
	return buf
}

func releaseBuf(buf *bytes.Buffer) {
	// Only a modest buffer goes back: one huge batch should not pin its
	// memory for the life of the process.
	if buf.Cap() <= 16<<20 {
		gzipBufs.Put(buf)
	}
}

// Send posts one batch (body holds events envelopes) in one attempt and,
// when ack is on, waits until Splunk acknowledges it. It returns nil when
// the batch is delivered, else a *sink.Error.
func (s *Sink) Send(ctx context.Context, body []byte, events int) error {
	if len(body) == 0 {
		return nil
	}
	w := s.pack(body)
	defer w.Release()
	return w.Send(ctx, events)
}

// Packs reports whether Pack makes a copy of the body (gzip on), so that
// the caller can reuse the body's buffer while the request is in flight.
func (s *Sink) Packs() bool { return s.in.Gzip }

// Pack returns the batch in its wire form: gzip-compressed, with the
// request target it goes to. The body is not referenced afterwards when
// Packs is true.
func (s *Sink) Pack(body []byte) sink.Wire { return s.pack(body) }

func (s *Sink) pack(body []byte) *wire {
	w := &wire{s: s, payload: body, target: s.eventURL}
	if s.raw {
		sep := "?"
		if strings.Contains(w.target, "?") {
			sep = "&"
		}
		w.target += sep + s.rawQuery(body)
	}
	if s.in.Gzip {
		w.buf = compress(body)
		w.payload = w.buf.Bytes()
	}
	return w
}

// wire is a packed batch of this sink.
type wire struct {
	s       *Sink
	target  string
	payload []byte
	buf     *bytes.Buffer // the pooled gzip buffer, nil without gzip
}

func (w *wire) Send(ctx context.Context, events int) error {
	if len(w.payload) == 0 {
		return nil
	}
	s := w.s
	ans, err := s.post(ctx, w.target, w.payload, true)
	if err != nil {
		return err
	}
	if e := s.classify(ans, events); e != nil {
		return e
	}
	if !s.in.Ack {
		return nil
	}
	if ans.ackID < 0 {
		// Without an ackId nothing says the events were indexed: in ack
		// mode that is not a delivery (SPEC §4).
		return &sink.Error{Class: sink.Config, Status: ans.status, Code: ans.code,
			Msg: "ack is on for this integration but Splunk answered without an ackId: indexer acknowledgement is off on the token; turn ack off for this integration, or enable indexer acknowledgement (useACK) on the token in Splunk"}
	}
	return s.waitAck(ctx, ans.ackID)
}

func (w *wire) Body() ([]byte, error) {
	if w.buf == nil {
		return w.payload, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(w.payload))
	if err != nil {
		return nil, fmt.Errorf("uncompress batch: %w", err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("uncompress batch: %w", err)
	}
	return body, nil
}

func (w *wire) Release() {
	if w.buf != nil {
		releaseBuf(w.buf)
		w.buf, w.payload = nil, nil
	}
}

// rawQuery is the query string of a raw request: the metadata that the
// event endpoint takes from each envelope. A batch holds events of one data
// source and one account, so the first event says which (its kind and
// host); the cycle's API stays the same for both endpoints.
func (s *Sink) rawQuery(body []byte) string {
	first := body
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		first = body[:i]
	}
	var head struct {
		Kind string `json:"kind"`
		Host string `json:"host"`
	}
	_ = json.Unmarshal(first, &head) // our own encoding; on failure the defaults below apply
	source := siemsync.DefaultAuditSource
	switch head.Kind {
	case "job":
		source = siemsync.DefaultJobSource
	case "heartbeat":
		source = siemsync.HeartbeatSource
	}
	if s.in.Source != "" && head.Kind != "heartbeat" {
		source = s.in.Source
	}
	host := head.Host
	if host == "" {
		host = s.host
	}
	q := url.Values{}
	q.Set("source", source)
	q.Set("sourcetype", cmp.Or(s.in.Sourcetype, siemsync.DefaultSourcetype))
	q.Set("host", host)
	if s.in.Index != "" {
		q.Set("index", s.in.Index)
	}
	return q.Encode()
}

// Verify proves, without indexing anything, that the destination takes the
// integration's token (and channel): the empty POST of Test connection's
// token step, which Splunk answers with code 5 (No data) once the token is
// accepted. A cycle with nothing to send calls it (SPEC §8.3).
func (s *Sink) Verify(ctx context.Context) error {
	ans, err := s.post(ctx, s.eventURL, nil, false)
	if err != nil {
		return err
	}
	if ans.code == 5 || ans.status/100 == 2 {
		return nil
	}
	return s.classify(ans, 0)
}

// post sends one request and reads its answer. The request body is
// tracked so post returns only once the transport has let go of it: the
// caller reuses the buffer for the next batch.
func (s *Sink) post(ctx context.Context, target string, payload []byte, event bool) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	newBody, released := requestBody(payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return answer{}, &sink.Error{Class: sink.Config, Code: -1, Msg: "build request: " + err.Error()}
	}
	if len(payload) > 0 {
		req.Body = newBody()
		req.ContentLength = int64(len(payload))
		// With GetBody the transport may resend a request that failed on
		// a reused keep-alive connection before anything was written.
		req.GetBody = func() (io.ReadCloser, error) { return newBody(), nil }
	} else {
		// NoBody, not an empty reader: an empty reader would be sent
		// chunked (the token step posts an empty request).
		req.Body = http.NoBody
	}
	req.Header.Set("Authorization", s.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "siemsync")
	if event && s.in.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if s.channel != "" {
		req.Header.Set("X-Splunk-Request-Channel", s.channel)
	}

	start := time.Now()
	resp, err := s.do(req)
	defer func() {
		if !released() {
			s.log.Warn().Str("integration", s.in.ID).Msg("the HTTP transport did not release a request body within 10s")
		}
	}()
	if err != nil {
		s.observe(event, len(payload), 0, time.Since(start))
		return answer{}, s.transportError(ctx, err)
	}
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	// Drain what is left (bounded) so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) //nolint:errcheck // best effort
	resp.Body.Close()
	s.observe(event, len(payload), resp.StatusCode, time.Since(start))
	if rerr != nil && resp.StatusCode/100 != 2 {
		return answer{}, s.transportError(ctx, rerr)
	}
	ans := parseResponse(resp.StatusCode, raw)
	ans.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	ans.location = resp.Header.Get("Location")
	return ans, nil
}

// observe records the duration of one request, and reports event POSTs to
// Options.OnPost.
func (s *Sink) observe(event bool, wire, status int, d time.Duration) {
	s.metrics.ObserveRequest(kind, d.Seconds())
	if event && status/100 == 2 {
		s.metrics.SentWire(s.in.ID, wire)
	}
	if event && s.onPost != nil {
		s.onPost(PostInfo{WireBytes: wire, Status: status, Duration: d})
	}
}

// requestBody returns the bodies of a request that sends payload, and
// released, which waits until the transport has given back every body
// it was handed (so that payload may be reused) and reports whether it did.
func requestBody(payload []byte) (newBody func() io.ReadCloser, released func() bool) {
	if len(payload) <= smallBody {
		// A small payload is copied instead: the transport writes a
		// *bytes.Reader body with its headers in one write (it flushes
		// the headers first for any other kind of body), and the copy is
		// the transport's to keep.
		payload = bytes.Clone(payload)
		return func() io.ReadCloser { return io.NopCloser(bytes.NewReader(payload)) }, func() bool { return true }
	}
	var bodies sync.WaitGroup
	newBody = func() io.ReadCloser {
		bodies.Add(1)
		return &trackedBody{Reader: bytes.NewReader(payload), done: bodies.Done}
	}
	return newBody, func() bool { return waitBodies(&bodies) }
}

// smallBody is the largest payload post copies rather than lends to the
// transport: the copy costs less than waiting for the transport to give
// the body back, and a few kilobytes is what a periodic cycle sends.
const smallBody = 16 << 10

// trackedBody is a request body that reports when the transport closes it.
type trackedBody struct {
	*bytes.Reader
	once sync.Once
	done func()
}

func (b *trackedBody) Close() error {
	b.once.Do(b.done)
	return nil
}

// waitBodies waits for the transport to close every request body it was
// given, and reports whether it did. It does promptly once the answer is
// read; the bound only guards against a transport bug turning into a hung
// cycle.
func waitBodies(wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

func (s *Sink) hostname() string {
	u, err := url.Parse(s.eventURL)
	if err != nil {
		return "the HEC server"
	}
	return u.Host
}

// redact removes the token from a message that quotes something the
// server or the network stack said.
func (s *Sink) redact(msg string) string {
	if len(s.in.Token) >= 4 {
		msg = strings.ReplaceAll(msg, s.in.Token, "[token]")
	}
	return msg
}

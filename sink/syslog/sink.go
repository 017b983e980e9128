package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/netguard"
	"github.com/siemsync/siemsync/internal/tlsconf"
	"github.com/siemsync/siemsync/sink"
)

// Default ports and timeouts.
const (
	DefaultTCPPort      = siemsync.DefaultSyslogTCPPort // IANA syslog-conn; Trend Vision One's default for TCP
	DefaultTLSPort      = siemsync.DefaultSyslogTLSPort // RFC 5425
	DefaultDialTimeout  = 10 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultProbeWait    = 100 * time.Millisecond
	maxProbeWait        = 2 * time.Second
	// ClientAuthProbeWait is the least the sink listens after the
	// handshake, and after the first batch, on a connection whose server
	// asked for a client certificate: such a server (rsyslog's GnuTLS
	// driver) may complete the handshake and only then hang up on a
	// client it does not accept, and that must not pass for a delivery.
	ClientAuthProbeWait = time.Second
)

// metricKind labels the request duration histogram.
const metricKind = "syslog_cef"

// Options are the operator's settings of the syslog sink. Zero values take
// the defaults.
type Options struct {
	// AllowPrivate lets the sink connect to loopback, private and
	// link-local addresses (--allow-private-destinations).
	AllowPrivate bool
	// DialTimeout bounds the TCP connect and the TLS handshake (default 10s).
	DialTimeout time.Duration
	// WriteTimeout bounds the write of one batch, including the wait for
	// the server's TCP acknowledgement (default 30s).
	WriteTimeout time.Duration
	// ProbeWait is how long the sink listens, after the TLS handshake and
	// after each batch, for the server hanging up on it; the connect time
	// (one round trip) is added (default 100ms, at most 2s in all; at
	// least ClientAuthProbeWait on a new connection whose server asked for
	// a client certificate).
	ProbeWait time.Duration
	// Hostname is the RFC 5424 HOSTNAME when the event has no Host
	// (default: this machine's host name).
	Hostname string
	// Vendor, Product and Version are the CEF Device Vendor, Device
	// Product and Device Version (default "siemsync", "siemsync", the
	// module version or "1.0").
	Vendor, Product, Version string
	// Severity overrides the CEF severity (0–10) of record types; keys are
	// "audit" and the job statuses. See DefaultSeverity.
	Severity map[string]int
	// Facility is the syslog facility of the PRI (default 13, log audit;
	// 0 means the default, so kern cannot be chosen).
	Facility int
	// MaxMessageBytes caps one SYSLOG-MSG (default 8192, at least 2048):
	// longer records give up metadata, then msg, then other values.
	MaxMessageBytes int
	Metrics         *metrics.Metrics
	Logger          zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ProbeWait <= 0 {
		o.ProbeWait = DefaultProbeWait
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.Vendor == "" {
		o.Vendor = "siemsync"
	}
	if o.Product == "" {
		o.Product = "siemsync"
	}
	if o.Version == "" {
		o.Version = moduleVersion()
	}
	if o.Facility == 0 {
		o.Facility = DefaultFacility
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	return o
}

// moduleVersion is the CEF Device Version by default: siemsync's release,
// or "1.0" for a development build.
func moduleVersion() string {
	if v := siemsync.Version(); v != "devel" {
		return v
	}
	return "1.0"
}

// target is where an integration sends: host, port and protocol.
type target struct {
	host, port, addr string
	name             string // the name the server certificate must have (server_name, else host)
	tls              bool
}

// resolveTarget reads the address (adding the protocol's default port when
// it has none), the protocol and the framing of in.
func resolveTarget(in *siemsync.Integration) (target, error) {
	var t target
	switch in.Protocol {
	case "tls", "":
		t.tls = true
	case "tcp":
	default:
		return t, siemsync.Invalid("protocol", "must be tcp or tls, not %q", in.Protocol)
	}
	switch in.Framing {
	case "", "octet", "lf":
	default:
		return t, siemsync.Invalid("framing", "must be octet (RFC 5425/6587 octet counting) or lf, not %q", in.Framing)
	}
	if strings.TrimSpace(in.Address) == "" {
		return t, siemsync.Invalid("address", "is required: host:port of the syslog server, e.g. siem.example.com:6514")
	}
	host, port, err := siemsync.SyslogHostPort(in.Address, in.Protocol)
	if err != nil {
		return t, err
	}
	t.host, t.port, t.addr, t.name = host, port, net.JoinHostPort(host, port), host
	if in.ServerName != "" {
		t.name = in.ServerName
	}
	return t, nil
}

// Sink sends CEF records over one persistent TCP or TLS connection to the
// integration's syslog server. It is safe for concurrent use, but batches
// are written one at a time.
type Sink struct {
	in   *siemsync.Integration
	opts Options
	enc  *encoder
	tgt  target
	tls  *tls.Config
	log  zerolog.Logger

	mu      sync.Mutex
	conn    *connection
	batches int // batches delivered over all connections (for tests and logs)
}

// connection is one dialled connection and what is known about it.
type connection struct {
	net.Conn            // the *tls.Conn, or the TCP connection
	raw       net.Conn  // the TCP connection
	tc        *tls.Conn // nil for plain TCP
	rtt       time.Duration
	requested bool // the server asked for a client certificate
	delivered int  // batches written and probed on this connection
	hasCert   bool
}

// New returns a sink for the syslog CEF integration in. It does not
// connect: the first Send does. A bad integration or option is a
// *sink.Error of class Config.
func New(in *siemsync.Integration, opts Options) (*Sink, error) {
	opts = opts.withDefaults()
	tgt, err := resolveTarget(in)
	if err != nil {
		return nil, &sink.Error{Class: sink.Config, Msg: err.Error(), Err: err}
	}
	enc, err := newEncoder(in, &opts)
	if err != nil {
		return nil, &sink.Error{Class: sink.Config, Msg: err.Error(), Err: err}
	}
	s := &Sink{
		in: in, opts: opts, enc: enc, tgt: tgt,
		log: opts.Logger.With().Str("integration", in.ID).Str("kind", metricKind).Logger(),
	}
	if tgt.tls {
		s.tls, err = tlsconf.Client(in, tgt.host)
		if err != nil {
			return nil, &sink.Error{Class: sink.Config, Msg: err.Error(), Err: err}
		}
	}
	return s, nil
}

// Append appends one complete frame for ev to dst: "LEN SP SYSLOG-MSG"
// (octet counting) or "SYSLOG-MSG LF" (lf framing). It returns dst
// unchanged when the event's CEF severity is below the integration's
// min_severity, or when the event is of a data source (audit, jobs) the
// integration does not list.
func (s *Sink) Append(dst []byte, ev *siemsync.Event) []byte {
	return s.enc.appendEvent(dst, ev)
}

// Severity returns the CEF severity of ev under this sink's settings.
func (s *Sink) Severity(ev *siemsync.Event) int { return s.enc.severityOf(ev) }

// Send writes body, a batch of frames made by Append, to the server and
// checks that the connection survived it. TCP syslog has no
// application-level acknowledgement, so nil means: every byte was written,
// acknowledged by the server's TCP stack (on Linux), and the server did not
// close or reset the connection within the probe wait. On any failure the
// connection is closed (the next Send dials again) and the batch must be
// sent again: *sink.Error of class Retry, or Config when the server refuses
// the integration (TLS certificate, client certificate, forbidden address).
func (s *Sink) Send(ctx context.Context, body []byte, events int) error {
	if len(body) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	err := s.send(ctx, body)
	s.opts.Metrics.ObserveRequest(metricKind, time.Since(start).Seconds())
	if err != nil {
		s.dropConn()
		s.log.Warn().Err(err).Int("events", events).Int("bytes", len(body)).Msg("syslog batch not delivered")
		return err
	}
	s.batches++
	s.opts.Metrics.SentWire(s.in.ID, len(body))
	s.log.Debug().Int("events", events).Int("bytes", len(body)).Dur("took_ms", time.Since(start)).Msg("syslog batch written")
	return nil
}

func (s *Sink) send(ctx context.Context, body []byte) error {
	if err := ctx.Err(); err != nil {
		return &sink.Error{Class: sink.Retry, Msg: "not sent: " + err.Error(), Err: err}
	}
	if s.conn != nil {
		// A connection idle since the last batch may have been closed by
		// the server (restart, idle timeout): find out before writing,
		// so nothing is written into a dead connection.
		if err := probe(s.conn, time.Millisecond); err != nil {
			s.log.Info().Err(err).Msg("syslog server closed the connection; reconnecting")
			s.dropConn()
		}
	}
	if s.conn == nil {
		c, err := dial(ctx, s.tgt, s.tls, s.in, &s.opts)
		if err != nil {
			return err
		}
		s.conn = c
		s.log.Debug().Str("address", s.tgt.addr).Dur("connect_ms", c.rtt).Msg("syslog connected")
	}
	return writeBatch(ctx, s.conn, body, s.tgt, s.in, &s.opts)
}

// writeBatch writes body on c, waits for the server's TCP acknowledgement
// and probes the connection.
func writeBatch(ctx context.Context, c *connection, body []byte, tgt target, in *siemsync.Integration, o *Options) error {
	deadline := time.Now().Add(o.WriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { _ = c.raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.SetWriteDeadline(deadline); err != nil {
		return retry("set write deadline", err)
	}
	if _, err := c.Write(body); err != nil {
		return c.failure(ctx, tgt, in, "writing the batch to "+tgt.addr+" failed", err)
	}
	if err := waitAcked(ctx, c.raw, deadline); err != nil {
		what := tgt.addr + " did not acknowledge the data in time"
		if isHangUp(err) {
			what = tgt.addr + " closed the connection before acknowledging the batch"
		}
		return c.failure(ctx, tgt, in, what, err)
	}
	if err := probe(c, c.probeWait(o)); err != nil {
		return c.failure(ctx, tgt, in, tgt.addr+" closed the connection after receiving the batch", err)
	}
	if err := ctx.Err(); err != nil {
		// Cancelled during the probe, which then proves nothing: count
		// the batch as not delivered (a duplicate beats a loss).
		return c.failure(ctx, tgt, in, "the check after writing the batch to "+tgt.addr+" was cut short", err)
	}
	c.delivered++
	return nil
}

// failure classifies an error on an established connection.
func (c *connection) failure(ctx context.Context, tgt target, in *siemsync.Integration, what string, err error) error {
	if ctx.Err() != nil {
		return &sink.Error{Class: sink.Retry, Msg: what + " (" + ctx.Err().Error() + "); the batch will be sent again", Err: err}
	}
	msg := err.Error()
	if c.tc != nil {
		if strings.Contains(msg, "remote error: tls:") {
			return &sink.Error{Class: sink.Config, Msg: tlsconf.Explain(err, tgt.name), Err: err}
		}
		if c.delivered == 0 && c.requested && isHangUp(err) {
			// The server asked for a client certificate, completed the
			// handshake, then dropped the first data: rsyslog (GnuTLS and
			// OpenSSL drivers) checks the certificate only then.
			return &sink.Error{Class: sink.Config, Msg: refusedMsg(tgt.host, c.hasCert) + "; nothing was delivered, and the batch is sent again once this is fixed", Err: err}
		}
	}
	if c.tc == nil && c.delivered == 0 && isHangUp(err) {
		what += " (if this port expects TLS, set protocol to tls)"
	}
	return &sink.Error{Class: sink.Retry, Msg: what + "; the batch will be sent again", Err: err}
}

func refusedMsg(host string, hasCert bool) string {
	if hasCert {
		return fmt.Sprintf("%s asked for a client certificate and closed the connection after the TLS handshake: it most likely does not accept siemsync's client certificate; check that the server trusts the CA that signed client_cert_pem, that the certificate is valid now, and the server's permitted peers (rsyslog StreamDriver.PermittedPeer)", host)
	}
	return fmt.Sprintf("%s requires a client certificate and none is configured: it closed the connection after the TLS handshake; paste a client certificate and key that the server trusts (client_cert_pem, client_key_pem)", host)
}

// isHangUp reports whether err is the peer closing or resetting the
// connection.
func isHangUp(err error) bool {
	var ph *tlsconf.PostHandshakeError
	return errors.As(err, &ph) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func retry(what string, err error) error {
	return &sink.Error{Class: sink.Retry, Msg: what, Err: err}
}

// probeWait is how long to listen for the server hanging up: the probe
// wait plus one round trip, and at least ClientAuthProbeWait until the
// first batch went through when the server asked for a client certificate.
func (c *connection) probeWait(o *Options) time.Duration {
	w := min(o.ProbeWait+c.rtt, maxProbeWait)
	if c.requested && c.delivered == 0 {
		w = max(w, ClientAuthProbeWait)
	}
	return w
}

// peerState is what a socket says of its peer without waiting.
type peerState int

const (
	peerUnknown peerState = iota // cannot tell on this system
	peerQuiet                    // open, nothing sent
	peerSent                     // sent bytes that wait to be read
	peerClosed                   // closed or reset the connection
)

// probe listens on c for up to wait: a syslog server never speaks, so
// silence is the good case; EOF, a reset or a TLS alert means the server
// has dropped the connection. Bytes a server sends anyway are discarded.
func probe(c *connection, wait time.Duration) error {
	switch st, err := peek(c.raw); st {
	case peerClosed:
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("server closed the connection: %w", err)
		}
		return err
	case peerSent:
		// Bytes (a TLS alert, say) are already there: make sure the read
		// below gets to them, however busy the machine.
		wait = max(wait, 200*time.Millisecond)
	}
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	defer c.SetReadDeadline(time.Time{}) //nolint:errcheck // the probe result is what matters
	var b [512]byte
	_, err := c.Read(b[:])
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("server closed the connection: %w", err)
	}
	return err
}

// dial connects to tgt, and for TLS does the handshake and listens for a
// refusal of the client certificate right after it.
func dial(ctx context.Context, tgt target, base *tls.Config, in *siemsync.Integration, o *Options) (*connection, error) {
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	t0 := time.Now()
	raw, err := netguard.Dialer(o.AllowPrivate, o.DialTimeout).DialContext(dctx, "tcp", tgt.addr)
	if err != nil {
		return nil, dialError(ctx, tgt, err)
	}
	c := &connection{Conn: raw, raw: raw, rtt: time.Since(t0)}
	if !tgt.tls {
		return c, nil
	}
	if err := c.handshake(dctx, tgt, base, in, o); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return c, nil
}

// handshake runs the TLS handshake on c.raw and probes for a refusal.
func (c *connection) handshake(ctx context.Context, tgt target, base *tls.Config, in *siemsync.Integration, o *Options) error {
	cfg := base.Clone()
	var requested atomic.Bool
	certs := cfg.Certificates
	c.hasCert = len(certs) > 0
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		requested.Store(true)
		if len(certs) > 0 {
			return &certs[0], nil
		}
		return &tls.Certificate{}, nil
	}
	tc := tls.Client(c.raw, cfg)
	err := tc.HandshakeContext(ctx)
	c.requested = requested.Load()
	if err != nil {
		return handshakeError(ctx, tgt, c.requested, c.hasCert, err)
	}
	c.tc, c.Conn = tc, tc
	if err := tlsconf.ProbeAfterHandshake(tc, c.probeWait(o)); err != nil {
		class, msg := sink.Config, ""
		switch {
		case strings.Contains(err.Error(), "remote error: tls:"):
			msg = tlsconf.Explain(err, tgt.name)
		case c.requested:
			msg = refusedMsg(tgt.host, c.hasCert)
		default:
			// It did not ask for a client certificate, so that is not
			// why: a connection limit, a restart.
			class = sink.Retry
			msg = fmt.Sprintf("%s closed the connection right after the TLS handshake, without asking for a client certificate: the server may be at its connection limit or restarting", tgt.addr)
		}
		var ph *tlsconf.PostHandshakeError
		if errors.As(err, &ph) {
			err = ph.Err // msg already says it happened after the handshake
		}
		return &sink.Error{Class: class, Msg: msg, Err: err}
	}
	return nil
}

// dialError classifies a failed TCP connect.
func dialError(ctx context.Context, tgt target, err error) error {
	if errors.Is(err, netguard.ErrForbidden) {
		// The refusal says it all; the dial error would repeat it.
		var ge *netguard.Error
		if errors.As(err, &ge) {
			return &sink.Error{Class: sink.Config, Msg: ge.Error()}
		}
		return &sink.Error{Class: sink.Config, Msg: err.Error()}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return &sink.Error{Class: sink.Config, Msg: fmt.Sprintf("host %s not found (DNS): check the address", tgt.host), Err: err}
		}
		return &sink.Error{Class: sink.Retry, Msg: fmt.Sprintf("cannot resolve %s", tgt.host), Err: err}
	}
	if ctx.Err() != nil {
		return &sink.Error{Class: sink.Retry, Msg: "connect to " + tgt.addr + ": " + ctx.Err().Error(), Err: err}
	}
	return &sink.Error{Class: sink.Retry, Msg: connectMsg(tgt, err), Err: err}
}

func connectMsg(tgt target, err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s refused the connection: no syslog server listens on port %s (check the address and that the server accepts %s)", tgt.addr, tgt.port, protoName(tgt))
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer from %s: a firewall may be dropping the connection; allow siemsync's outbound address to reach port %s", tgt.addr, tgt.port)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s is unreachable from siemsync (no route): check the address and the network path", tgt.addr)
	}
	return fmt.Sprintf("connect to %s failed", tgt.addr)
}

func protoName(tgt target) string {
	if tgt.tls {
		return "syslog over TLS"
	}
	return "syslog over TCP"
}

// handshakeError classifies a failed TLS handshake.
func handshakeError(ctx context.Context, tgt target, requested, hasCert bool, err error) error {
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return &sink.Error{Class: sink.Config, Msg: fmt.Sprintf("%s does not answer with TLS: it may be a plain-TCP syslog port; use protocol tcp for it, or the server's TLS port (usually 6514)", tgt.addr), Err: err}
	}
	if ctx.Err() != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return &sink.Error{Class: sink.Retry, Msg: fmt.Sprintf("TLS handshake with %s timed out: check that the port serves syslog over TLS", tgt.addr), Err: err}
		}
		return &sink.Error{Class: sink.Retry, Msg: "TLS handshake with " + tgt.addr + ": " + ctx.Err().Error(), Err: err}
	}
	if isCertError(err) || strings.Contains(err.Error(), "remote error: tls:") || strings.Contains(err.Error(), "no supported versions") ||
		strings.Contains(err.Error(), "unsupported protocol version") {
		return &sink.Error{Class: sink.Config, Msg: tlsconf.Explain(err, tgt.name), Err: err}
	}
	if requested && isHangUp(err) {
		return &sink.Error{Class: sink.Config, Msg: refusedMsg(tgt.host, hasCert), Err: err}
	}
	return &sink.Error{Class: sink.Retry, Msg: tlsconf.Explain(err, tgt.name), Err: err}
}

func isCertError(err error) bool {
	var v *tls.CertificateVerificationError
	return errors.As(err, &v)
}

// Verify proves the destination works without sending an event: it
// connects and, for TLS, completes the handshake and listens for a refusal
// of the client certificate (SPEC §8.3, a cycle with nothing to send). The
// connection stays open for the rest of the cycle.
func (s *Sink) Verify(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		if err := probe(s.conn, time.Millisecond); err == nil {
			return nil
		}
		s.dropConn()
	}
	c, err := dial(ctx, s.tgt, s.tls, s.in, &s.opts)
	if err != nil {
		return err
	}
	if err := probe(c, c.probeWait(&s.opts)); err != nil {
		_ = c.raw.Close()
		return c.failure(ctx, s.tgt, s.in, s.tgt.addr+" closed the connection right after it was opened", err)
	}
	s.conn = c
	return nil
}

// Close closes the connection (sending a TLS close_notify first). It
// always returns nil: every batch was checked when it was sent.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	c := s.conn
	s.conn = nil
	_ = c.SetDeadline(time.Now().Add(time.Second))
	_ = c.Close() // nothing to report: every batch was checked when sent
	return nil
}

func (s *Sink) dropConn() {
	if s.conn != nil {
		_ = s.conn.raw.Close()
		s.conn = nil
	}
}

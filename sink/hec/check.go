package hec

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/netguard"
	"github.com/siemsync/siemsync/internal/tlsconf"
)

// Test connection limits: a person is waiting for the answer.
const (
	checkRequestTimeout = 15 * time.Second
	checkAckTimeout     = time.Minute
	// probeWait is how long the tls step listens after a TLS 1.3
	// handshake for a refusal of the client certificate; the server sends
	// it one round trip after the handshake, if at all.
	probeWait = 500 * time.Millisecond
)

// Check is the integration's Test connection. It runs the steps url, dns,
// tcp, tls (https only), health, token and, when sendTestEvent is set,
// send, in that order, and stops at the first failure, whose message says
// what to fix. The token step does not index anything: it posts an empty
// request, which Splunk answers with code 5 (No data) once the token is
// accepted.
func Check(ctx context.Context, in *siemsync.Integration, opts Options, sendTestEvent bool) []siemsync.Step {
	c := &checker{in: in, opts: opts}
	// Test connection proves that a new connection can be made now (DNS,
	// TCP, the certificate as it is today): never one kept from a cycle.
	c.opts.Transports = nil
	if c.opts.RequestTimeout <= 0 || c.opts.RequestTimeout > checkRequestTimeout {
		c.opts.RequestTimeout = checkRequestTimeout
	}
	steps := []func(context.Context) bool{c.url, c.dns, c.tcp, c.tls, c.health, c.token}
	if sendTestEvent {
		steps = append(steps, c.send)
	}
	defer func() {
		if c.sink != nil {
			c.sink.Close()
		}
		if c.conn != nil {
			c.conn.Close()
		}
	}()
	for _, step := range steps {
		if !step(ctx) {
			break
		}
	}
	return c.steps
}

type checker struct {
	in    *siemsync.Integration
	opts  Options
	steps []siemsync.Step

	u    *url.URL
	host string // host name or IP, no port
	addr string // host:port
	conn net.Conn
	sink *Sink
}

func (c *checker) add(name string, ok bool, format string, args ...any) bool {
	msg := fmt.Sprintf(format, args...)
	if len(c.in.Token) >= 4 {
		msg = strings.ReplaceAll(msg, c.in.Token, "[token]")
	}
	c.steps = append(c.steps, siemsync.Step{Name: name, OK: ok, Message: msg})
	return ok
}

func (c *checker) url(context.Context) bool {
	u, _, raw, err := endpoints(c.in.URL)
	if err != nil {
		return c.add("url", false, "%v", err)
	}
	c.u = u
	if c.u.User != nil || c.u.Query().Has("token") {
		return c.add("url", false, "the URL must not carry credentials or a token: put the HEC token in the token field")
	}
	c.host = c.u.Hostname()
	c.addr = c.u.Host // endpoints gave it a port: 8088 when the URL had none
	what := "events"
	if raw {
		what = "events (raw endpoint: one event object per line, metadata in the query string)"
	}
	msg := fmt.Sprintf("%s will be posted to %s", what, u)
	if ch := cmp.Or(c.in.Channel, channelIfNeeded(c.in, raw)); ch != "" {
		msg += " on channel " + ch
	}
	return c.add("url", true, "%s", msg)
}

func (c *checker) dns(ctx context.Context) bool {
	if ip := net.ParseIP(c.host); ip != nil {
		return c.add("dns", true, "%s is an IP address: no lookup needed", c.host)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", c.host)
	if err != nil {
		return c.add("dns", false, "%s", netguard.LookupFailure(c.host, err))
	}
	msg, ok := netguard.DescribeLookup(c.host, addrs, c.opts.AllowPrivate)
	return c.add("dns", ok, "%s", msg)
}

func (c *checker) tcp(ctx context.Context) bool {
	d := netguard.Dialer(c.opts.AllowPrivate, DefaultConnectTimeout)
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	var ge *netguard.Error
	var ne net.Error
	switch {
	case err == nil:
		c.conn = conn
		return c.add("tcp", true, "connected to %s (%s)", c.addr, conn.RemoteAddr())
	case errors.As(err, &ge):
		return c.add("tcp", false, "%s", ge.Error())
	case errors.Is(err, syscall.ECONNREFUSED):
		return c.add("tcp", false, "connection to %s refused: nothing listens on that port; check the port in the URL (HEC listens on 8088 by default) and that HEC is enabled in Splunk (Settings > Data inputs > HTTP Event Collector > Global Settings)", c.addr)
	case errors.As(err, &ne) && ne.Timeout():
		return c.add("tcp", false, "no answer from %s within %s: a firewall may drop the traffic, or the host is down", c.addr, DefaultConnectTimeout)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return c.add("tcp", false, "%s is unreachable from this server: check routing and firewalls", c.addr)
	}
	return c.add("tcp", false, "cannot connect to %s: %v", c.addr, err)
}

func (c *checker) tls(ctx context.Context) bool {
	if c.u.Scheme != "https" {
		// Plain HTTP has no TLS step; the config warnings say so.
		return true
	}
	cfg, err := tlsconf.Client(c.in, c.host)
	if err != nil {
		return c.add("tls", false, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout)
	defer cancel()
	tc := tls.Client(c.conn, cfg)
	err = tc.HandshakeContext(ctx)
	if err == nil && tc.ConnectionState().Version == tls.VersionTLS13 {
		// TLS 1.3 servers refuse a missing client certificate only
		// after the client considers the handshake done.
		err = tlsconf.ProbeAfterHandshake(tc, probeWait)
	}
	if err != nil {
		return c.add("tls", false, "%s", tlsconf.Explain(err, c.host))
	}
	st := tc.ConnectionState()
	msg := tls.VersionName(st.Version)
	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		names := leaf.DNSNames
		if len(names) == 0 {
			names = []string{leaf.Subject.CommonName}
		}
		msg += fmt.Sprintf("; certificate for %s issued by %s, valid until %s",
			strings.Join(names, ", "), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if c.in.InsecureSkipVerify {
		msg += "; NOT verified: insecure_skip_verify is on"
	}
	return c.add("tls", true, "%s", msg)
}

func (c *checker) health(ctx context.Context) bool {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	s, err := New(c.in, c.opts)
	if err != nil {
		return c.add("health", false, "%v", err)
	}
	c.sink = s
	ctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	// Unauthenticated, as Splunk serves it: the token step checks the
	// token with the endpoint that matters.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+healthPath, nil)
	req.Header.Set("User-Agent", "siemsync")
	resp, err := s.do(req)
	if err != nil {
		return c.add("health", false, "%s", s.transportError(ctx, err).Error())
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	a := parseResponse(resp.StatusCode, raw)
	switch {
	case resp.StatusCode == http.StatusOK && (a.code == 17 || a.code == -1):
		return c.add("health", true, "HEC is healthy")
	case a.code >= 18 && a.code <= 20:
		return c.add("health", false, "%s: Splunk does not accept data right now; check the indexers and their queues", retryMsg[a.code])
	case resp.StatusCode == http.StatusNotFound:
		return c.add("health", false, "no HEC health endpoint at %s (HTTP 404): check the URL; it should point at Splunk's HEC port (8088 by default)", s.base+healthPath)
	case resp.StatusCode/100 == 2:
		return c.add("health", true, "HEC answered HTTP %d%s", resp.StatusCode, s.detail(a))
	}
	return c.add("health", false, "the HEC health check answered HTTP %d%s", resp.StatusCode, s.detail(a))
}

func (c *checker) token(ctx context.Context) bool {
	s := c.sink
	ans, err := s.post(ctx, s.eventURL, nil, false)
	if err != nil {
		return c.add("token", false, "%s", err.Error())
	}
	var msg string
	switch {
	case ans.code == 5:
		msg = "Splunk accepted the token (an empty request, answered with code 5 No data: nothing was indexed)"
	case ans.status/100 == 2:
		msg = "the server accepted the token (the request was empty: nothing was indexed)"
	default:
		return c.add("token", false, "%s", s.classify(ans, 0).Msg)
	}
	if c.in.Ack {
		// An ack query for an id that does not exist tells whether the
		// token has useACK on, without sending data.
		a, err := s.post(ctx, s.base+ackPath, []byte(`{"acks":[0]}`), false)
		if err != nil {
			return c.add("token", false, "token accepted, but the ack query failed: %s", err.Error())
		}
		if a.status/100 != 2 {
			return c.add("token", false, "%s", s.classifyAck(a).Msg)
		}
		msg += "; indexer acknowledgement is enabled on the token"
	}
	return c.add("token", true, "%s", msg)
}

func (c *checker) send(ctx context.Context) bool {
	s := c.sink
	s.ackWait = min(s.ackWait, checkAckTimeout)
	id := uuid.NewString()
	now := time.Now()
	b := make([]byte, 0, 512)
	if !s.raw {
		// The raw endpoint takes the event object alone (metadata in the
		// query string, as Send adds it).
		b = append(b, `{"time":`...)
		b = appendEpoch(b, now)
		b = append(b, `,"host":`...)
		b = appendString(b, s.host, 0)
		b = append(b, s.auditMeta...)
	}
	b = append(b, `{"kind":"test","id":`...)
	b = appendString(b, id, 0)
	b = append(b, `,"time":`...)
	b = appendRFC3339Milli(b, now)
	b = append(b, `,"host":`...)
	b = appendString(b, s.host, 0)
	b = append(b, `,"account":`...)
	b = appendOptString(b, c.in.Account, 0)
	b = append(b, `,"integration":`...)
	b = appendOptString(b, c.in.ID, 0)
	b = append(b, `,"message":`...)
	b = appendString(b, "siemsync test event: integration "+c.in.Name+" can deliver to this HEC endpoint", 0)
	b = append(b, '}')
	if !s.raw {
		b = append(b, '}')
	}
	b = append(b, '\n')
	if err := s.Send(ctx, b, 1); err != nil {
		return c.add("send", false, "%s", err.Error())
	}
	where := "the token's default index"
	if c.in.Index != "" {
		where = "index " + c.in.Index
	}
	return c.add("send", true, "sent a test event to %s; search Splunk for: kind=test id=%s", where, id)
}

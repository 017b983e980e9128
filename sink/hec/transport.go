package hec

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/siemsync/siemsync/internal/netguard"
	"github.com/siemsync/siemsync/internal/tlsconf"
	"github.com/siemsync/siemsync/sink"
)

// transportError classifies a failure to get an answer at all.
func (s *Sink) transportError(ctx context.Context, err error) *sink.Error {
	host := s.hostname()
	e := &sink.Error{Class: sink.Retry, Code: -1, Err: err}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var probe error
	if s.tlsCfg != nil && isHangUp(err) && !isTLSError(err) {
		// A TLS 1.3 server refuses a client certificate only after the
		// client has started to send, which looks like a broken pipe or
		// a reset; a fresh handshake and a short wait tell which it was.
		probe = s.probeTLS(ctx)
	}
	switch {
	case errors.Is(err, netguard.ErrForbidden):
		var ge *netguard.Error
		e.Class = sink.Config
		if errors.As(err, &ge) {
			e.Msg, e.Err = ge.Error(), nil
		} else {
			e.Msg = "destination refused by the private-destination rule"
		}
	case isTLSError(err):
		e.Class = sink.Config
		e.Msg, e.Err = tlsconf.Explain(err, host), nil
	case probe != nil:
		e.Class = sink.Config
		e.Msg, e.Err = tlsconf.Explain(probe, host), nil
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		e.Class = sink.Config
		e.Msg, e.Err = fmt.Sprintf("cannot resolve %s: no such host; check the host name in the URL", dnsErr.Name), nil
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded):
		e.Msg, e.Err = fmt.Sprintf("no answer from %s within %s", host, s.timeout), nil
	case errors.As(err, &opErr) && opErr.Op == "dial":
		e.Msg = "connect to " + host
	default:
		e.Msg = "post batch to " + host
	}
	e.Msg = s.redact(e.Msg)
	return e
}

// isTLSError reports whether err is the handshake or certificate failing,
// which a retry will not fix.
func isTLSError(err error) bool {
	var (
		verr   *tls.CertificateVerificationError
		rec    tls.RecordHeaderError
		x509H  x509.HostnameError
		x509U  x509.UnknownAuthorityError
		x509CI x509.CertificateInvalidError
	)
	if errors.As(err, &verr) || errors.As(err, &rec) || errors.As(err, &x509H) || errors.As(err, &x509U) || errors.As(err, &x509CI) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "remote error: tls:") || strings.Contains(msg, "tls: server selected unsupported protocol version") ||
		strings.Contains(msg, "tls: no supported versions")
}

// isHangUp reports whether err is the peer closing the connection.
func isHangUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// probeTLS opens a new connection, handshakes and listens briefly for a
// refusal, and returns the refusal (nil when the server seems content).
func (s *Sink) probeTLS(ctx context.Context) error {
	u, err := url.Parse(s.eventURL)
	if err != nil {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout)
	defer cancel()
	conn, err := netguard.Dialer(s.private, DefaultConnectTimeout).DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil
	}
	defer conn.Close()
	tc := tls.Client(conn, s.tlsCfg.Clone())
	if err := tc.HandshakeContext(ctx); err != nil {
		if isTLSError(err) {
			return err
		}
		return nil
	}
	if tc.ConnectionState().Version != tls.VersionTLS13 {
		return nil
	}
	return tlsconf.ProbeAfterHandshake(tc, probeWait)
}

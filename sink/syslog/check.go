package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/netguard"
	"github.com/siemsync/siemsync/internal/tlsconf"
)

// Names of the Test connection steps.
const (
	StepAddress = "address"
	StepDNS     = "dns"
	StepTCP     = "tcp"
	StepTLS     = "tls"
	StepSend    = "send"
)

// Check runs Test connection for a syslog CEF integration: address, DNS,
// TCP connect, TLS handshake and certificates (TLS only) and, when
// sendTestMessage is set, one CEF test message (signature id 900). It stops
// at the first failed step; the failed step's Message says what to fix.
func Check(ctx context.Context, in *siemsync.Integration, opts Options, sendTestMessage bool) []siemsync.Step {
	opts = opts.withDefaults()
	var steps []siemsync.Step
	ok := func(name, format string, args ...any) {
		steps = append(steps, siemsync.Step{Name: name, OK: true, Message: fmt.Sprintf(format, args...)})
	}
	fail := func(name, msg string) []siemsync.Step {
		return append(steps, siemsync.Step{Name: name, Message: msg})
	}

	// address
	tgt, err := resolveTarget(in)
	if err != nil {
		return fail(StepAddress, err.Error())
	}
	enc, err := newEncoder(in, &opts)
	if err != nil {
		return fail(StepAddress, err.Error())
	}
	framing := "octet-counting framing (RFC 5425/6587)"
	if in.Framing == "lf" {
		framing = "LF framing"
	}
	var tcfg *tls.Config
	if tgt.tls {
		if tcfg, err = tlsconf.Client(in, tgt.host); err != nil {
			return fail(StepAddress, err.Error())
		}
	}
	ok(StepAddress, "%s, %s, %s", tgt.addr, protoName(tgt), framing)

	// dns
	dctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	if ip, err := netip.ParseAddr(tgt.host); err == nil {
		if !opts.AllowPrivate {
			if err := netguard.CheckAddr(ip); err != nil {
				return fail(StepDNS, err.Error())
			}
		}
		ok(StepDNS, "%s is an IP address: no lookup needed", tgt.host)
	} else {
		addrs, err := net.DefaultResolver.LookupNetIP(dctx, "ip", tgt.host)
		if err != nil {
			return fail(StepDNS, netguard.LookupFailure(tgt.host, err))
		}
		msg, resolved := netguard.DescribeLookup(tgt.host, addrs, opts.AllowPrivate)
		if !resolved {
			return fail(StepDNS, msg)
		}
		ok(StepDNS, "%s", msg)
	}

	// tcp
	t0 := time.Now()
	raw, err := netguard.Dialer(opts.AllowPrivate, opts.DialTimeout).DialContext(dctx, "tcp", tgt.addr)
	if err != nil {
		return fail(StepTCP, errorMsg(dialError(ctx, tgt, err)))
	}
	c := &connection{Conn: raw, raw: raw, rtt: time.Since(t0)}
	defer func() { _ = c.Close() }()
	ok(StepTCP, "connected to %s in %s", raw.RemoteAddr(), c.rtt.Round(time.Millisecond))

	// tls
	if tgt.tls {
		if err := c.handshake(dctx, tgt, tcfg, in, &opts); err != nil {
			return fail(StepTLS, errorMsg(err))
		}
		ok(StepTLS, "%s", describeTLS(c, in))
	}

	// send
	if !sendTestMessage {
		return steps
	}
	id := uuid.NewString()
	r := enc.testRecord(in, id, time.Now())
	frame := enc.appendFrame(nil, &r)
	if err := writeBatch(ctx, c, frame, tgt, in, &opts); err != nil {
		return fail(StepSend, errorMsg(err))
	}
	ok(StepSend, "sent one CEF test message (signature id %s, externalId %s) and the server kept the connection open; syslog over TCP/TLS has no acknowledgement from the server application, so confirm it arrived in your SIEM", SigTest, id)
	return steps
}

func errorMsg(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// describeTLS summarises a successful handshake for the admin.
func describeTLS(c *connection, in *siemsync.Integration) string {
	st := c.tc.ConnectionState()
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	if len(st.PeerCertificates) > 0 {
		cert := st.PeerCertificates[0]
		fmt.Fprintf(&b, "; server certificate for %s", strings.Join(certNames(cert), ", "))
		if cert.Issuer.CommonName != "" {
			fmt.Fprintf(&b, " issued by %q", cert.Issuer.CommonName)
		}
		fmt.Fprintf(&b, ", valid until %s", cert.NotAfter.UTC().Format("2006-01-02"))
		if d := time.Until(cert.NotAfter); d < 30*24*time.Hour {
			fmt.Fprintf(&b, " (expires in %d days: renew it soon)", int(d.Hours()/24))
		}
	}
	if in.InsecureSkipVerify {
		b.WriteString("; WARNING: the server certificate was NOT verified (insecure_skip_verify is set), so anyone on the network path could read or change the data")
	}
	switch {
	case c.requested && c.hasCert:
		b.WriteString("; the server asked for a client certificate and siemsync sent one")
	case c.requested:
		b.WriteString("; the server asked for a client certificate and none is configured, but it kept the connection open, so it seems not to require one (send a test message to be sure)")
	case c.hasCert:
		b.WriteString("; the server did not ask for the configured client certificate")
	}
	return b.String()
}

func certNames(c *x509.Certificate) []string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	return names
}

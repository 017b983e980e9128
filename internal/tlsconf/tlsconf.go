// Package tlsconf builds the TLS client configuration of an integration and
// turns TLS failures into sentences an admin can act on. Both sinks (HEC and
// syslog) and their Test connection use it, so a certificate problem reads
// the same wherever it shows up.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/siemsync/siemsync"
)

// SplunkDefaultCN is the common name of the self-signed certificate every
// Splunk installation starts with. Its issuer, SplunkCommonCA, is the same
// on every installation, so trusting it proves nothing about the server.
const SplunkDefaultCN = "SplunkServerDefaultCert"

// Client returns the TLS configuration for connecting to host on behalf of
// in: TLS 1.2 at least, the integration's CA (else the system roots), its
// client certificate, and its server name override.
func Client(in *siemsync.Integration, host string) (*tls.Config, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         host,
		InsecureSkipVerify: in.InsecureSkipVerify, //nolint:gosec // the admin's explicit choice, shown as a warning
	}
	if in.ServerName != "" {
		cfg.ServerName = in.ServerName
	}
	if in.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(in.CAPEM)) {
			return nil, errors.New("read ca_pem: no PEM certificate found: paste the CA certificate starting with -----BEGIN CERTIFICATE-----")
		}
		cfg.RootCAs = pool
	}
	if in.ServerName != "" && !in.InsecureSkipVerify {
		// Go matches names only against subject alternative names, but
		// Splunk's default certificate has a common name alone, and
		// Splunk's own clients check it (sslCommonNameToCheck). When the
		// admin names the server explicitly, accept a certificate without
		// SANs whose common name is that name. crypto/tls can only relax
		// its checks by skipping them, so the whole verification is done
		// here, with the same roots and key usage.
		cfg.InsecureSkipVerify = true //nolint:gosec // verifyConnection below verifies the chain and the name
		cfg.VerifyConnection = verifyConnection(cfg)
	}
	if in.ClientCertPEM != "" || in.ClientKeyPEM != "" {
		pair, err := tls.X509KeyPair([]byte(in.ClientCertPEM), []byte(in.ClientKeyPEM))
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// verifyConnection verifies the server's chain against cfg.RootCAs (nil:
// the system roots) and its name against cfg.ServerName, accepting the
// common name of a certificate that has no SANs.
func verifyConnection(cfg *tls.Config) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		opts := x509.VerifyOptions{
			Roots:         cfg.RootCAs,
			Intermediates: x509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if err := leaf.VerifyHostname(cfg.ServerName); err != nil {
			noSANs := len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 && len(leaf.URIs) == 0 && len(leaf.EmailAddresses) == 0
			if !noSANs || leaf.Subject.CommonName != cfg.ServerName {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
		}
		if _, err := leaf.Verify(opts); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
}

// PostHandshakeError is a failure ProbeAfterHandshake saw on the first read
// after a handshake that looked successful. With TLS 1.3 the client
// finishes its side of the handshake before the server has checked the
// client certificate, so a server that requires one refuses only now: with
// a certificate_required alert, or by closing the connection.
type PostHandshakeError struct {
	Err error
}

func (e *PostHandshakeError) Error() string {
	return "server closed the connection after the TLS handshake: " + e.Err.Error()
}

func (e *PostHandshakeError) Unwrap() error { return e.Err }

// ProbeAfterHandshake reads from a freshly handshaken connection for up to
// wait to surface a refusal the server sends after the handshake (see
// PostHandshakeError). Silence until the deadline is the good case: an
// HTTP or syslog server says nothing until spoken to. Bytes read are lost,
// so call it only on a connection used for nothing else afterwards, or one
// whose server speaks only when asked.
func ProbeAfterHandshake(conn *tls.Conn, wait time.Duration) error {
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return fmt.Errorf("set read deadline: %w", err)
	}
	defer conn.SetReadDeadline(time.Time{}) //nolint:errcheck // best effort: the probe result is what matters
	var b [1]byte
	_, err := conn.Read(b[:])
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ne) && ne.Timeout():
		return nil
	}
	return &PostHandshakeError{Err: err}
}

// Explain turns a TLS failure talking to host into one sentence saying what
// is wrong and what to change. Errors it does not recognise are passed on
// with a prefix naming the host.
func Explain(err error, host string) string {
	if err == nil {
		return ""
	}
	if h, _, e := net.SplitHostPort(host); e == nil {
		host = h
	}

	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		want := hostErr.Host
		if want == "" {
			want = host
		}
		return explainHostname(hostErr.Certificate, host, want)
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		if isSplunkDefault(unknown.Cert) {
			return fmt.Sprintf("the certificate of %s is Splunk's self-signed default certificate (%s), which siemsync does not trust: install a certificate from your CA on Splunk, or paste Splunk's CA certificate in ca_pem and set server name to %s",
				host, SplunkDefaultCN, SplunkDefaultCN)
		}
		return fmt.Sprintf("the certificate of %s%s is signed by an authority siemsync does not trust: paste the CA certificate in ca_pem", host, issuedBy(unknown.Cert))
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		return explainInvalid(invalid, host)
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return fmt.Sprintf("the certificate of %s could not be verified (%v): check ca_pem and server name", host, verr.Err)
	}
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return fmt.Sprintf("%s did not answer with TLS (it may speak plain HTTP or another protocol on this port): use http:// for a server without TLS, or check the port", host)
	}

	msg := err.Error()
	var post *PostHandshakeError
	isPost := errors.As(err, &post)
	switch {
	case strings.Contains(msg, "certificate required"):
		return fmt.Sprintf("%s requires a client certificate and refused the connection: paste a client certificate and key that the server trusts (client_cert_pem, client_key_pem)", host)
	case strings.Contains(msg, "remote error: tls: bad certificate"):
		return fmt.Sprintf("%s refused the client certificate, or requires one and none was sent: paste a client certificate and key that the server trusts (client_cert_pem, client_key_pem)", host)
	case strings.Contains(msg, "remote error: tls: unknown certificate authority"):
		return fmt.Sprintf("%s does not trust the authority that signed the client certificate: use a client certificate signed by a CA the server trusts", host)
	case strings.Contains(msg, "remote error: tls: certificate expired"):
		return fmt.Sprintf("%s refused the client certificate because it has expired: renew the client certificate", host)
	case strings.Contains(msg, "remote error: tls: protocol version not supported"),
		strings.Contains(msg, "server selected unsupported protocol version"),
		strings.Contains(msg, "no supported versions satisfy"):
		return fmt.Sprintf("%s only offers a TLS version older than 1.2, which siemsync refuses: enable TLS 1.2 or 1.3 on the server (Splunk sslVersions = tls1.2)", host)
	case strings.Contains(msg, "remote error: tls: handshake failure"):
		return fmt.Sprintf("%s refused the TLS handshake: it probably requires a client certificate (paste one the server trusts in client_cert_pem and client_key_pem); otherwise it offers no TLS 1.2+ cipher suite siemsync accepts", host)
	case isPost:
		// TLS 1.3: the only sign of a refused (or missing) client
		// certificate is often the server hanging up right away.
		return fmt.Sprintf("%s closed the connection right after the TLS handshake: it most likely requires a client certificate it accepts; paste one in client_cert_pem and client_key_pem", host)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("%s closed the connection during the TLS handshake: check that the port serves TLS, and whether the server requires a client certificate", host)
	}
	return fmt.Sprintf("TLS handshake with %s failed: %v", host, err)
}

// explainHostname: host is the server dialled, want the name checked (the
// server name setting when there is one).
func explainHostname(cert *x509.Certificate, host, want string) string {
	if isSplunkDefault(cert) {
		return fmt.Sprintf("%s presents Splunk's self-signed default certificate (%s), which names no real host: install a certificate for %s on Splunk, or paste Splunk's CA certificate in ca_pem and set server name to %s",
			host, SplunkDefaultCN, host, SplunkDefaultCN)
	}
	names := certNames(cert)
	if len(names) == 0 {
		return fmt.Sprintf("the certificate of %s names no host (no subject alternative names): install a certificate for %s, or set server name to a name the certificate has", host, host)
	}
	return fmt.Sprintf("the certificate of %s is for %s, not %s: connect to one of those names (in the URL or address), set server name, or install a certificate for %s",
		host, strings.Join(names, ", "), want, host)
}

func explainInvalid(e x509.CertificateInvalidError, host string) string {
	c := e.Cert
	switch e.Reason {
	case x509.Expired:
		now := time.Now()
		if c != nil && now.Before(c.NotBefore) {
			return fmt.Sprintf("the certificate of %s is not valid before %s (now %s): check the server's clock and certificate, or this machine's clock",
				host, c.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		if c != nil {
			return fmt.Sprintf("the certificate of %s expired on %s: renew the certificate on the server", host, c.NotAfter.UTC().Format(time.RFC3339))
		}
		return fmt.Sprintf("the certificate of %s has expired or is not yet valid: renew it", host)
	case x509.NotAuthorizedToSign:
		return fmt.Sprintf("the certificate chain of %s is invalid: a certificate in it is not a CA but signed another; fix the chain on the server", host)
	case x509.IncompatibleUsage:
		return fmt.Sprintf("the certificate of %s is not meant for a TLS server (extended key usage): install a server certificate", host)
	}
	return fmt.Sprintf("the certificate of %s is invalid: %v", host, e)
}

func isSplunkDefault(c *x509.Certificate) bool {
	return c != nil && c.Subject.CommonName == SplunkDefaultCN
}

func issuedBy(c *x509.Certificate) string {
	if c == nil || c.Issuer.CommonName == "" {
		return ""
	}
	return fmt.Sprintf(" (issued by %q)", c.Issuer.CommonName)
}

// certNames lists the names a certificate is valid for; the common name is
// listed only when there are no SANs, since Go (and Splunk's clients)
// ignore it otherwise.
func certNames(c *x509.Certificate) []string {
	if c == nil {
		return nil
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName+" (common name only, no subject alternative names)")
	}
	return names
}

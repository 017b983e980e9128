package siemsync

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"time"
)

// CertWarningWindow is how long before a certificate expires the
// integration starts to warn about it.
const CertWarningWindow = 30 * 24 * time.Hour

// ConfigWarnings lists what works today but puts the data at risk or will
// stop working soon: TLS verification turned off, traffic in clear text,
// and certificates (client and CA) that have expired or expire within
// CertWarningWindow. The admin page shows them beside the status.
func (in *Integration) ConfigWarnings(now time.Time) []string {
	var w []string
	if in.InsecureSkipVerify {
		w = append(w, "TLS certificate verification is off (insecure_skip_verify): anyone on the path can read the data")
	}
	switch in.Kind {
	case KindHEC:
		if u, err := url.Parse(in.URL); err == nil && u.Scheme == "http" {
			w = append(w, "the HEC URL uses http://: the events and the token travel unencrypted; use https://")
		}
	case KindSyslog:
		if in.Protocol == "tcp" {
			w = append(w, "syslog over plain TCP: the events travel unencrypted; use tls")
		}
	}
	for _, c := range pemCerts(in.ClientCertPEM, 1) {
		if msg := expiry(c, now); msg != "" {
			w = append(w, "client certificate "+msg)
		}
	}
	for _, c := range pemCerts(in.CAPEM, -1) {
		if msg := expiry(c, now); msg != "" {
			name := c.Subject.CommonName
			if name == "" {
				name = c.Subject.String()
			}
			w = append(w, fmt.Sprintf("CA certificate %q %s", name, msg))
		}
	}
	return w
}

// pemCerts parses up to limit certificates (all when limit < 0) from a PEM
// bundle, skipping what does not parse: validation reports bad PEM.
func pemCerts(s string, limit int) []*x509.Certificate {
	var out []*x509.Certificate
	rest := []byte(s)
	for limit < 0 || len(out) < limit {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// expiry says when c expires if that is within the warning window, or
// that it has expired or is not valid yet; "" when all is well.
func expiry(c *x509.Certificate, now time.Time) string {
	date := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	switch {
	case now.Before(c.NotBefore):
		return fmt.Sprintf("is not valid before %s: check the certificate and the server's clock", date(c.NotBefore))
	case !now.Before(c.NotAfter):
		return fmt.Sprintf("expired on %s (%s ago): renew it; connections will fail", date(c.NotAfter), days(now.Sub(c.NotAfter)))
	case c.NotAfter.Sub(now) <= CertWarningWindow:
		return fmt.Sprintf("expires on %s (in %s): renew it", date(c.NotAfter), days(c.NotAfter.Sub(now)))
	}
	return ""
}

func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

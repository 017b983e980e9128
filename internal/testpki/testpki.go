// Package testpki makes throwaway certificate authorities and certificates
// for tests (ECDSA P-256): TLS servers, client certificates for mutual TLS,
// expired or soon-to-expire certificates, and certificates naming the wrong
// host. It is only imported by tests.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  string // the CA certificate, PEM encoded
}

// Validity is a certificate's lifetime; zero times mean an hour ago and a
// day from now.
type Validity struct {
	NotBefore, NotAfter time.Time
}

func (v Validity) times() (time.Time, time.Time) {
	nb, na := v.NotBefore, v.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().Add(24 * time.Hour)
	}
	return nb, na
}

// NewCA returns a CA whose certificate is valid for a day.
func NewCA(t testing.TB, cn string) *CA { return NewCAValid(t, cn, Validity{}) }

// NewCAValid returns a CA whose certificate has the given lifetime.
func NewCAValid(t testing.TB, cn string, v Validity) *CA {
	t.Helper()
	key := newKey(t)
	nb, na := v.times()
	tmpl := &x509.Certificate{
		SerialNumber: serial(t), Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key, PEM: encode("CERTIFICATE", der)}
}

// Leaf describes a certificate to issue. A server certificate (Client
// false) names CN, DNS and IPs; a client certificate is for client auth.
type Leaf struct {
	CN     string
	DNS    []string
	IPs    []net.IP
	Client bool
	Validity
}

// Issue signs a certificate and returns it as a tls.Certificate and as
// certificate and PKCS #8 private key PEMs (which rsyslog's TLS drivers
// read as well as Go does).
func (c *CA) Issue(t testing.TB, l Leaf) (pair tls.Certificate, certPEM, keyPEM string) {
	t.Helper()
	key := newKey(t)
	nb, na := l.times()
	usage := x509.ExtKeyUsageServerAuth
	if l.Client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t), Subject: pkix.Name{CommonName: l.CN}, DNSNames: l.DNS, IPAddresses: l.IPs,
		NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, &key.PublicKey, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM = encode("CERTIFICATE", der), encode("PRIVATE KEY", kder)
	pair, err = tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// serial is a random 127-bit serial number: certificates from one CA in one
// test must not share one.
func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func encode(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

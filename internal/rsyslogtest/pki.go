package rsyslogtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a test CA with a server certificate for 127.0.0.1 and localhost
// and a client certificate, plus a client certificate from another CA.
// Every certificate and key is there as PEM and as a file (0600) in a
// temporary directory of the test. The certificates are valid from an hour
// ago for a day.
type PKI struct {
	Dir string

	CAPEM                 string // the CA certificate
	ServerCert, ServerKey string // signed by the CA, for 127.0.0.1 and localhost
	ClientCert, ClientKey string // signed by the CA, for client authentication
	RogueCert, RogueKey   string // a client certificate from another CA

	CAFile, ServerCertFile, ServerKeyFile string
	ClientCertFile, ClientKeyFile         string
	RogueCertFile, RogueKeyFile           string
}

// CAName is the common name of the PKI's CA, as error messages show it.
const CAName = "siemsync test CA"

// NewPKI generates a PKI (ECDSA P-256) and writes its files.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir()}
	ca, caKey, caPEM := newCA(t, CAName)
	p.CAPEM = caPEM
	p.ServerCert, p.ServerKey = newLeaf(t, ca, caKey, "127.0.0.1", true)
	p.ClientCert, p.ClientKey = newLeaf(t, ca, caKey, "siemsync client", false)
	rogue, rogueKey, _ := newCA(t, "rogue CA")
	p.RogueCert, p.RogueKey = newLeaf(t, rogue, rogueKey, "rogue client", false)
	write := func(name, data string) string {
		path := filepath.Join(p.Dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.CAFile = write("ca.pem", p.CAPEM)
	p.ServerCertFile = write("server.pem", p.ServerCert)
	p.ServerKeyFile = write("server.key", p.ServerKey)
	p.ClientCertFile = write("client.pem", p.ClientCert)
	p.ClientKeyFile = write("client.key", p.ClientKey)
	p.RogueCertFile = write("rogue.pem", p.RogueCert)
	p.RogueKeyFile = write("rogue.key", p.RogueKey)
	return p
}

// nextSerial returns a random 127-bit serial number.
func nextSerial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newCA(t testing.TB, cn string) (*x509.Certificate, *ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(t),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func newLeaf(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, server bool) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

package rsyslogtest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/siemsync/siemsync/internal/testpki"
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
	ca := testpki.NewCA(t, CAName)
	p.CAPEM = ca.PEM
	_, p.ServerCert, p.ServerKey = ca.Issue(t, testpki.Leaf{CN: "127.0.0.1", DNS: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	_, p.ClientCert, p.ClientKey = ca.Issue(t, testpki.Leaf{CN: "siemsync client", Client: true})
	_, p.RogueCert, p.RogueKey = testpki.NewCA(t, "rogue CA").Issue(t, testpki.Leaf{CN: "rogue client", Client: true})
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

package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/testpki"
)

// serve runs a TLS server on loopback that completes handshakes and then
// holds each connection open, saying nothing, until the client hangs up.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				var b [1]byte
				c.Read(b[:]) //nolint:errcheck // wait for the client to hang up
			}()
		}
	}()
	return ln.Addr().String()
}

// dial connects as a sink would and returns the handshake error, or else
// the result of ProbeAfterHandshake.
func dial(t *testing.T, addr string, in *siemsync.Integration, host string) error {
	t.Helper()
	cfg, err := Client(in, host)
	if err != nil {
		t.Fatal(err)
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: cfg}
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return ProbeAfterHandshake(c.(*tls.Conn), 300*time.Millisecond)
}

func TestExplain(t *testing.T) {
	good := testpki.NewCA(t, "Good Root CA")
	other := testpki.NewCA(t, "Other Root CA")
	splunkCA := testpki.NewCA(t, "SplunkCommonCA")
	const host = "splunk.example.com"

	srvCert := func(c *testpki.CA, o testpki.Leaf) tls.Certificate { p, _, _ := c.Issue(t, o); return p }
	_, clientPEM, clientKey := good.Issue(t, testpki.Leaf{CN: "siemsync", Client: true})
	pool := x509.NewCertPool()
	pool.AddCert(good.Cert)
	past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	future := time.Now().Add(240 * time.Hour).UTC().Truncate(time.Second)

	tests := []struct {
		name   string
		server *tls.Config
		in     siemsync.Integration
		ok     bool
		want   []string // substrings of Explain's sentence
	}{
		{
			name:   "good",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}})}},
			in:     siemsync.Integration{CAPEM: good.PEM},
			ok:     true,
		},
		{
			name:   "wrong CA",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(other, testpki.Leaf{CN: host, DNS: []string{host}})}},
			in:     siemsync.Integration{CAPEM: good.PEM},
			want:   []string{"the certificate of splunk.example.com", `(issued by "Other Root CA")`, "is signed by an authority siemsync does not trust: paste the CA certificate in ca_pem"},
		},
		{
			name:   "wrong host",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: "other", DNS: []string{"other.example.com", "alt.example.com"}})}},
			in:     siemsync.Integration{CAPEM: good.PEM},
			want:   []string{"is for other.example.com, alt.example.com, not splunk.example.com", "set server name"},
		},
		{
			name:   "splunk default cert, CA trusted",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(splunkCA, testpki.Leaf{CN: SplunkDefaultCN})}},
			in:     siemsync.Integration{CAPEM: splunkCA.PEM},
			want:   []string{"Splunk's self-signed default certificate (SplunkServerDefaultCert)", "install a certificate for splunk.example.com", "set server name to SplunkServerDefaultCert"},
		},
		{
			name:   "splunk default cert, CA unknown",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(splunkCA, testpki.Leaf{CN: SplunkDefaultCN})}},
			in:     siemsync.Integration{CAPEM: good.PEM},
			want:   []string{"Splunk's self-signed default certificate", "paste Splunk's CA certificate in ca_pem"},
		},
		{
			name:   "expired",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}, Validity: testpki.Validity{NotBefore: past.Add(-time.Hour), NotAfter: past}})}},
			in:     siemsync.Integration{CAPEM: good.PEM},
			want:   []string{"expired on 2020-01-02T03:04:05Z", "renew"},
		},
		{
			name:   "not yet valid",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}, Validity: testpki.Validity{NotBefore: future, NotAfter: future.Add(time.Hour)}})}},
			in:     siemsync.Integration{CAPEM: good.PEM},
			want:   []string{"is not valid before " + future.Format(time.RFC3339), "clock"},
		},
		{
			name: "client cert required, TLS 1.2",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}})},
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MaxVersion: tls.VersionTLS12},
			in:   siemsync.Integration{CAPEM: good.PEM},
			want: []string{"splunk.example.com refused the TLS handshake", "requires a client certificate", "client_cert_pem and client_key_pem"},
		},
		{
			// With TLS 1.3 the client's handshake completes before the
			// server checks the certificate: only the probe sees it.
			name: "client cert required, TLS 1.3",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}})},
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS13},
			in:   siemsync.Integration{CAPEM: good.PEM},
			want: []string{"splunk.example.com requires a client certificate and refused the connection", "client_cert_pem, client_key_pem"},
		},
		{
			name: "client cert required and given, TLS 1.3",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}})},
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS13},
			in: siemsync.Integration{CAPEM: good.PEM, ClientCertPEM: clientPEM, ClientKeyPEM: clientKey},
			ok: true,
		},
		{
			name: "client cert from an untrusted CA, TLS 1.3",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}})},
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS13},
			in:   siemsync.Integration{CAPEM: good.PEM, ClientCertPEM: clientPEM, ClientKeyPEM: clientKey},
			want: []string{"does not trust the authority that signed the client certificate"},
		},
		{
			name: "TLS 1.1 only",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: host, DNS: []string{host}})},
				MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
			in:   siemsync.Integration{CAPEM: good.PEM},
			want: []string{"older than 1.2", "enable TLS 1.2 or 1.3"},
		},
		{
			name:   "splunk default cert, server name set, CA trusted",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(splunkCA, testpki.Leaf{CN: SplunkDefaultCN})}},
			in:     siemsync.Integration{CAPEM: splunkCA.PEM, ServerName: SplunkDefaultCN},
			ok:     true,
		},
		{
			name:   "splunk default cert, server name set, CA not trusted",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(splunkCA, testpki.Leaf{CN: SplunkDefaultCN})}},
			in:     siemsync.Integration{CAPEM: good.PEM, ServerName: SplunkDefaultCN},
			want:   []string{"Splunk's self-signed default certificate", "paste Splunk's CA certificate in ca_pem"},
		},
		{
			name:   "server name set, common name differs",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: "other"})}},
			in:     siemsync.Integration{CAPEM: good.PEM, ServerName: "splunk-1"},
			want:   []string{"is for other (common name only, no subject alternative names), not splunk-1"},
		},
		{
			// The common name counts only when there are no SANs, as in
			// every modern client.
			name:   "server name set, SANs name others",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: "splunk-1", DNS: []string{"a.example.com"}})}},
			in:     siemsync.Integration{CAPEM: good.PEM, ServerName: "splunk-1"},
			want:   []string{"is for a.example.com, not splunk-1"},
		},
		{
			name:   "server name set, SAN matches",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: "x", DNS: []string{"splunk-1"}})}},
			in:     siemsync.Integration{CAPEM: good.PEM, ServerName: "splunk-1"},
			ok:     true,
		},
		{
			name:   "server name set, expired",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: "splunk-1", Validity: testpki.Validity{NotBefore: past.Add(-time.Hour), NotAfter: past}})}},
			in:     siemsync.Integration{CAPEM: good.PEM, ServerName: "splunk-1"},
			want:   []string{"expired on 2020-01-02T03:04:05Z"},
		},
		{
			name:   "server name set, client certificate as server certificate",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(good, testpki.Leaf{CN: "splunk-1", Client: true})}},
			in:     siemsync.Integration{CAPEM: good.PEM, ServerName: "splunk-1"},
			want:   []string{"not meant for a TLS server"},
		},
		{
			name:   "skip verify accepts a wrong CA",
			server: &tls.Config{Certificates: []tls.Certificate{srvCert(other, testpki.Leaf{CN: "x"})}},
			in:     siemsync.Integration{InsecureSkipVerify: true},
			ok:     true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, tt.server)
			err := dial(t, addr, &tt.in, host)
			if tt.ok {
				if err != nil {
					t.Fatalf("want success, got %v (%s)", err, Explain(err, host))
				}
				return
			}
			if err == nil {
				t.Fatal("want a failure, got none")
			}
			msg := Explain(err, host)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Explain(%v)\n = %q\nwant it to contain %q", err, msg, w)
				}
			}
		})
	}
}

func TestExplainPlainServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")) //nolint:errcheck // test server
	}()
	err = dial(t, ln.Addr().String(), &siemsync.Integration{}, "splunk.example.com")
	if msg := Explain(err, "splunk.example.com"); !strings.Contains(msg, "did not answer with TLS") {
		t.Fatalf("Explain = %q", msg)
	}
}

func TestExplainClosedAfterHandshake(t *testing.T) {
	// A server that hangs up without an alert right after the handshake:
	// what a TLS 1.3 server refusing the client certificate may look like.
	err := &PostHandshakeError{Err: errors.New("EOF")}
	if msg := Explain(err, "h:8088"); !strings.Contains(msg, "h closed the connection right after the TLS handshake") || !strings.Contains(msg, "client certificate") {
		t.Fatalf("Explain = %q", msg)
	}
	if Explain(nil, "h") != "" {
		t.Fatal("Explain(nil) not empty")
	}
}

func TestClient(t *testing.T) {
	good := testpki.NewCA(t, "Good Root CA")
	_, certPEM, keyPEM := good.Issue(t, testpki.Leaf{CN: "siemsync", Client: true})
	tests := []struct {
		name       string
		in         siemsync.Integration
		host       string
		serverName string
		roots      bool
		certs      int
		skip       bool
		err        string
	}{
		{name: "defaults", host: "splunk.example.com", serverName: "splunk.example.com"},
		{name: "host with port", host: "splunk.example.com:8088", serverName: "splunk.example.com"},
		// With an explicit server name the verification moves to
		// VerifyConnection, which crypto/tls runs only with its own
		// checks skipped (TestServerNameCommonName checks it verifies).
		{name: "server name override", in: siemsync.Integration{ServerName: "SplunkServerDefaultCert"}, host: "h", serverName: "SplunkServerDefaultCert", skip: true},
		{name: "ca", in: siemsync.Integration{CAPEM: good.PEM}, host: "h", serverName: "h", roots: true},
		{name: "client cert", in: siemsync.Integration{ClientCertPEM: certPEM, ClientKeyPEM: keyPEM}, host: "h", serverName: "h", certs: 1},
		{name: "skip verify", in: siemsync.Integration{InsecureSkipVerify: true}, host: "h", serverName: "h", skip: true},
		{name: "bad ca", in: siemsync.Integration{CAPEM: "nope"}, host: "h", err: "read ca_pem: no PEM certificate found"},
		{name: "key mismatch", in: siemsync.Integration{ClientCertPEM: certPEM, ClientKeyPEM: "nope"}, host: "h", err: "load client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Client(&tt.in, tt.host)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion = %x", cfg.MinVersion)
			}
			if cfg.ServerName != tt.serverName {
				t.Errorf("ServerName = %q, want %q", cfg.ServerName, tt.serverName)
			}
			if (cfg.RootCAs != nil) != tt.roots {
				t.Errorf("RootCAs set = %v, want %v", cfg.RootCAs != nil, tt.roots)
			}
			if len(cfg.Certificates) != tt.certs {
				t.Errorf("certificates = %d, want %d", len(cfg.Certificates), tt.certs)
			}
			if cfg.InsecureSkipVerify != tt.skip {
				t.Errorf("InsecureSkipVerify = %v", cfg.InsecureSkipVerify)
			}
		})
	}
}

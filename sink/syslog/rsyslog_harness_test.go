package syslog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rsyslogConf describes the rsyslogd a test starts.
type rsyslogConf struct {
	Driver   string // "ptcp" (plain TCP), "gtls" (GnuTLS) or "ossl" (OpenSSL)
	AuthMode string // TLS: "anon" (server auth only) or "x509/certvalid" (client certificate required)
	CA       string // TLS: CA file for client certificates (and the chain)
	Cert     string // TLS: server certificate file
	Key      string // TLS: server key file
}

// rsyslogd is one rsyslogd process started by a test, listening on
// 127.0.0.1:port and writing every message it receives over TCP, as
// received (%rawmsg%), one per line, to out.
type rsyslogd struct {
	t       testing.TB
	conf    rsyslogConf
	dir     string
	port    int
	out     string // received messages
	diag    string // rsyslog's own messages (TLS errors etc.)
	cmd     *exec.Cmd
	waitErr chan error
}

// needRsyslog skips the test when rsyslogd (or the TLS driver asked for)
// is not installed. CI installs them: apt-get install rsyslog
// rsyslog-gnutls rsyslog-openssl.
func needRsyslog(t testing.TB, driver string) string {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		t.Skip("rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls rsyslog-openssl): skipping the rsyslog integration test")
	}
	if driver == "gtls" || driver == "ossl" {
		found := false
		for _, dir := range []string{"/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog", "/usr/lib64/rsyslog"} {
			if _, err := os.Stat(filepath.Join(dir, "lmnsd_"+driver+".so")); err == nil {
				found = true
			}
		}
		if !found {
			pkg := map[string]string{"gtls": "rsyslog-gnutls", "ossl": "rsyslog-openssl"}[driver]
			t.Skipf("rsyslog's %s driver is not installed (apt-get install %s): skipping", driver, pkg)
		}
	}
	return bin
}

// startRsyslog writes a configuration into a fresh directory and starts
// rsyslogd on a free port; it is stopped when the test ends.
func startRsyslog(t testing.TB, conf rsyslogConf) *rsyslogd {
	t.Helper()
	needRsyslog(t, conf.Driver)
	r := &rsyslogd{t: t, conf: conf, dir: t.TempDir(), port: freePort(t)}
	r.out = filepath.Join(r.dir, "received.log")
	r.diag = filepath.Join(r.dir, "rsyslog-internal.log")
	if err := os.Mkdir(filepath.Join(r.dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("rsyslog's own messages:\n%s", r.diagnostics())
		}
	})
	return r
}

func (r *rsyslogd) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "global(workDirectory=%q maxMessageSize=\"8k\")\n", filepath.Join(r.dir, "work"))
	if r.conf.Driver == "ptcp" {
		b.WriteString("module(load=\"imtcp\")\n")
	} else {
		fmt.Fprintf(&b, "global(DefaultNetstreamDriverCAFile=%q DefaultNetstreamDriverCertFile=%q DefaultNetstreamDriverKeyFile=%q)\n",
			r.conf.CA, r.conf.Cert, r.conf.Key)
		fmt.Fprintf(&b, "module(load=\"imtcp\" StreamDriver.Name=%q StreamDriver.Mode=\"1\" StreamDriver.AuthMode=%q)\n",
			r.conf.Driver, r.conf.AuthMode)
	}
	// As in the README example: a ruleset for the input, rsyslog's own messages
	// to another file through the default ruleset.
	b.WriteString("template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n")
	fmt.Fprintf(&b, "ruleset(name=\"siemsync\") {\n  action(type=\"omfile\" file=%q template=\"raw\")\n}\n", r.out)
	fmt.Fprintf(&b, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"siemsync\")\n", r.port)
	fmt.Fprintf(&b, "action(type=\"omfile\" file=%q)\n", r.diag)
	return b.String()
}

func (r *rsyslogd) start() {
	t := r.t
	t.Helper()
	bin := needRsyslog(t, r.conf.Driver)
	confPath := filepath.Join(r.dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(r.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.OpenFile(filepath.Join(r.dir, "rsyslogd.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	r.cmd = exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = stderr, stderr
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	killWithParent(r.cmd.SysProcAttr) // no stray rsyslogd if the test binary dies
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	r.waitErr = make(chan error, 1)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(r.cmd, r.waitErr)

	// Ready when the port accepts connections (bounded).
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.addr(), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case werr := <-r.waitErr:
			r.cmd = nil
			t.Fatalf("rsyslogd exited before listening (%v):\n%s", werr, r.diagnostics())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not listen on %s within 15s:\n%s", r.addr(), r.diagnostics())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop terminates rsyslogd (SIGTERM, then SIGKILL after 5s).
func (r *rsyslogd) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.waitErr:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.waitErr
	}
	r.cmd = nil
}

// restart stops rsyslogd and starts it again on the same port, appending
// to the same output file.
func (r *rsyslogd) restart() {
	r.stop()
	r.start()
}

func (r *rsyslogd) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

func (r *rsyslogd) diagnostics() string {
	var b strings.Builder
	for _, name := range []string{"rsyslogd.stderr", "rsyslog-internal.log", "rsyslog.conf"} {
		data, _ := os.ReadFile(filepath.Join(r.dir, name))
		fmt.Fprintf(&b, "--- %s ---\n%s\n", name, data)
	}
	return b.String()
}

// lines returns the messages rsyslog has written so far.
func (r *rsyslogd) lines() []string {
	data, err := os.ReadFile(r.out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 {
		return nil
	}
	return strings.Split(string(data), "\n")
}

// waitLines polls the output until it holds at least n messages or the
// bounded wait ends, and returns what is there.
func (r *rsyslogd) waitLines(n int, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		got := r.lines()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testPKI is a CA with a server certificate for 127.0.0.1/localhost and a
// client certificate, plus a client certificate from another CA.
type testPKI struct {
	dir                                   string
	caPEM, serverCert, serverKey          string // PEM
	clientCert, clientKey                 string // PEM, signed by the CA
	rogueCert, rogueKey                   string // PEM, signed by another CA
	caFile, serverCertFile, serverKeyFile string
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	ca, caKey, caPEM := newCA(t, "siemsync test CA")
	p.caPEM = caPEM
	p.serverCert, p.serverKey = newLeaf(t, ca, caKey, "127.0.0.1", true)
	p.clientCert, p.clientKey = newLeaf(t, ca, caKey, "siemsync client", false)
	rogue, rogueKey, _ := newCA(t, "rogue CA")
	p.rogueCert, p.rogueKey = newLeaf(t, rogue, rogueKey, "rogue client", false)
	write := func(name, data string) string {
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.caFile = write("ca.pem", p.caPEM)
	p.serverCertFile = write("server.pem", p.serverCert)
	p.serverKeyFile = write("server.key", p.serverKey)
	return p
}

func newCA(t testing.TB, cn string) (*x509.Certificate, *ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
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
		SerialNumber: big.NewInt(time.Now().UnixNano()),
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

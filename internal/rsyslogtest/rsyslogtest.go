// Package rsyslogtest starts a real rsyslogd for tests: on 127.0.0.1, on a
// free port, with a configuration it writes (plain TCP or TLS with the
// GnuTLS or OpenSSL driver, with or without client certificates), writing
// every message it receives, as received (%rawmsg%), one per line, to a
// file the test reads back.
//
// It needs the Debian packages rsyslog, rsyslog-gnutls and rsyslog-openssl
// (.ci/run installs them). Where they are missing the test skips, and
// fails under CI=true (internal/testenv).
// Everything a Server creates lives in the test's temporary directories and
// the rsyslogd process is stopped when the test ends.
package rsyslogtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/testenv"
)

// Network stream drivers (Options.Driver).
const (
	DriverTCP     = "ptcp" // plain TCP
	DriverGnuTLS  = "gtls" // TLS with GnuTLS (package rsyslog-gnutls)
	DriverOpenSSL = "ossl" // TLS with OpenSSL (package rsyslog-openssl)
)

// TLSDrivers are the TLS drivers, for tests that run against each.
var TLSDrivers = []string{DriverGnuTLS, DriverOpenSSL}

// Options describe the rsyslogd to start.
type Options struct {
	// Driver is DriverTCP (the default), DriverGnuTLS or DriverOpenSSL.
	Driver string
	// RequireClientCert has a TLS server demand a client certificate
	// signed by the PKI's CA (AuthMode "x509/certvalid"); otherwise the
	// client is not authenticated (AuthMode "anon").
	RequireClientCert bool
	// PKI supplies the CA and the server certificate of a TLS server; nil
	// means a new one (see Server.PKI).
	PKI *PKI
}

// TLS reports whether the options ask for a TLS listener.
func (o Options) TLS() bool { return o.Driver != "" && o.Driver != DriverTCP }

// Server is one rsyslogd started by a test. Its methods are meant for the
// test's goroutine (they fail the test with t.Fatal).
type Server struct {
	t       testing.TB
	opts    Options
	dir     string
	port    int
	out     string // received messages
	diag    string // rsyslog's own messages (TLS errors etc.)
	cmd     *exec.Cmd
	waitErr chan error
}

// Need skips the test (fails it under CI=true) unless rsyslogd and, for a
// TLS driver, its driver module are installed, and returns the rsyslogd
// executable.
func Need(t testing.TB, driver string) string {
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
		testenv.Missing(t, "rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls rsyslog-openssl)")
	}
	if driver == DriverGnuTLS || driver == DriverOpenSSL {
		found := false
		for _, dir := range []string{"/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog", "/usr/lib64/rsyslog"} {
			if _, err := os.Stat(filepath.Join(dir, "lmnsd_"+driver+".so")); err == nil {
				found = true
			}
		}
		if !found {
			pkg := map[string]string{DriverGnuTLS: "rsyslog-gnutls", DriverOpenSSL: "rsyslog-openssl"}[driver]
			testenv.Missing(t, fmt.Sprintf("rsyslog's %s driver is not installed (apt-get install %s)", driver, pkg))
		}
	}
	return bin
}

// Start writes a configuration into a fresh directory and starts rsyslogd
// on a free port of 127.0.0.1; it returns once the port accepts
// connections. The server is stopped when the test ends, and its own
// messages are logged if the test failed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Driver == "" {
		opts.Driver = DriverTCP
	}
	switch opts.Driver {
	case DriverTCP, DriverGnuTLS, DriverOpenSSL:
	default:
		t.Fatalf("rsyslogtest: unknown driver %q", opts.Driver)
	}
	if opts.RequireClientCert && !opts.TLS() {
		t.Fatal("rsyslogtest: RequireClientCert needs a TLS driver")
	}
	Need(t, opts.Driver)
	if opts.TLS() && opts.PKI == nil {
		opts.PKI = NewPKI(t)
	}
	s := &Server{t: t, opts: opts, dir: t.TempDir(), port: FreePort(t)}
	s.out = filepath.Join(s.dir, "received.log")
	s.diag = filepath.Join(s.dir, "rsyslog-internal.log")
	if err := os.Mkdir(filepath.Join(s.dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.confPath(), []byte(s.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("rsyslog's own messages:\n%s", s.Diagnostics())
		}
	})
	s.start()
	return s
}

func (s *Server) confPath() string { return filepath.Join(s.dir, "rsyslog.conf") }

func (s *Server) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "global(workDirectory=%q maxMessageSize=\"8k\")\n", filepath.Join(s.dir, "work"))
	if !s.opts.TLS() {
		b.WriteString("module(load=\"imtcp\")\n")
	} else {
		p := s.opts.PKI
		auth := "anon"
		if s.opts.RequireClientCert {
			auth = "x509/certvalid"
		}
		fmt.Fprintf(&b, "global(DefaultNetstreamDriverCAFile=%q DefaultNetstreamDriverCertFile=%q DefaultNetstreamDriverKeyFile=%q)\n",
			p.CAFile, p.ServerCertFile, p.ServerKeyFile)
		fmt.Fprintf(&b, "module(load=\"imtcp\" StreamDriver.Name=%q StreamDriver.Mode=\"1\" StreamDriver.AuthMode=%q)\n",
			s.opts.Driver, auth)
	}
	// As in the README: a ruleset for the input that writes the raw
	// message, rsyslog's own messages to another file through the default
	// ruleset.
	b.WriteString("template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n")
	fmt.Fprintf(&b, "ruleset(name=\"siemsync\") {\n  action(type=\"omfile\" file=%q template=\"raw\")\n}\n", s.out)
	fmt.Fprintf(&b, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"siemsync\")\n", s.port)
	fmt.Fprintf(&b, "action(type=\"omfile\" file=%q)\n", s.diag)
	return b.String()
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	bin := Need(t, s.opts.Driver)
	stderr, err := os.OpenFile(filepath.Join(s.dir, "rsyslogd.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd := exec.Command(bin, "-n", "-f", s.confPath(), "-i", filepath.Join(s.dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	s.cmd, s.waitErr = cmd, make(chan error, 1)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(cmd, s.waitErr)

	// Ready when the port accepts connections (bounded).
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case werr := <-s.waitErr:
			s.cmd = nil
			t.Fatalf("rsyslogd exited before listening (%v):\n%s", werr, s.Diagnostics())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not listen on %s within 15s:\n%s", s.Addr(), s.Diagnostics())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Running reports whether rsyslogd is running (started and not stopped).
func (s *Server) Running() bool { return s.cmd != nil }

// Stop terminates rsyslogd (SIGTERM, then SIGKILL after 5s) and waits for
// it to exit; the port then refuses connections. Stopping a stopped server
// does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = terminate(s.cmd.Process)
	select {
	case <-s.waitErr:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.waitErr
	}
	s.cmd = nil
}

// Restart stops rsyslogd if it is running and starts it again with the
// same configuration: the same port, the same certificates, appending to
// the same output file. It returns once the port accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// PKI is the CA and certificates of a TLS server; nil for plain TCP.
func (s *Server) PKI() *PKI { return s.opts.PKI }

// Output is the path of the file holding the received messages.
func (s *Server) Output() string { return s.out }

// Diagnostics returns rsyslogd's stderr, its own messages (TLS errors and
// the like) and its configuration, for a failure message.
func (s *Server) Diagnostics() string {
	var b strings.Builder
	for _, name := range []string{"rsyslogd.stderr", "rsyslog-internal.log", "rsyslog.conf"} {
		data, _ := os.ReadFile(filepath.Join(s.dir, name))
		fmt.Fprintf(&b, "--- %s ---\n%s\n", name, data)
	}
	return b.String()
}

// Lines returns the messages rsyslog has written so far, one per line, in
// the order written. A line rsyslog is still writing (no newline yet) is
// left out.
func (s *Server) Lines() []string {
	data, err := os.ReadFile(s.out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return nil
	}
	return strings.Split(string(data[:end]), "\n")
}

// WaitLines polls the output until it holds at least n messages or wait has
// passed, and returns what is there.
func (s *Server) WaitLines(n int, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		got := s.Lines()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

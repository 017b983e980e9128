package syslog

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/rsyslogtest"
	"github.com/siemsync/siemsync/sink"
)

// goServer is a small syslog server in Go for cases rsyslog cannot be made
// to produce on demand. handle runs for each accepted connection.
type goServer struct {
	ln       net.Listener
	accepted atomic.Int64 // connections accepted, counted before handle runs
	wg       sync.WaitGroup
	mu       sync.Mutex
	data     bytes.Buffer
}

func newGoServer(t *testing.T, tlsCfg *tls.Config, handle func(c net.Conn, s *goServer)) *goServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s := &goServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c, s)
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *goServer) addr() string { return s.ln.Addr().String() }

func (s *goServer) received() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.data.Bytes()...)
}

// readAll keeps what the client sends.
func readAll(c net.Conn, s *goServer) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		s.mu.Lock()
		s.data.Write(buf[:n])
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func serverTLS(t *testing.T, p *rsyslogtest.PKI, auth tls.ClientAuthType, maxVer uint16) *tls.Config {
	t.Helper()
	pair, err := tls.X509KeyPair([]byte(p.ServerCert), []byte(p.ServerKey))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(p.CAPEM))
	return &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: auth, ClientCAs: pool, MaxVersion: maxVer}
}

func TestSendPlainTCP(t *testing.T) {
	srv := newGoServer(t, nil, readAll)
	m := metrics.New()
	in := syslogIntegration(srv.addr(), "tcp", "octet")
	s, err := New(in, Options{AllowPrivate: true, Hostname: "w", Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	for _, ev := range corpus(20) {
		body = s.Append(body, ev)
	}
	if err := s.Send(context.Background(), nil, 0); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if err := s.Send(context.Background(), body, 20); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), body, 20); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.received()) < 2*len(body) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := srv.received(); !bytes.Equal(got, append(append([]byte(nil), body...), body...)) {
		t.Fatalf("server received %d bytes, want the two batches (%d bytes)", len(got), 2*len(body))
	}
	// Both batches went over one connection (each connection is counted
	// before its bytes can be read, so all of them are counted by now)...
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("server accepted %d connections, want 1 for both batches", n)
	}
	// ... and each batch was observed once, its bytes counted as sent.
	if n := histogramCount(t, m); n != 2 {
		t.Errorf("request duration observed %d times, want 2", n)
	}
	want := fmt.Sprintf("# HELP siemsync_bytes_sent_total Bytes of accepted batches: raw (before compression) and wire (as sent).\n"+
		"# TYPE siemsync_bytes_sent_total counter\n"+
		"siemsync_bytes_sent_total{encoding=\"wire\",integration=%q} %d\n", in.ID, 2*len(body))
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "siemsync_bytes_sent_total"); err != nil {
		t.Error(err)
	}
}

func histogramCount(t *testing.T, m *metrics.Metrics) uint64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "siemsync_request_duration_seconds" {
			for _, mm := range mf.GetMetric() {
				for _, l := range mm.GetLabel() {
					if l.GetName() == "kind" && l.GetValue() == "syslog_cef" {
						return mm.GetHistogram().GetSampleCount()
					}
				}
			}
		}
	}
	return 0
}

func TestSendRefusesPrivateDestination(t *testing.T) {
	srv := newGoServer(t, nil, readAll)
	in := syslogIntegration(srv.addr(), "tcp", "octet")
	s, err := New(in, Options{AllowPrivate: false})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), s.Append(nil, trickyAudit()), 1)
	wantClass(t, err, sink.Config, "loopback")
	steps := Check(context.Background(), in, Options{}, false)
	checkSteps(t, steps, []string{StepAddress, StepDNS}, StepDNS)
	if !strings.Contains(steps[1].Message, "allow-private-destinations") {
		t.Errorf("dns step: %s", steps[1].Message)
	}
}

// A server that closes every connection after reading a little: the batch
// is reported as failed (Retry), never as delivered.
func TestSendServerDropsConnection(t *testing.T) {
	srv := newGoServer(t, nil, func(c net.Conn, s *goServer) {
		buf := make([]byte, 100)
		_, _ = io.ReadFull(c, buf)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // reset
		}
	})
	s := openSink(t, syslogIntegration(srv.addr(), "tcp", "octet"))
	var body []byte
	for _, ev := range corpus(50) {
		body = s.Append(body, ev)
	}
	err := s.Send(context.Background(), body, 50)
	wantClass(t, err, sink.Retry, "will be sent again")
	if s.batches != 0 || s.conn != nil {
		t.Errorf("batches %d, conn %v after a failed send", s.batches, s.conn)
	}
}

// A server that accepts the connection and closes it after reading the
// first frame, as rsyslog does with a session it will not keep: even a
// small batch that fits in the socket buffer is reported as failed.
func TestSendDetectsCloseAfterWrite(t *testing.T) {
	srv := newGoServer(t, nil, func(c net.Conn, s *goServer) {
		buf := make([]byte, 10)
		_, _ = c.Read(buf)
	})
	s := openSink(t, syslogIntegration(srv.addr(), "tcp", "octet"))
	err := s.Send(context.Background(), s.Append(nil, trickyAudit()), 1)
	wantClass(t, err, sink.Retry, "closed the connection after receiving the batch")
}

// TLS 1.3: the server refuses the missing client certificate only after the
// client finished the handshake (certificate_required alert).
func TestSendTLS13ClientCertRequired(t *testing.T) {
	p := rsyslogtest.NewPKI(t)
	for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		srv := newGoServer(t, serverTLS(t, p, tls.RequireAndVerifyClientCert, ver), readAll)
		in := syslogIntegration(srv.addr(), "tls", "octet")
		in.CAPEM = p.CAPEM
		s := openSink(t, in)
		err := s.Send(context.Background(), s.Append(nil, trickyAudit()), 1)
		wantClass(t, err, sink.Config, "client certificate")
		steps := Check(context.Background(), in, Options{AllowPrivate: true}, false)
		checkSteps(t, steps, []string{StepAddress, StepDNS, StepTCP, StepTLS}, StepTLS)
		if !strings.Contains(steps[3].Message, "client certificate") {
			t.Errorf("TLS %x: tls step: %s", ver, steps[3].Message)
		}

		in.ClientCertPEM, in.ClientKeyPEM = p.ClientCert, p.ClientKey
		s = openSink(t, in)
		if err := s.Send(context.Background(), s.Append(nil, trickyAudit()), 1); err != nil {
			t.Fatalf("TLS %x with client certificate: %v", ver, err)
		}
	}
}

// A server that asks for a client certificate, completes the handshake
// without one and drops the connection only when data arrives (as rsyslog's
// GnuTLS driver may): reported as a client certificate problem.
func TestSendTLSDropAfterData(t *testing.T) {
	p := rsyslogtest.NewPKI(t)
	srv := newGoServer(t, serverTLS(t, p, tls.RequestClientCert, tls.VersionTLS13), func(c net.Conn, s *goServer) {
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			return
		}
		buf := make([]byte, 10)
		_, _ = tc.Read(buf) // the first data, then hang up
	})
	in := syslogIntegration(srv.addr(), "tls", "octet")
	in.CAPEM = p.CAPEM
	s := openSink(t, in)
	err := s.Send(context.Background(), s.Append(nil, trickyAudit()), 1)
	wantClass(t, err, sink.Config, "requires a client certificate")
	if s.batches != 0 {
		t.Error("batch counted as delivered")
	}
}

func TestSendNotTLS(t *testing.T) {
	srv := newGoServer(t, nil, func(c net.Conn, s *goServer) {
		_, _ = c.Write([]byte("220 plain text here\r\n"))
		readAll(c, s)
	})
	in := syslogIntegration(srv.addr(), "tls", "octet")
	s := openSink(t, in)
	err := s.Send(context.Background(), s.Append(nil, trickyAudit()), 1)
	wantClass(t, err, sink.Config, "does not answer with TLS")
}

func TestSendHostnameMismatch(t *testing.T) {
	p := rsyslogtest.NewPKI(t)
	srv := newGoServer(t, serverTLS(t, p, tls.NoClientCert, 0), readAll)
	in := syslogIntegration(srv.addr(), "tls", "octet")
	in.CAPEM, in.ServerName = p.CAPEM, "siem.example.com"
	s := openSink(t, in)
	err := s.Send(context.Background(), s.Append(nil, trickyAudit()), 1)
	wantClass(t, err, sink.Config, "is for localhost, 127.0.0.1, not")

	in.ServerName, in.InsecureSkipVerify = "", true
	in.CAPEM = ""
	steps := Check(context.Background(), in, Options{AllowPrivate: true}, true)
	checkSteps(t, steps, []string{StepAddress, StepDNS, StepTCP, StepTLS, StepSend}, "")
	if !strings.Contains(steps[3].Message, "NOT verified") {
		t.Errorf("tls step does not warn about skip-verify: %s", steps[3].Message)
	}
}

func TestSendCanceled(t *testing.T) {
	// A server that never reads: the write blocks until the context ends.
	block := make(chan struct{})
	srv := newGoServer(t, nil, func(c net.Conn, s *goServer) { <-block })
	defer close(block)
	s := openSink(t, syslogIntegration(srv.addr(), "tcp", "octet"))
	body := bytes.Repeat(s.Append(nil, trickyAudit()), 20000) // ~13 MB, more than the socket buffers
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err := s.Send(ctx, body, 20000)
	wantClass(t, err, sink.Retry, "will be sent again")
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Send returned after %v", d)
	}
}

func TestCheckAddressAndConnect(t *testing.T) {
	in := syslogIntegration("", "tcp", "octet")
	steps := Check(context.Background(), in, Options{AllowPrivate: true}, false)
	checkSteps(t, steps, []string{StepAddress}, StepAddress)

	// Nothing listens.
	port := rsyslogtest.FreePort(t)
	in = syslogIntegration("127.0.0.1:"+strconv.Itoa(port), "tcp", "octet")
	steps = Check(context.Background(), in, Options{AllowPrivate: true}, true)
	checkSteps(t, steps, []string{StepAddress, StepDNS, StepTCP}, StepTCP)
	if !strings.Contains(steps[2].Message, "refused the connection") {
		t.Errorf("tcp step: %s", steps[2].Message)
	}

	// localhost resolves.
	srv := newGoServer(t, nil, readAll)
	_, p, _ := net.SplitHostPort(srv.addr())
	in = syslogIntegration("localhost:"+p, "tcp", "lf")
	steps = Check(context.Background(), in, Options{AllowPrivate: true}, true)
	if len(steps) < 3 || !steps[1].OK || !strings.Contains(steps[1].Message, "resolves to") {
		t.Fatalf("steps %+v", steps)
	}
	checkSteps(t, steps, []string{StepAddress, StepDNS, StepTCP, StepSend}, "")
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.HasSuffix(srv.received(), []byte("\n")) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := srv.received()
	if !bytes.Contains(got, []byte("|900|siemsync test message|")) {
		t.Errorf("the server did not receive the test message: %q", got)
	}
	if !bytes.HasSuffix(got, []byte("\n")) || bytes.Count(got, []byte("\n")) != 1 {
		t.Errorf("test message is not one LF-framed line: %q", got)
	}
	if _, err := ParseMessage(strings.TrimSuffix(string(got), "\n")); err != nil {
		t.Error(err)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("server accepted %d connections, want 1 for the check", n)
	}
}

// A TLS server that hangs up right after the handshake without asking for
// a client certificate: not a certificate problem, so Retry.
func TestSendTLSCloseWithoutCertRequest(t *testing.T) {
	p := rsyslogtest.NewPKI(t)
	srv := newGoServer(t, serverTLS(t, p, tls.NoClientCert, 0), func(c net.Conn, s *goServer) {
		_ = c.(*tls.Conn).Handshake()
	})
	in := syslogIntegration(srv.addr(), "tls", "octet")
	in.CAPEM = p.CAPEM
	s := openSink(t, in)
	err := s.Send(context.Background(), s.Append(nil, trickyAudit()), 1)
	wantClass(t, err, sink.Retry, "without asking for a client certificate")
}

// A connection the server has closed is seen as closed even when the probe
// has no time to wait: the kernel is asked directly. (A read with a
// deadline already past never looks at the socket, which on a busy
// machine turned a dead connection into a live one.)
func TestProbeSeesCloseWithoutWaiting(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run("reset="+strconv.FormatBool(reset), func(t *testing.T) {
			closed := make(chan struct{})
			srv := newGoServer(t, nil, func(c net.Conn, s *goServer) {
				_, _ = c.Read(make([]byte, 1)) // the client is connected
				if tc, ok := c.(*net.TCPConn); ok && reset {
					_ = tc.SetLinger(0)
				}
				_ = c.Close()
				close(closed)
			})
			raw, err := net.Dial("tcp", srv.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Write([]byte{'x'}); err != nil {
				t.Fatal(err)
			}
			c := &connection{Conn: raw, raw: raw}
			<-closed
			// The FIN or RST travels through loopback; allow it to land.
			var perr error
			for i := 0; i < 100 && perr == nil; i++ {
				perr = probe(c, 0)
				if perr == nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
			if perr == nil || !isHangUp(perr) {
				t.Fatalf("probe of a connection the server closed: %v, want a hang-up", perr)
			}
		})
	}
}

// A server that resets the connection after the first byte of a batch
// larger than its receive window: whether the reset hits the write or
// arrives while bytes are unacknowledged, the batch fails at once as a
// hang-up, not after the write timeout as "not acknowledged in time".
func TestSendResetBeforeAck(t *testing.T) {
	srv := newGoServer(t, nil, func(c net.Conn, s *goServer) {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
			_, _ = c.Read(make([]byte, 1))
			_ = tc.SetLinger(0)
		}
	})
	in := syslogIntegration(srv.addr(), "tcp", "octet")
	s, err := New(in, Options{AllowPrivate: true, Hostname: "w", WriteTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var body []byte
	for _, ev := range corpus(200) {
		body = s.Append(body, ev)
	}
	for i := 0; i < 5; i++ {
		err := s.Send(context.Background(), body, 200)
		wantClass(t, err, sink.Retry, "will be sent again")
		if strings.Contains(err.Error(), "in time") || !isHangUp(err) {
			t.Fatalf("attempt %d: %v, want a hang-up", i, err)
		}
	}
}

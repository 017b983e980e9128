package admin_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/siemsync/siemsync/admin"
)

func serveLimited(t *testing.T, l admin.Limits) string {
	t.Helper()
	b := setup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := admin.NewHTTPServer(b.srv, l)
	go srv.Serve(admin.LimitListener(ln, l.MaxConns))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes c (EOF or reset) before
// wait passes.
func closedWithin(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestSlowClientsAreCut: a client that sends its headers but never its
// body, or never finishes its headers, is cut off by the read timeouts,
// not held (before this fix: five minutes, and without sign-in).
func TestSlowClientsAreCut(t *testing.T) {
	t.Parallel()
	addr := serveLimited(t, admin.Limits{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Write: time.Minute, Idle: time.Minute, MaxConns: 8})
	for name, send := range map[string]string{
		"body never sent":        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=",
		"headers never finished": "GET /login HTTP/1.1\r\nHost: x\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, send); err != nil {
			t.Fatal(err)
		}
		if !closedWithin(c, 20*time.Second) {
			t.Errorf("%s: the connection is still held", name)
		}
	}
}

// TestConnectionLimit: past MaxConns, a new connection is not served until
// one of the open ones closes.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	addr := serveLimited(t, admin.Limits{ReadHeader: time.Minute, Read: time.Minute, Write: time.Minute, Idle: time.Minute, MaxConns: 2})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	c, err := net.Dial("tcp", addr) // the kernel accepts; the server does not
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection was served past the limit of 2 (%v)", err)
	}
	held[0].Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after a slot freed: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestDefaultLimitsBound: the limits serve runs with hold an idle or slow
// client for seconds, not minutes, and cap the connections.
func TestDefaultLimitsBound(t *testing.T) {
	l := admin.DefaultLimits
	if l.ReadHeader <= 0 || l.ReadHeader > 10*time.Second || l.Read <= 0 || l.Read > time.Minute {
		t.Errorf("read timeouts %v (headers) and %v (request): want at most 10s and 1m", l.ReadHeader, l.Read)
	}
	if l.MaxConns <= 0 || l.MaxConns > 4096 {
		t.Errorf("MaxConns %d: want a cap", l.MaxConns)
	}
}

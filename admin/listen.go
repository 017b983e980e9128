package admin

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits bounds what a client can hold of the admin server before it has
// signed in: how long its headers and body may take and how many
// connections are open at once.
type Limits struct {
	ReadHeader time.Duration // request line and headers
	Read       time.Duration // a whole request; an ingest body gets IngestBodyTimeout instead
	Write      time.Duration // writing a response (Test connection and a sync can take minutes)
	Idle       time.Duration // keep-alive between requests
	MaxConns   int           // connections open at once; more wait to be accepted
}

// DefaultLimits are the limits serve uses.
var DefaultLimits = Limits{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second, // JSON bodies are 1 MiB at most, forms 2 MiB
	Write:      10 * time.Minute,
	Idle:       2 * time.Minute,
	MaxConns:   256,
}

// NewHTTPServer returns the http.Server for h under l.
func NewHTTPServer(h http.Handler, l Limits) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read,
		WriteTimeout: l.Write, IdleTimeout: l.Idle,
	}
}

// LimitListener accepts at most n connections at once (n <= 0: no limit).
// Past the limit, new connections wait in the kernel's backlog rather than
// each taking a goroutine and buffers.
func LimitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, sem: make(chan struct{}, n)}
}

type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

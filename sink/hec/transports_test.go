package hec

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/testpki"
	"github.com/siemsync/siemsync/sink"
)

// connLog counts a server's connections as its ConnState hook sees them.
type connLog struct {
	mu     gosync.Mutex
	opened int
	closed int
	change chan struct{}
}

func (l *connLog) hook(_ net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateNew:
		l.opened++
	case http.StateClosed, http.StateHijacked:
		l.closed++
	default:
		return
	}
	select {
	case l.change <- struct{}{}:
	default:
	}
}

func (l *connLog) counts() (opened, closed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.opened, l.closed
}

// waitClosed waits until the server has seen n connections closed: the
// close travels to the server asynchronously.
func (l *connLog) waitClosed(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if _, c := l.counts(); c >= n {
			return
		}
		select {
		case <-l.change:
		case <-deadline:
			o, c := l.counts()
			t.Fatalf("%d of %d connections closed, want %d closed", c, o, n)
		}
	}
}

// countingServer starts h on loopback (over TLS when cfg is set) and logs
// its connections.
func countingServer(t *testing.T, h http.Handler, cfg *tls.Config) (*httptest.Server, *connLog) {
	t.Helper()
	l := &connLog{change: make(chan struct{}, 1)}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = l.hook
	if cfg != nil {
		srv.TLS = cfg
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, l
}

// cycle is what one sync cycle does with a sink: open, send, close.
func cycle(t *testing.T, in *siemsync.Integration, opts Options) error {
	t.Helper()
	opts.AllowPrivate = true
	s, err := New(in, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Send(t.Context(), batch(s, "c", 3), 3)
}

// TestTransportsKeepConnectionsAcrossCycles: consecutive cycles of an
// integration, and integrations of the same destination, send over one
// TCP connection when the sinks share Transports; without, every cycle
// opens its own.
func TestTransportsKeepConnectionsAcrossCycles(t *testing.T) {
	for _, tt := range []struct {
		name   string
		shared bool
		want   int
	}{
		{"shared transports", true, 1},
		{"a transport per sink", false, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := hecrecv.New(hecrecv.Options{Tokens: []string{testToken}})
			srv, conns := countingServer(t, r, nil)
			var opts Options
			if tt.shared {
				opts.Transports = NewTransports(TransportOptions{})
				t.Cleanup(opts.Transports.Close)
			}
			other := integration(srv.URL, func(in *siemsync.Integration) { in.ID = "another integration" })
			for _, in := range []*siemsync.Integration{integration(srv.URL, nil), integration(srv.URL, nil), other} {
				if err := cycle(t, in, opts); err != nil {
					t.Fatal(err)
				}
			}
			if r.Count() != 9 {
				t.Fatalf("received %d events, want 9", r.Count())
			}
			if opened, _ := conns.counts(); opened != tt.want {
				t.Fatalf("%d connections for 3 cycles, want %d", opened, tt.want)
			}
			if !tt.shared {
				conns.waitClosed(t, 3) // Close of an own transport ends its connection
			}
		})
	}
}

// TestTransportsTLSChange: an integration whose TLS settings change never
// sends over a connection made with the old ones. The server accepts a
// client certificate when one is given and records the certificate of
// every request's connection.
func TestTransportsTLSChange(t *testing.T) {
	ca, other := testpki.NewCA(t, "Real CA"), testpki.NewCA(t, "Other CA")
	cert, _, _ := ca.Issue(t, testpki.Leaf{CN: "splunk", IPs: loopback})
	_, clientPEM, clientKey := ca.Issue(t, testpki.Leaf{CN: "tenant-a", Client: true})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	r := hecrecv.New(hecrecv.Options{Tokens: []string{testToken}})
	var mu gosync.Mutex
	var peers []string
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		cn := "-"
		if len(req.TLS.PeerCertificates) > 0 {
			cn = req.TLS.PeerCertificates[0].Subject.CommonName
		}
		peers = append(peers, cn)
		mu.Unlock()
		r.ServeHTTP(w, req)
	})
	srv, conns := countingServer(t, h, &tls.Config{Certificates: []tls.Certificate{cert},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool})
	tr := NewTransports(TransportOptions{})
	t.Cleanup(tr.Close)
	opts := Options{Transports: tr}
	trusted := func(in *siemsync.Integration) { in.CAPEM = ca.PEM }

	// Two cycles with the same settings: one connection, no client cert.
	for range 2 {
		if err := cycle(t, integration(srv.URL, trusted), opts); err != nil {
			t.Fatal(err)
		}
	}
	if opened, _ := conns.counts(); opened != 1 {
		t.Fatalf("%d connections for 2 cycles with the same settings, want 1", opened)
	}
	// A client certificate is added: the next cycle presents it, on a new
	// connection.
	withCert := func(in *siemsync.Integration) {
		trusted(in)
		in.ClientCertPEM, in.ClientKeyPEM = clientPEM, clientKey
	}
	if err := cycle(t, integration(srv.URL, withCert), opts); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(peers, ",")
	mu.Unlock()
	if got != "-,-,tenant-a" {
		t.Fatalf("client certificates seen per request: %s, want -,-,tenant-a", got)
	}
	// The CA is changed to one that does not sign the server: the cycle
	// must fail on the certificate, not go through a connection verified
	// with the old CA.
	err := cycle(t, integration(srv.URL, func(in *siemsync.Integration) { in.CAPEM = other.PEM }), opts)
	if sink.ClassOf(err) != sink.Config || !strings.Contains(err.Error(), "authority") {
		t.Fatalf("after the CA changed: %v, want a certificate error", err)
	}
	if r.Count() != 9 {
		t.Fatalf("received %d events, want 9", r.Count())
	}
}

// TestTransportKeys: every setting that shapes a connection separates
// transports; what does not (token, integration, index) does not.
func TestTransportKeys(t *testing.T) {
	ca := testpki.NewCA(t, "Real CA")
	_, certPEM, keyPEM := ca.Issue(t, testpki.Leaf{CN: "tenant", Client: true})
	_, certPEM2, keyPEM2 := ca.Issue(t, testpki.Leaf{CN: "tenant", Client: true})
	const base = "https://splunk.example.com:8088"
	key := func(url string, private bool, mod func(*siemsync.Integration)) transportKey {
		in := integration(url, mod)
		ev, _, _, err := endpoints(in.URL)
		if err != nil {
			t.Fatal(err)
		}
		u := strings.SplitN(ev.String(), "/services", 2)[0]
		return keyFor(u, strings.HasPrefix(u, "https:"), in, private)
	}
	ref := key(base, false, nil)
	same := map[string]transportKey{
		"token":       key(base, false, func(in *siemsync.Integration) { in.Token = "another token" }),
		"integration": key(base, false, func(in *siemsync.Integration) { in.ID, in.Account = "other", "other" }),
		"index":       key(base, false, func(in *siemsync.Integration) { in.Index = "main" }),
		"event path":  key(base+"/services/collector/raw", false, nil),
	}
	for name, k := range same {
		if k != ref {
			t.Errorf("%s: a new transport, want the same", name)
		}
	}
	differ := map[string]transportKey{
		"port":        key("https://splunk.example.com:443", false, nil),
		"host":        key("https://splunk2.example.com:8088", false, nil),
		"scheme":      key("http://splunk.example.com:8088", false, nil),
		"private":     key(base, true, nil),
		"ca":          key(base, false, func(in *siemsync.Integration) { in.CAPEM = ca.PEM }),
		"client cert": key(base, false, func(in *siemsync.Integration) { in.ClientCertPEM, in.ClientKeyPEM = certPEM, keyPEM }),
		"other cert":  key(base, false, func(in *siemsync.Integration) { in.ClientCertPEM, in.ClientKeyPEM = certPEM2, keyPEM2 }),
		"server name": key(base, false, func(in *siemsync.Integration) { in.ServerName = "splunk" }),
		"insecure":    key(base, false, func(in *siemsync.Integration) { in.InsecureSkipVerify = true }),
		// Bytes moved between fields must not collide.
		"shifted":  key(base, false, func(in *siemsync.Integration) { in.CAPEM, in.ServerName = "ab", "" }),
		"shifted2": key(base, false, func(in *siemsync.Integration) { in.CAPEM, in.ServerName = "a", "b" }),
	}
	seen := map[transportKey]string{ref: "reference"}
	for name, k := range differ {
		if prev, dup := seen[k]; dup {
			t.Errorf("%s: the same transport as %s", name, prev)
		}
		seen[k] = name
	}
}

// TestTransportsBounded: beyond MaxTransports the least recently used
// transport goes, with its idle connection; a transport unused for
// IdleConnTimeout goes too.
func TestTransportsBounded(t *testing.T) {
	type dest struct {
		url   string
		conns *connLog
	}
	var dests []dest
	for range 3 {
		srv, conns := countingServer(t, hecrecv.New(hecrecv.Options{Tokens: []string{testToken}}), nil)
		dests = append(dests, dest{srv.URL, conns})
	}
	tr := NewTransports(TransportOptions{MaxTransports: 2, IdleConnTimeout: time.Hour})
	t.Cleanup(tr.Close)
	now := time.Now()
	tr.now = func() time.Time { return now }
	opts := Options{Transports: tr}
	send := func(i int) {
		t.Helper()
		if err := cycle(t, integration(dests[i].url, nil), opts); err != nil {
			t.Fatal(err)
		}
	}
	send(0)
	send(1)
	send(0) // 0 is now the most recently used: 1 goes first
	send(2)
	if st := tr.Stats(); st.Len != 2 || st.Evictions != 1 || st.Misses != 3 || st.Hits != 1 {
		t.Fatalf("stats %+v, want 2 kept, 1 evicted, 3 misses, 1 hit", st)
	}
	dests[1].conns.waitClosed(t, 1)
	for _, i := range []int{0, 2} {
		if _, c := dests[i].conns.counts(); c != 0 {
			t.Fatalf("destination %d: %d connections closed, want its connection kept", i, c)
		}
	}
	send(0)
	if o, _ := dests[0].conns.counts(); o != 1 {
		t.Fatalf("destination 0: %d connections, want its connection reused", o)
	}

	// An hour later both are expired: the next lookup drops them.
	now = now.Add(time.Hour)
	send(1)
	if st := tr.Stats(); st.Len != 1 || st.Evictions != 3 {
		t.Fatalf("stats %+v after an hour, want 1 kept, 3 evicted", st)
	}
	dests[0].conns.waitClosed(t, 1)
	dests[2].conns.waitClosed(t, 1)
}

// TestTransportsBadTLS: settings that cannot work fail New and leave
// nothing cached.
func TestTransportsBadTLS(t *testing.T) {
	tr := NewTransports(TransportOptions{})
	_, err := New(integration("https://s:8088", func(in *siemsync.Integration) { in.CAPEM = "not a cert" }), Options{Transports: tr})
	if sink.ClassOf(err) != sink.Config || !strings.Contains(err.Error(), "ca_pem") {
		t.Fatalf("got %v", err)
	}
	if st := tr.Stats(); st.Len != 0 {
		t.Fatalf("stats %+v, want nothing cached", st)
	}
}

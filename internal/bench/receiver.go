package bench

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

// receiver is the built-in destination: the HEC-compatible receiver in its
// counting mode (it checks the token, gunzips, counts the events and
// discards them) on a loopback HTTP server, which also counts the TCP
// connections it accepts.
type receiver struct {
	recv  *hecrecv.Receiver
	srv   *http.Server
	url   string
	conns atomic.Int64
}

func startReceiver(token string, delay time.Duration) (*receiver, error) {
	r := &receiver{recv: hecrecv.New(hecrecv.Options{Discard: true, Tokens: []string{token}})}
	if delay > 0 {
		r.recv.SetFault(hecrecv.Fault{Delay: delay})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.srv = &http.Server{
		Handler:           r.recv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				r.conns.Add(1)
			}
		},
	}
	go r.srv.Serve(ln) //nolint:errcheck // ends with close
	r.url = "http://" + ln.Addr().String()
	return r, nil
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if r.srv.Shutdown(ctx) != nil {
		r.srv.Close()
	}
}

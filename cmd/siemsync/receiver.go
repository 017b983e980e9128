package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

// cmdReceiver runs the HEC-compatible receiver on its own: a development
// tool to point integrations at, which prints or saves what arrives.
func cmdReceiver(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet("hec-receiver", &a.g, a.env, a.stderr)
	listen := fs.String("listen", "127.0.0.1:8088", "address to listen on")
	token := fs.String("token", "", "accepted HEC token (empty: any token)")
	ack := fs.Bool("ack", false, "require indexer acknowledgement (channel + ackId), like a useACK token")
	out := fs.String("out", "-", "write every received event as NDJSON to `FILE` (- for stdout)")
	_, err := a.args(fs, args, 0, "siemsync hec-receiver [--listen ADDR] [--token T] [--out FILE]")
	if err != nil {
		return err
	}
	opts := hecrecv.Options{Ack: *ack, Logger: a.log}
	if *token != "" {
		opts.Tokens = []string{*token}
	}
	recv := hecrecv.New(opts)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(a.stderr, "HEC receiver on http://%s/services/collector/event\n", ln.Addr())
	go writeReceived(ctx, recv, *out)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeReceived appends every event the receiver got to path (- for
// stdout), polling once a second, until ctx ends.
func writeReceived(ctx context.Context, recv *hecrecv.Receiver, path string) {
	w := os.Stdout
	if path != "-" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return
		}
		defer f.Close()
		w = f
	}
	done := 0
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		events := recv.Events()
		for _, e := range events[min(done, len(events)):] {
			w.Write(append(e.Raw, '\n'))
		}
		done = len(events)
	}
}

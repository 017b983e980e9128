package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

// cmdReceiver runs the HEC-compatible receiver on its own: a development
// tool to point integrations at, which prints or saves what arrives.
func newReceiverCmd(a *app) *cobra.Command {
	var f receiverFlags
	c := &cobra.Command{
		Use:   "hec-receiver [--listen ADDR] [--token T] [--ack] [--out FILE]",
		Short: "a local HEC-compatible receiver (development tool)",
		Long: `Run a Splunk HEC-compatible receiver that prints or saves every event it gets:
a destination to try integrations against. It listens on loopback, so an
integration pointing at it needs --allow-private-destinations (or
SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS=true) on every siemsync command.`,
		Example: "  siemsync hec-receiver --listen 127.0.0.1:8088 --token 00000000-0000-0000-0000-000000000001 --out received.ndjson",
		Args:    nArgs(0),
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.receiver(cmd.Context(), f) },
	}
	fs := c.Flags()
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8088", "address to listen on")
	fs.StringVar(&f.token, "token", "", "accepted HEC token (empty: any token)")
	fs.BoolVar(&f.ack, "ack", false, "require indexer acknowledgement (channel + ackId), like a useACK token")
	fs.StringVar(&f.out, "out", "-", "write every received event as NDJSON to `FILE` (- for stdout)")
	fs.BoolVar(&f.count, "count", false, "keep nothing: count the events and print the count at exit (for `siemsync bench --hec` against a receiver in its own process)")
	fs.DurationVar(&f.delay, "delay", 0, "answer every request this much later: a simulated round trip to a distant HEC")
	return ignoresGlobals(c, "db", "create", "allow-private-destinations", "host-name")
}

type receiverFlags struct {
	listen, token, out string
	ack, count         bool
	delay              time.Duration
}

func (a *app) receiver(ctx context.Context, f receiverFlags) error {
	listen, token, ack, out := &f.listen, &f.token, &f.ack, &f.out
	opts := hecrecv.Options{Ack: *ack, Logger: a.log, Discard: f.count}
	if *token != "" {
		opts.Tokens = []string{*token}
	}
	recv := hecrecv.New(opts)
	if f.delay > 0 {
		recv.SetFault(hecrecv.Fault{Delay: f.delay})
	}
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
	written := make(chan struct{})
	go func() {
		if !f.count {
			writeReceived(ctx, recv, *out)
		}
		close(written)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-written // closed by ctx: the last events are written before exit
	if f.count {
		fmt.Fprintf(a.stdout, "%d events received\n", recv.Count())
	}
	return nil
}

// writeReceived appends every event the receiver got to path (- for
// stdout), polling once a second, until ctx ends; then it writes what came
// in since the last poll, so a receiver stopped right after a sync has
// written everything it received.
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
	flush := func() {
		events := recv.Events()
		for _, e := range events[min(done, len(events)):] {
			w.Write(append(e.Raw, '\n'))
		}
		done = len(events)
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flush()
			return
		case <-t.C:
			flush()
		}
	}
}

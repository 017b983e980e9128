package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/sync"
)

// replayPoll is how often serve looks for replays to run or resume
// besides being woken when one starts.
const replayPoll = 5 * time.Second

// newReplays returns the replay manager: replays run under leases of this
// worker (--worker-id) that last --lease-ttl unless renewed.
func (a *app) newReplays(db store.Backend, s *sync.Syncer, f syncFlags) *sync.Replays {
	return sync.NewReplays(s, db, f.workerID, f.leaseTTL)
}

func newIntegrationsReplayCmd(a *app) *cobra.Command {
	var since, until string
	var f syncFlags
	c := idCmd(a, "replay", "send a window of records again, beside the live checkpoint, with a progress bar",
		"  siemsync integrations replay 6f1c… --since 2026-11-24T00:00:00Z --until 2026-11-25T00:00:00Z",
		func(ctx context.Context, db store.Backend, id string) error {
			return integrationsReplay(ctx, a, db, id, since, until, f)
		})
	c.Flags().StringVar(&since, "since", "", "send again what happened from this RFC 3339 time")
	c.Flags().StringVar(&until, "until", "", "… until this RFC 3339 time (default: now)")
	a.addSyncFlags(c.Flags(), &f)
	return c
}

// integrationsReplay starts a replay and follows it: it runs the replay
// itself unless a serve process already does, and shows its progress (a
// bar on a terminal, plain lines otherwise) until it ends. Interrupted, it
// leaves the replay running: serve (or another replay command) resumes it.
func integrationsReplay(ctx context.Context, a *app, db store.Backend, id, since, until string, f syncFlags) error {
	from, to, err := replayFlags(since, until, time.Now())
	if err != nil {
		return err
	}
	in, err := db.GetIntegration(ctx, id, false)
	if err != nil {
		return fmt.Errorf("integration %s: %w", id, err)
	}
	s := a.newSyncer(db, f, nil, nil)
	rp := a.newReplays(db, s, f)
	if _, err := rp.Begin(ctx, in, from, to); err != nil {
		return flagError(err)
	}
	runErr := make(chan error, 1)
	go func() {
		runErr <- s.RunReplay(ctx, db, id, f.workerID, f.leaseTTL)
	}()
	bar := newProgressPrinter(a.stdout)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := rp.Get(context.WithoutCancel(ctx), id)
		if err != nil {
			return err
		}
		bar.show(st)
		if st.State != store.ReplayRunning {
			bar.done()
			if st.State != store.ReplayDone {
				return fmt.Errorf("replay %s: %s", st.State, st.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			bar.done()
			fmt.Fprintln(a.stderr, "interrupted: the replay stays running and resumes from where it is under siemsync serve")
			return errSilent
		case err := <-runErr:
			if err != nil && !errors.Is(err, store.ErrLeaseHeld) {
				bar.done()
				return fmt.Errorf("replay stopped (it resumes from where it is under siemsync serve): %w", err)
			}
			runErr = nil // another worker runs it (or it finished): follow it
		case <-t.C:
		}
	}
}

func replayFlags(since, until string, now time.Time) (time.Time, time.Time, error) {
	var from, to time.Time
	if since == "" {
		return from, to, usagef("--since is required: siemsync integrations replay ID --since 2026-11-20T00:00:00Z [--until T]")
	}
	from, err := time.Parse(time.RFC3339, since)
	if err != nil {
		return from, to, usagef("--since: %q is not an RFC 3339 time such as 2026-11-20T00:00:00Z", since)
	}
	to = now
	if until != "" {
		if to, err = time.Parse(time.RFC3339, until); err != nil {
			return from, to, usagef("--until: %q is not an RFC 3339 time such as 2026-11-21T00:00:00Z", until)
		}
		if to.After(now) {
			to = now // what has not happened yet is sent live
		}
	}
	if !from.Before(to) {
		return from, to, usagef("--since must be before --until (and in the past)")
	}
	return from, to, nil
}

// progressPrinter draws a replay's progress: a bar redrawn in place on a
// terminal, a plain line per change (at most every 2 s) otherwise.
type progressPrinter struct {
	w        io.Writer
	tty      bool
	last     string
	lastLine time.Time
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressPrinter) show(st store.ReplayStatus) {
	eta := "-"
	if st.ETASeconds != nil {
		eta = (time.Duration(*st.ETASeconds) * time.Second).String()
	}
	text := fmt.Sprintf("%d/%d events (%.0f%%), %.0f events/s, ETA %s", st.Sent, st.Total, st.Percent, st.Rate, eta)
	if !p.tty {
		if text != p.last && (time.Since(p.lastLine) >= 2*time.Second || st.State != store.ReplayRunning) {
			fmt.Fprintf(p.w, "replay %s: %s\n", st.State, text)
			p.last, p.lastLine = text, time.Now()
		}
		return
	}
	const width = 30
	n := int(st.Percent / 100 * width)
	fmt.Fprintf(p.w, "\r[%s%s] %s ", strings.Repeat("#", n), strings.Repeat(".", width-n), text)
	p.last = text
}

func (p *progressPrinter) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/sync"
)

type syncOnceFlags struct {
	once, asJSON bool
	id           string
	concurrency  int
	sync         syncFlags
}

func newSyncCmd(a *app) *cobra.Command {
	var f syncOnceFlags
	c := &cobra.Command{
		Use:   "sync --once [--integration ID]",
		Short: "one cycle for every enabled integration (or one), then exit",
		Example: `  siemsync sync --once                       # every enabled integration
  siemsync sync --once --integration 6f1c… --json`,
		Args: nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.syncOnce(cmd.Context(), f) },
	}
	fs := c.Flags()
	fs.BoolVar(&f.once, "once", false, "run one cycle of every enabled integration and exit (the only mode; use serve for the schedule)")
	fs.StringVar(&f.id, "integration", "", "run only this integration `ID`")
	fs.IntVar(&f.concurrency, "concurrency", a.env.integer("SIEMSYNC_CONCURRENCY", sync.DefaultConcurrency), "cycles run at once (env SIEMSYNC_CONCURRENCY)")
	fs.BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	a.addSyncFlags(fs, &f.sync)
	return c
}

func (a *app) syncOnce(ctx context.Context, f syncOnceFlags) error {
	once, asJSON, id, concurrency := f.once, f.asJSON, f.id, f.concurrency
	if !once {
		return usagef("sync runs one cycle and exits: pass --once (use 'siemsync serve' to sync on a schedule)")
	}
	db, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	var ids []string
	if id != "" {
		in, err := db.GetIntegration(ctx, id, false)
		if err != nil {
			return fmt.Errorf("integration %s: %w", id, err)
		}
		if !in.Enabled {
			return fmt.Errorf("integration %s (%s) is disabled: enable it with 'siemsync integrations enable %s'", id, in.Name, id)
		}
		ids = []string{id}
	}
	notifier := a.newNotifier(db)
	s := a.newSyncer(db, f.sync, nil, notifier)
	results, err := s.RunAll(ctx, ids, concurrency)
	notifier.Wait() // an alert this run triggered is sent before the process exits
	if err != nil && len(results) == 0 {
		return err
	}
	// An integration whose lease another worker holds (serve, or another
	// cron run) is being synced right now: skipped, not failed.
	skipped := func(r sync.Result) bool { return errors.Is(r.Err, store.ErrLeaseHeld) }
	failed := 0
	for _, r := range results {
		if r.Err != nil && !skipped(r) {
			failed++
		}
	}
	if asJSON {
		type row struct {
			Integration string  `json:"integration"`
			Name        string  `json:"name"`
			OK          bool    `json:"ok"`
			Skipped     bool    `json:"skipped,omitempty"`
			Audit       int64   `json:"audit_events"`
			Jobs        int64   `json:"job_events"`
			SetAside    int64   `json:"set_aside"`
			Filtered    int64   `json:"filtered"`
			Heartbeats  int64   `json:"heartbeats"`
			Bytes       int64   `json:"bytes"`
			Seconds     float64 `json:"seconds"`
			Error       string  `json:"error,omitempty"`
		}
		rows := make([]row, 0, len(results))
		for _, r := range results {
			x := row{Integration: r.Integration, Name: r.Name, OK: r.Err == nil || skipped(r), Skipped: skipped(r), Audit: r.Audit, Jobs: r.Jobs,
				SetAside: r.SetAside, Filtered: r.Filtered, Heartbeats: r.Heartbeats, Bytes: r.Bytes, Seconds: r.Duration.Seconds()}
			if r.Err != nil {
				x.Error = r.Err.Error()
			}
			rows = append(rows, x)
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		if len(results) == 0 {
			fmt.Fprintln(a.stdout, "no enabled integrations")
		}
		for _, r := range results {
			status := "ok  "
			switch {
			case skipped(r):
				status = "skip"
			case r.Err != nil:
				status = "FAIL"
			}
			fmt.Fprintf(a.stdout, "%s %s %-24q audit=%d jobs=%d set_aside=%d filtered=%d bytes=%d %s\n",
				status, r.Integration, r.Name, r.Audit, r.Jobs, r.SetAside, r.Filtered, r.Bytes, r.Duration.Round(time.Millisecond))
			if skipped(r) {
				fmt.Fprintf(a.stdout, "     another worker is syncing it now\n")
			} else if r.Err != nil {
				fmt.Fprintf(a.stdout, "     error: %v\n", r.Err)
			}
		}
	}
	if failed > 0 || errors.Is(err, context.Canceled) {
		return errSilent
	}
	return nil
}

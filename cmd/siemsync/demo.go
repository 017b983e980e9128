package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/internal/gen"
	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/store"
)

// cmdDemo runs everything on one machine with no Splunk: a temporary store,
// a local HEC-compatible receiver, two accounts with live activity, an
// enabled integration per account, and the admin page.
func newDemoCmd(a *app) *cobra.Command {
	var f demoFlags
	c := &cobra.Command{
		Use:   "demo",
		Short: "everything on one machine: store, HEC receiver, activity, admin page",
		Long: `Run everything on one machine with no Splunk: a temporary store, a local
HEC-compatible receiver, two accounts with live activity and an hour of history,
an enabled integration per account (backfilling that hour), and the admin page.
The store is removed at exit unless --keep is given.`,
		Example: "  siemsync demo\n  siemsync demo --listen 127.0.0.1:9090 --keep",
		Args:    nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			set := changed(cmd.Flags())
			if !set["schedule"] && a.env("SIEMSYNC_SCHEDULE") == "" {
				f.schedule = "@every 15s"
			}
			if !set["log-format"] && a.env("SIEMSYNC_LOG_FORMAT") == "" {
				a.g.logFormat = "console"
			}
			return a.demo(cmd.Context(), f)
		},
	}
	a.addServeFlags(c.Flags(), &f.serveFlags)
	c.Flags().BoolVar(&f.keep, "keep", false, "keep the temporary directory at exit")
	c.Flags().DurationVar(&f.every, "every", 2*time.Second, "how often new activity is generated")
	// The demo has its own store and receiver on loopback.
	return ignoresGlobals(c, "db", "create", "allow-private-destinations")
}

type demoFlags struct {
	serveFlags
	keep  bool
	every time.Duration
}

func (a *app) demo(ctx context.Context, df demoFlags) error {
	f, keep, rate := df.serveFlags, &df.keep, &df.every
	a.g.allowPrivate = true           // the receiver is on loopback
	if err := a.setup(); err != nil { // again: the log format may have changed
		return err
	}
	dir, err := os.MkdirTemp("", "siemsync-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	a.g.db = filepath.Join(dir, "siemsync.db")
	db, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if f.adminToken == "" {
		f.adminToken = a.env.str("SIEMSYNC_ADMIN_TOKEN", "demo-"+randomHex(12))
	}
	hecToken := uuid.NewString()
	recv := hecrecv.New(hecrecv.Options{Tokens: []string{hecToken}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rs := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go rs.Serve(ln)
	defer rs.Close()
	hecURL := "http://" + ln.Addr().String()

	d := &demo{a: a, db: db, g: gen.New(uint64(time.Now().UnixNano())), jobs: map[string]*gen.JobRecord{}}
	if err := d.seed(ctx, hecURL, hecToken); err != nil {
		return err
	}
	received := filepath.Join(dir, "received.ndjson")
	go d.generate(ctx, *rate)
	go writeReceived(ctx, recv, received)

	return a.serve(ctx, db, f, func(url string) {
		fmt.Fprintf(a.stdout, `
siemsync demo is running (Ctrl-C to stop).

  Admin page     %s
  Admin token    %s
  HEC receiver   %s/services/collector/event  (token %s)
  What arrived   tail -f %s
  Store          siemsync --db %s integrations list

Two accounts generate audit events every %s and jobs that progress over several
cycles; every enabled integration syncs on the schedule %q.

`, url, f.adminToken, hecURL, hecToken, received, a.g.db, *rate, f.schedule)
	})
}

type demo struct {
	a        *app
	db       store.Backend
	g        *gen.Gen
	accounts []string
	jobs     map[string]*gen.JobRecord
}

// seed creates two accounts with an hour of history and one integration
// each, backfilling that hour.
func (d *demo) seed(ctx context.Context, hecURL, token string) error {
	now := time.Now().UTC()
	d.accounts = []string{d.g.Account(), d.g.Account()}
	names := []string{"Acme Corp", "Globex"}
	var audit, jobs []byte
	for _, acc := range d.accounts {
		for i := range 30 {
			audit = gen.AppendAudit(audit, d.g.Audit(acc, now.Add(-time.Hour+time.Duration(i)*2*time.Minute)))
		}
		for range 3 {
			j := d.g.Job(acc, now.Add(-10*time.Minute))
			d.jobs[j.Job] = &j
			jobs = gen.AppendJob(jobs, j)
		}
	}
	if err := d.ingest(ctx, audit, jobs); err != nil {
		return err
	}
	since := now.Add(-time.Hour) // the hour of history seeded above
	for i, acc := range d.accounts {
		name := names[i]
		if err := d.db.UpdateAccount(ctx, acc, &name, nil); err != nil {
			return err
		}
		in := &siemsync.Integration{
			Account: acc, Name: "Splunk (demo receiver)", Kind: siemsync.KindHEC, Enabled: true,
			Sources: []string{siemsync.SourceAudit, siemsync.SourceJobs}, URL: hecURL, Token: token,
			Gzip: true, BackfillSince: &since,
		}
		in.ApplyDefaults()
		if err := in.Validate(); err != nil {
			return err
		}
		if err := d.db.CreateIntegration(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) ingest(ctx context.Context, audit, jobs []byte) error {
	if len(audit) > 0 {
		if _, err := ingest.Audit(ctx, d.db, bytes.NewReader(audit), ingest.Options{}); err != nil {
			return fmt.Errorf("demo audit: %w", err)
		}
	}
	if len(jobs) > 0 {
		if _, err := ingest.Jobs(ctx, d.db, bytes.NewReader(jobs), ingest.Options{}); err != nil {
			return fmt.Errorf("demo jobs: %w", err)
		}
	}
	return nil
}

// generate adds a few audit events per account and moves every job on,
// starting new jobs as old ones end, until ctx ends.
func (d *demo) generate(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var audit, jobs []byte
		for _, acc := range d.accounts {
			for range 1 + int(now.UnixNano()%3) {
				audit = gen.AppendAudit(audit, d.g.Audit(acc, now))
			}
		}
		for id, j := range d.jobs {
			if d.g.Advance(j, now) {
				delete(d.jobs, id)
				nj := d.g.Job(j.Account, now)
				d.jobs[nj.Job] = &nj
				jobs = gen.AppendJob(jobs, nj)
			}
			jobs = gen.AppendJob(jobs, *j)
		}
		if err := d.ingest(ctx, audit, jobs); err != nil && ctx.Err() == nil {
			d.a.log.Error().Err(err).Msg("demo activity")
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

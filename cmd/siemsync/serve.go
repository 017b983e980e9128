package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/sync"
)

// defaultRetention keeps records long enough for a new integration to
// backfill a month, and for an integration whose SIEM was down for weeks to
// catch up.
const defaultRetention = 30 * 24 * time.Hour

type serveFlags struct {
	listen, schedule, adminToken string
	trustedProxies               string
	egress                       string
	concurrency                  int
	retention, grace             time.Duration
	secureCookies                bool
	sync                         syncFlags
}

func (a *app) addServeFlags(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	IntVar(*int, string, int, string)
}, f *serveFlags) {
	fs.StringVar(&f.listen, "listen", a.env.str("SIEMSYNC_LISTEN", "127.0.0.1:8080"), "admin page and API address (env SIEMSYNC_LISTEN)")
	fs.StringVar(&f.schedule, "schedule", a.env.str("SIEMSYNC_SCHEDULE", sync.DefaultSchedule), "cron spec or @every D (env SIEMSYNC_SCHEDULE)")
	fs.IntVar(&f.concurrency, "concurrency", a.env.integer("SIEMSYNC_CONCURRENCY", sync.DefaultConcurrency), "cycles run at once (env SIEMSYNC_CONCURRENCY)")
	// The default is not shown in help: it would print the token.
	fs.StringVar(&f.adminToken, "admin-token", "", "admin API/page token (env SIEMSYNC_ADMIN_TOKEN); generated and printed once if unset")
	fs.DurationVar(&f.retention, "retention", a.env.duration("SIEMSYNC_RETENTION", defaultRetention), "prune records older than this, hourly (env SIEMSYNC_RETENTION; 0 keeps everything)")
	fs.DurationVar(&f.grace, "shutdown-grace", a.env.duration("SIEMSYNC_SHUTDOWN_GRACE", 30*time.Second), "on SIGTERM, wait this long for in-flight batches (env SIEMSYNC_SHUTDOWN_GRACE)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", a.env("SIEMSYNC_TRUSTED_PROXIES"), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client, for sign-in throttling (env SIEMSYNC_TRUSTED_PROXIES)")
	fs.StringVar(&f.egress, "egress-addresses", a.env("SIEMSYNC_EGRESS_ADDRESSES"), "free text, e.g. CIDRs: the addresses siemsync connects from, shown to customers for their firewall allow-list (env SIEMSYNC_EGRESS_ADDRESSES)")
	fs.BoolVar(&f.secureCookies, "secure-cookies", a.env.boolean("SIEMSYNC_SECURE_COOKIES", false), "mark the session cookie Secure (set when served over HTTPS) (env SIEMSYNC_SECURE_COOKIES)")
	a.addSyncFlags(fs, &f.sync)
}

func newServeCmd(a *app) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "scheduler + admin page + REST API until SIGINT/SIGTERM",
		Example: `  siemsync --db /var/lib/siemsync/siemsync.db serve --listen 127.0.0.1:8080 --schedule '@every 5m'
  SIEMSYNC_ADMIN_TOKEN="$(cat /run/secrets/admin)" siemsync serve`,
		Args: nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer db.Close()
			return a.serve(cmd.Context(), db, f, nil)
		},
	}
	a.addServeFlags(c.Flags(), &f)
	return c
}

// serve runs the scheduler, the retention pruner and the admin server until
// ctx is cancelled, then shuts down in order: stop scheduling and let
// in-flight batches finish (bounded by the grace period), stop the HTTP
// server, and return so the caller closes the store. ready, when not nil,
// receives the admin URL once the server listens.
func (a *app) serve(ctx context.Context, db store.Backend, f serveFlags, ready func(url string)) error {
	if f.adminToken == "" {
		f.adminToken = a.env("SIEMSYNC_ADMIN_TOKEN")
	}
	m := metrics.New()
	notifier := a.newNotifier(db)
	defer notifier.Wait() // alerts in flight at shutdown (each bounded by its timeout)
	syncer := a.newSyncer(db, f.sync, m, notifier)
	// Everything that can fail on the operator's input (the schedule, the
	// trusted proxies, the listen address) is checked before the admin
	// token is generated: a generated token is shown once, so it must not
	// be lost to a failed start.
	sched, err := sync.NewScheduler(syncer, f.schedule, f.concurrency, a.log.With().Str("component", "scheduler").Logger())
	if err != nil {
		return usagef("--schedule: %v", err)
	}
	proxies, err := admin.ParseTrustedProxies(f.trustedProxies)
	if err != nil {
		return usagef("--trusted-proxies: %v: give CIDR prefixes such as 10.0.0.0/8,192.0.2.10", err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.listen, err)
	}
	defer ln.Close() // for the early returns; Serve closes it otherwise
	hash, generated, err := admin.EnsureToken(ctx, db, f.adminToken)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(a.stdout, "admin token (shown once; only its hash is stored): %s\n", generated)
	}
	sc := sinkConfig{requestTimeout: f.sync.requestTimeout, maxEventBytes: f.sync.maxEventBytes, metrics: m}
	replays := a.newReplays(db, syncer, f.sync)
	handler, err := admin.New(admin.Config{
		Store: db, Syncer: syncer, Tester: a.tester(sc, db), Ingest: ingester{db}, Preview: syncer, Replays: replays, Metrics: m,
		Logger: a.log.With().Str("component", "admin").Logger(), TokenHash: hash, SecureCookies: f.secureCookies,
		TrustedProxies: proxies,
		Egress:         f.egress, NoAuditTrail: !a.auditTrail(),
	})
	if err != nil {
		return fmt.Errorf("admin server: %w", err)
	}
	srv := admin.NewHTTPServer(handler, admin.DefaultLimits)
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(admin.LimitListener(ln, admin.DefaultLimits.MaxConns)) }()
	url := "http://" + ln.Addr().String() + "/"
	a.log.Info().Str("url", url).Str("schedule", f.schedule).Int("concurrency", f.concurrency).Msg("serving")
	if ready != nil {
		ready(url)
	}
	// Cycles run on a context that SIGTERM does not cancel: Stop first lets
	// in-flight batches finish for the grace period, then cancels them.
	sched.Start(context.WithoutCancel(ctx))
	pruneDone := a.startPruner(ctx, db, f.retention, f.sync.workerID)
	// Replays resume at start and stop, like cycles, after the batch in
	// flight once the syncer drains (their cursors keep what was sent).
	rctx, stopReplays := context.WithCancel(context.WithoutCancel(ctx))
	replaysDone := make(chan struct{})
	go func() { defer close(replaysDone); replays.Run(rctx, replayPoll) }()
	defer func() { stopReplays(); <-replaysDone }()

	select {
	case <-ctx.Done():
	case err := <-srvErr:
		sched.Stop(f.grace)
		return fmt.Errorf("admin server: %w", err)
	}
	start := time.Now()
	a.log.Info().Dur("grace_ms", f.grace).Msg("shutting down: finishing in-flight batches")
	sched.Stop(f.grace)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.log.Warn().Err(err).Msg("admin server shutdown")
	}
	<-pruneDone
	a.log.Info().Dur("took_ms", time.Since(start)).Msg("stopped")
	return nil
}

// pruneEvery is how often each worker tries to prune. The deployment-wide
// lease it takes lasts a little less, so that across all workers the
// retention runs about once per interval, on whichever worker comes first.
const pruneEvery = time.Hour

// startPruner applies the retention every hour until ctx ends, on one
// worker of the deployment at a time.
func (a *app) startPruner(ctx context.Context, db store.Backend, retention time.Duration, owner string) <-chan struct{} {
	done := make(chan struct{})
	if retention <= 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(pruneEvery)
		defer t.Stop()
		for {
			_, err := db.AcquireLease(ctx, store.PruneLease, owner, pruneEvery-5*time.Minute)
			if err == nil {
				var res store.PruneResult
				// A cutoff at the start of a day (UTC) lets PostgreSQL
				// drop a whole day's partition instead of deleting row by
				// row; records stay at most a day longer than --retention.
				res, err = db.Prune(ctx, time.Now().Add(-retention).UTC().Truncate(24*time.Hour))
				if err == nil {
					a.log.Info().Interface("pruned", res).Msg("prune")
				}
			}
			switch {
			case errors.Is(err, store.ErrLeaseHeld):
				a.log.Debug().Msg("prune: another worker pruned within the hour")
			case err != nil && !errors.Is(err, context.Canceled):
				a.log.Error().Err(err).Msg("prune")
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}

// ingester adapts the ingest package to the admin API.
type ingester struct{ db store.Backend }

func (i ingester) Audit(ctx context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return ingest.Audit(ctx, i.db, r, ingest.Options{Account: account})
}

func (i ingester) Jobs(ctx context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return ingest.Jobs(ctx, i.db, r, ingest.Options{Account: account})
}

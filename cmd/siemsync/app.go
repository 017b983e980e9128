package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/alert"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/sink/hec"
	"github.com/siemsync/siemsync/sink/syslog"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
	"github.com/siemsync/siemsync/store/sqlite"
	"github.com/siemsync/siemsync/sync"
)

// app is what every command shares: the parsed global flags, the process's
// streams and environment, and constructors for the parts it wires.
type app struct {
	g      globals
	env    env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    zerolog.Logger
	// transports keeps HEC connections open from one cycle to the next
	// (see hec.Transports); one per process.
	transports *hec.Transports
}

// setup builds the logger once the command's flags are parsed.
func (a *app) setup() error {
	lvl, err := zerolog.ParseLevel(strings.ToLower(a.g.logLevel))
	if err != nil || lvl == zerolog.NoLevel {
		return usagef("--log-level: %q is not one of debug, info, warn, error", a.g.logLevel)
	}
	var w io.Writer = a.stderr
	switch a.g.logFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: a.stderr, TimeFormat: time.TimeOnly}
	default:
		return usagef("--log-format: %q is not json or console", a.g.logFormat)
	}
	a.log = zerolog.New(w).Level(lvl).With().Timestamp().Logger()
	if err := syslog.CheckHeader(a.g.cefVendor, a.g.cefProduct, a.g.cefVersion); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// openStore opens the store --db names with the secrets cipher: the key
// comes from SIEMSYNC_SECRET_KEY or, for a SQLite file, from a key file
// beside the database that is created on first use. Only a command that may
// create a SQLite store (serve, ingest, demo), or --create, makes a new one:
// a mistyped --db is refused instead of silently starting an empty store.
func (a *app) openStore(ctx context.Context, mayCreate bool) (store.Backend, error) {
	keyBeside := a.g.db
	if postgres.IsURL(a.g.db) {
		keyBeside = "" // workers share the database: they must share the key too
	} else if err := checkStorePath(a.g.db, mayCreate || a.g.create); err != nil {
		return nil, err
	}
	c, err := secret.Load(keyBeside, a.env("SIEMSYNC_SECRET_KEY"))
	if err != nil {
		return nil, fmt.Errorf("load secret key: %w", explainFS(a.g.db, err))
	}
	return openStore(ctx, a.g.db, c)
}

// openStore opens a PostgreSQL database (postgres:// or postgresql:// URL;
// the PG* environment variables fill what it leaves out) or else a SQLite
// file.
func openStore(ctx context.Context, dsn string, c store.Cipher) (store.Backend, error) {
	if postgres.IsURL(dsn) {
		// Its errors name user, host and database, never the URL, which
		// may hold a password.
		return postgres.Open(ctx, dsn, postgres.Options{Cipher: c})
	}
	db, err := sqlite.Open(ctx, dsn, sqlite.Options{Cipher: c})
	if err != nil {
		return nil, explainFS(dsn, err) // sqlite's errors name the path
	}
	return db, nil
}

// sinkConfig holds the operator's settings that apply to every sink.
type sinkConfig struct {
	requestTimeout time.Duration
	maxEventBytes  int
	metrics        *metrics.Metrics
}

func (a *app) hecOptions(sc sinkConfig) hec.Options {
	return hec.Options{
		AllowPrivate: a.g.allowPrivate, RequestTimeout: sc.requestTimeout, MaxEventBytes: sc.maxEventBytes,
		Hostname: a.g.hostName, Metrics: sc.metrics, Logger: a.log, Transports: a.transports,
		// OCSF metadata.product names the deployment's product, as the CEF header does.
		Vendor: a.g.cefVendor, Product: a.g.cefProduct, Version: a.g.cefVersion,
	}
}

func (a *app) syslogOptions(sc sinkConfig) syslog.Options {
	return syslog.Options{
		AllowPrivate: a.g.allowPrivate, DialTimeout: 10 * time.Second, WriteTimeout: sc.requestTimeout,
		Hostname: a.g.hostName, Metrics: sc.metrics, Logger: a.log,
		Vendor: a.g.cefVendor, Product: a.g.cefProduct, Version: a.g.cefVersion,
	}
}

// opener opens the sink of an integration by its kind.
func (a *app) opener(sc sinkConfig) sync.Opener {
	return func(ctx context.Context, in *siemsync.Integration) (sync.Sink, error) {
		switch in.Kind {
		case siemsync.KindHEC:
			return hec.New(in, a.hecOptions(sc))
		case siemsync.KindSyslog:
			return syslog.New(in, a.syslogOptions(sc))
		}
		return nil, fmt.Errorf("unknown integration kind %q", in.Kind)
	}
}

// accounts finds an account's host for Test connection.
type accounts interface {
	GetAccount(ctx context.Context, id string) (siemsync.Account, error)
}

// tester runs Test connection for an integration loaded with its secrets.
// Its test event or message carries the account's host, as the events of
// a cycle do, not this worker's host name.
func (a *app) tester(sc sinkConfig, db accounts) func(ctx context.Context, in *siemsync.Integration, send bool) []siemsync.Step {
	return func(ctx context.Context, in *siemsync.Integration, send bool) []siemsync.Step {
		host := a.g.hostName
		if acc, err := db.GetAccount(ctx, in.Account); err == nil && acc.Host != "" {
			host = acc.Host
		}
		switch in.Kind {
		case siemsync.KindHEC:
			o := a.hecOptions(sc)
			o.Hostname = host
			return hec.Check(ctx, in, o, send)
		case siemsync.KindSyslog:
			o := a.syslogOptions(sc)
			o.Hostname = host
			return syslog.Check(ctx, in, o, send)
		}
		return []siemsync.Step{{Name: "kind", Message: fmt.Sprintf("unknown integration kind %q", in.Kind)}}
	}
}

// syncFlags are the sending settings of serve, sync and demo.
type syncFlags struct {
	retryBudget        time.Duration
	cycleTimeout       time.Duration
	requestTimeout     time.Duration
	maxEventBytes      int
	workerID           string
	leaseTTL           time.Duration
	backlogConcurrency int
}

func (a *app) addSyncFlags(fs interface {
	DurationVar(*time.Duration, string, time.Duration, string)
	IntVar(*int, string, int, string)
	StringVar(*string, string, string, string)
}, f *syncFlags) {
	fs.StringVar(&f.workerID, "worker-id", a.env.str("SIEMSYNC_WORKER_ID", sync.DefaultOwner()),
		"this worker's name in leases and run records (env SIEMSYNC_WORKER_ID; default host name:pid)")
	fs.DurationVar(&f.leaseTTL, "lease-ttl", a.env.duration("SIEMSYNC_LEASE_TTL", sync.DefaultLeaseTTL),
		"how long an integration's lease lasts unless renewed; a dead worker's integrations are taken over after it (env SIEMSYNC_LEASE_TTL)")
	fs.DurationVar(&f.retryBudget, "retry-budget", a.env.duration("SIEMSYNC_RETRY_BUDGET", sync.DefaultRetryBudget),
		"time one cycle may spend retrying transient failures (env SIEMSYNC_RETRY_BUDGET)")
	fs.DurationVar(&f.cycleTimeout, "cycle-timeout", a.env.duration("SIEMSYNC_CYCLE_TIMEOUT", sync.DefaultCycleTimeout),
		"upper bound of one cycle of one integration (env SIEMSYNC_CYCLE_TIMEOUT)")
	fs.DurationVar(&f.requestTimeout, "request-timeout", a.env.duration("SIEMSYNC_REQUEST_TIMEOUT", 30*time.Second),
		"timeout of one request to a destination (env SIEMSYNC_REQUEST_TIMEOUT)")
	fs.IntVar(&f.maxEventBytes, "max-event-bytes", a.env.integer("SIEMSYNC_MAX_EVENT_BYTES", 9000),
		"HEC events larger than this get their metadata truncated with a marker, below Splunk's 10,000-byte TRUNCATE (env SIEMSYNC_MAX_EVENT_BYTES)")
	fs.IntVar(&f.backlogConcurrency, "backlog-concurrency", a.env.integer("SIEMSYNC_BACKLOG_CONCURRENCY", sync.DefaultBacklogConcurrency),
		"cycles at once that build large batches (a backlog); each holds up to max_in_flight + 2 batch buffers of max_batch_bytes, so this bounds memory (env SIEMSYNC_BACKLOG_CONCURRENCY)")
}

// newNotifier returns the alert notifier of serve and sync --once.
func (a *app) newNotifier(db store.Backend) *alert.Notifier {
	return alert.New(alert.Config{Store: db, AllowPrivate: a.g.allowPrivate,
		Logger: a.log.With().Str("component", "alert").Logger()})
}

// newSyncer returns a Syncer; obs, when not nil, is told about every
// cycle (the alert notifier).
func (a *app) newSyncer(db store.Backend, f syncFlags, m *metrics.Metrics, obs sync.Observer) *sync.Syncer {
	sc := sinkConfig{requestTimeout: f.requestTimeout, maxEventBytes: f.maxEventBytes, metrics: m}
	return sync.New(sync.Config{
		Observer: obs,
		Store:    db, Open: a.opener(sc), Hostname: a.g.hostName,
		RetryBudget: f.retryBudget, CycleTimeout: f.cycleTimeout, Owner: f.workerID, LeaseTTL: f.leaseTTL,
		BacklogConcurrency: f.backlogConcurrency,
		Metrics:            m, Logger: a.log.With().Str("component", "sync").Logger(),
		UploadClock: a.pinnedUploadClock(),
	})
}

// pinnedUploadClock reads SIEMSYNC_TEST_UPLOAD_TIME, for tests only: every
// batch then carries that upload time, so that the end-to-end test can
// compare a preview with the cycle after it byte for byte (upload_time and
// job snapshot ids are the time a batch is built). Unset: the wall clock.
func (a *app) pinnedUploadClock() func() time.Time {
	v := a.env("SIEMSYNC_TEST_UPLOAD_TIME")
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		a.log.Warn().Str("value", v).Msg("SIEMSYNC_TEST_UPLOAD_TIME is not an RFC 3339 time: ignored")
		return nil
	}
	a.log.Warn().Time("upload_time", t).Msg("SIEMSYNC_TEST_UPLOAD_TIME pins the upload time of every batch: for tests only")
	return func() time.Time { return t }
}

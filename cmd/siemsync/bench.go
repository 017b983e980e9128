package main

import (
	"context"
	"errors"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/internal/bench"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
)

func newBenchCmd(a *app) *cobra.Command {
	var c bench.Config
	var asJSON, quiet, noGzip bool
	cmd := &cobra.Command{
		Use:   "bench [--drain N | --integrations K --per-integration M [--hec-latency D]] [--hec URL --token T] [--json]",
		Short: "measure the pipeline (ingest, store, encode, send) in one process",
		Example: `  siemsync bench                                          # drain 1,000,000 records
  siemsync bench --integrations 10000 --per-integration 10 --hec-latency 100ms
  siemsync bench --hec https://splunk.example.com:8088 --token T --drain 100000`,
		Args: nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.NoGzip = noGzip
			return a.bench(cmd.Context(), c, changed(cmd.Flags()), asJSON, quiet)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&c.Drain, "drain", bench.DefaultDrain, "drain mode: ingest `N` synthetic audit records, then send them all with one cycle of one integration")
	fs.IntVar(&c.Integrations, "integrations", 0, "integrations mode: `K` integrations in K accounts, one full cycle of all of them")
	fs.IntVar(&c.PerIntegration, "per-integration", 10, "integrations mode: `M` new records per integration")
	fs.IntVar(&c.Concurrency, "concurrency", 0, "integrations mode: cycles at once per worker (default: serve's default)")
	fs.IntVar(&c.Workers, "workers", 1, "integrations mode: `N` workers, each with its own scheduler and connections, sharing the --db postgres://… database")
	fs.DurationVar(&c.HECLatency, "hec-latency", 0, "simulated round trip added to every answer of the built-in receiver")
	fs.StringVar(&c.HECURL, "hec", "", "send to this real HEC `URL` instead of the built-in receiver")
	fs.StringVar(&c.Token, "token", "", "HEC token for --hec")
	fs.BoolVar(&c.InsecureSkipVerify, "insecure-skip-verify", false, "with --hec: do not verify the HEC's certificate")
	fs.BoolVar(&noGzip, "no-gzip", false, "send uncompressed batches")
	fs.IntVar(&c.MaxBatchBytes, "max-batch-bytes", 0, "uncompressed bytes per batch (default 4 MiB)")
	fs.IntVar(&c.MaxBatchEvents, "max-batch-events", 0, "events per batch (default 10000)")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", 0, "requests in flight per cycle (default 4)")
	fs.IntVar(&c.PageSize, "page-size", 0, "records per store page read (default 1000)")
	fs.BoolVar(&c.IngestOnly, "ingest-only", false, "drain mode: stop after the ingest (to measure ingest alone)")
	fs.IntVar(&c.IngestChunk, "ingest-chunk", bench.DefaultIngestChunk, "records per ingest call (one NDJSON stream, one transaction)")
	fs.StringVar(&c.Dir, "dir", "", "directory for the temporary store (default: the OS temp dir)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the temporary store")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of --profile-phase to `FILE`")
	fs.StringVar(&c.ProfilePhase, "profile-phase", "sync", "phase the CPU profile covers: sync, ingest or all")
	fs.StringVar(&c.MemProfile, "memprofile", "", "write a heap profile (live objects, half way through the sync phase) to `FILE`")
	fs.BoolVar(&asJSON, "json", false, "print the results as one JSON object")
	fs.BoolVar(&quiet, "quiet", false, "no progress display")
	// --db stays visible: a postgres:// URL there is the database to
	// measure; anything else means the temporary SQLite store.
	return ignoresGlobals(cmd, "create")
}

// bench measures the pipeline: see internal/bench.
func (a *app) bench(ctx context.Context, c bench.Config, set map[string]bool, asJSON, quiet bool) error {
	if set["drain"] && set["integrations"] {
		return usagef("--drain and --integrations are two modes: pick one")
	}
	if (set["per-integration"] || set["concurrency"] || set["workers"]) && c.Integrations == 0 {
		return usagef("--per-integration, --concurrency and --workers go with --integrations K")
	}
	if c.Workers > 1 && !postgres.IsURL(a.g.db) {
		return usagef("--workers %d: workers share a PostgreSQL database; give it with --db postgres://… (SQLite runs one worker)", c.Workers)
	}
	if c.HECURL != "" && c.Token == "" {
		return usagef("--hec needs --token")
	}
	if c.HECURL == "" && (c.Token != "" || c.InsecureSkipVerify) {
		return usagef("--token and --insecure-skip-verify go with --hec")
	}
	if c.HECURL != "" && c.HECLatency > 0 {
		return usagef("--hec-latency simulates latency on the built-in receiver; a real HEC has its own")
	}
	if set["db"] && !postgres.IsURL(a.g.db) {
		return usagef("bench measures a temporary SQLite store, or the PostgreSQL database of --db postgres://…; %q is not a PostgreSQL URL", a.g.db)
	}
	if postgres.IsURL(a.g.db) {
		c.Open = func(ctx context.Context, ci store.Cipher) (store.Backend, error) { return openStore(ctx, a.g.db, ci) }
	}
	c.AllowPrivate = a.g.allowPrivate
	c.Hostname = a.g.hostName
	c.Transports = a.transports
	// Per-cycle results are the bench's output; only warnings are logged.
	c.Logger = a.log.Level(max(zerolog.WarnLevel, a.log.GetLevel()))
	if !quiet {
		c.Progress = a.stderr
	}
	res, err := bench.Run(ctx, c)
	if res != nil && (res.Sync.Cycles > 0 || err == nil) {
		var werr error
		if asJSON {
			werr = bench.WriteJSON(a.stdout, res)
		} else {
			werr = bench.WriteTable(a.stdout, res)
		}
		err = errors.Join(err, werr)
	}
	return err
}

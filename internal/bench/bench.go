// Package bench measures the real sync pipeline: NDJSON ingest into a
// temporary SQLite store, then cycles of the real syncer reading pages from
// the store, encoding HEC envelopes, gzipping batches and posting them over
// HTTP, to a built-in HEC-compatible receiver that counts and discards (or
// to a real HEC). It reports throughput, request latency and memory, and
// fails when the receiver did not count exactly the records sent.
//
// `siemsync bench` is its command line; the README's "Performance" section has
// the figures measured on the reference machine.
package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/internal/gen"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/numfmt"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/sink"
	"github.com/siemsync/siemsync/sink/hec"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
	ssync "github.com/siemsync/siemsync/sync"
)

// Defaults of a Config.
const (
	DefaultDrain       = 1_000_000
	DefaultIngestChunk = 100_000
	DefaultHostname    = "bench.example.net"
)

// Config selects what to measure. The zero value (with defaults applied)
// is the drain of 1,000,000 records to the built-in receiver.
type Config struct {
	// Open opens the store to measure (siemsync bench --db postgres://…);
	// nil: a new SQLite file in a temporary directory.
	Open func(ctx context.Context, c store.Cipher) (store.Backend, error)
	// Drain mode: ingest Drain records into one account, then drain them
	// with one cycle of one integration (created with a backfill, so the
	// history is sent).
	Drain int
	// Integrations mode (when Integrations > 0): that many integrations,
	// each in its own account, with PerIntegration new records each; one
	// full cycle of all of them with Concurrency cycles at once.
	Integrations   int
	PerIntegration int
	Concurrency    int
	// Workers run the integrations mode's round as that many serve
	// workers would: each its own scheduler, store connection (pool)
	// and HEC connections, leasing due integrations from the one
	// database (PostgreSQL; SQLite runs one worker).
	Workers int

	// HECLatency delays every answer of the built-in receiver: a
	// simulated round trip.
	HECLatency time.Duration
	// HECURL and Token send to a real HEC instead of the built-in
	// receiver. AllowPrivate allows a private address there;
	// InsecureSkipVerify skips its certificate check.
	HECURL             string
	Token              string
	AllowPrivate       bool
	InsecureSkipVerify bool

	// Sending settings of the integrations.
	NoGzip         bool
	MaxBatchBytes  int // default siemsync.DefaultMaxBatchBytes
	MaxBatchEvents int // default siemsync.DefaultMaxBatchEvents
	MaxInFlight    int // requests in flight per cycle; default siemsync.DefaultMaxInFlight
	PageSize       int // default sources.DefaultPageSize

	// IngestOnly stops a drain after the ingest: for measuring ingest.
	IngestOnly bool

	// IngestChunk is how many records one ingest call (one NDJSON
	// "file", one transaction) carries.
	IngestChunk int
	Seed        uint64
	// Dir is where the temporary store goes (default: the OS temp dir);
	// Keep leaves it there.
	Dir  string
	Keep bool

	// CPUProfile writes a CPU profile of ProfilePhase ("sync", the
	// default, "ingest" or "all"); MemProfile a heap profile at the end
	// of the sync phase.
	CPUProfile   string
	ProfilePhase string
	MemProfile   string

	// Transports is the HEC transport cache the syncer uses, as serve's
	// does (nil: a cache of the bench's own).
	Transports *hec.Transports

	Hostname string
	Logger   zerolog.Logger
	// Progress receives the progress display (nil: none); a terminal
	// gets a bar, anything else a line every few seconds.
	Progress io.Writer
}

func (c *Config) defaults() error {
	if c.Integrations < 0 || c.PerIntegration < 0 || c.Drain < 0 || c.Concurrency < 0 {
		return errors.New("bench: counts must not be negative")
	}
	if c.Integrations > 0 {
		if c.PerIntegration == 0 {
			c.PerIntegration = 10
		}
	} else if c.Drain == 0 {
		c.Drain = DefaultDrain
	}
	if c.Concurrency == 0 {
		c.Concurrency = ssync.DefaultConcurrency
	}
	if c.Workers == 0 {
		c.Workers = 1
	}
	if c.Workers > 1 && c.Open == nil {
		return errors.New("bench: several workers share a PostgreSQL database (--db postgres://…); SQLite runs one worker")
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = siemsync.DefaultMaxBatchBytes
	}
	if c.MaxBatchEvents == 0 {
		c.MaxBatchEvents = siemsync.DefaultMaxBatchEvents
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = siemsync.DefaultMaxInFlight
	}
	if c.IngestChunk <= 0 {
		c.IngestChunk = DefaultIngestChunk
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Hostname == "" {
		c.Hostname = DefaultHostname
	}
	switch c.ProfilePhase {
	case "":
		c.ProfilePhase = "sync"
	case "sync", "ingest", "all":
	default:
		return fmt.Errorf("bench: profile phase %q is not sync, ingest or all", c.ProfilePhase)
	}
	if c.HECURL != "" && c.Token == "" {
		return errors.New("bench: --hec needs --token")
	}
	return nil
}

// runner is one bench run.
type runner struct {
	cfg    Config
	res    *Result
	db     store.Backend
	dbPath string
	cipher *secret.Cipher
	recv   *receiver
	url    string
	tok    string
	m      meter
	tty    bool
	prof   *os.File
}

// open opens the store under test: cfg.Open's, or the temporary SQLite file.
func (r *runner) open(ctx context.Context) (store.Backend, error) {
	if r.cfg.Open != nil {
		return r.cfg.Open(ctx, r.cipher)
	}
	return sqlite.Open(ctx, r.dbPath, sqlite.Options{Cipher: r.cipher})
}

// Run runs the bench that cfg describes and returns what it measured. It
// returns an error (with the partial result) when anything failed,
// including the final count check.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Transports == nil {
		cfg.Transports = hec.NewTransports(hec.TransportOptions{})
		defer cfg.Transports.Close()
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, tty: isTTY(cfg.Progress)}
	r.res = &Result{
		Machine: machine(), Gzip: !cfg.NoGzip, MaxBatchBytes: cfg.MaxBatchBytes, MaxBatchEvents: cfg.MaxBatchEvents, MaxInFlight: cfg.MaxInFlight, HECLatencyMS: float64(cfg.HECLatency.Microseconds()) / 1000,
		PageSize: cfg.PageSize, Concurrency: cfg.Concurrency, Workers: cfg.Workers, HECLatency: cfg.HECLatency.Seconds(), ReceiverCount: -1,
	}
	if r.res.PageSize == 0 {
		r.res.PageSize = 1000 // sources.DefaultPageSize
	}

	dir, err := os.MkdirTemp(cfg.Dir, "siemsync-bench-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		r.logf("store kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	if r.cipher, err = secret.New(key, "bench"); err != nil {
		return nil, err
	}
	r.dbPath = filepath.Join(dir, "bench.db")
	r.res.Store = "SQLite"
	if cfg.Open != nil {
		r.res.Store = "PostgreSQL"
	}
	if r.db, err = r.open(ctx); err != nil {
		return nil, err
	}
	defer func() { r.db.Close() }()

	if cfg.HECURL != "" {
		r.url, r.tok = cfg.HECURL, cfg.Token
		r.res.Destination = cfg.HECURL
	} else {
		r.tok = uuid.NewString()
		if r.recv, err = startReceiver(r.tok, cfg.HECLatency); err != nil {
			return nil, err
		}
		defer r.recv.close()
		r.url = r.recv.url
		r.res.Destination = "built-in receiver"
		if cfg.HECLatency > 0 {
			r.res.Destination += fmt.Sprintf(" (+%s per request)", cfg.HECLatency)
		}
	}
	defer r.stopProfile()
	if cfg.ProfilePhase == "all" {
		if err := r.startProfile(); err != nil {
			return nil, err
		}
	}
	if cfg.Integrations > 0 {
		err = r.integrations(ctx)
	} else {
		err = r.drain(ctx)
	}
	return r.res, err
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
	}
}

func (r *runner) startProfile() error {
	if r.cfg.CPUProfile == "" || r.prof != nil {
		return nil
	}
	f, err := os.Create(r.cfg.CPUProfile)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	r.prof = f
	return nil
}

func (r *runner) stopProfile() {
	if r.prof == nil {
		return
	}
	pprof.StopCPUProfile()
	r.prof.Close()
	r.prof = nil
}

func (r *runner) phaseProfile(phase string, start bool) error {
	if r.cfg.ProfilePhase != phase {
		return nil
	}
	if start {
		return r.startProfile()
	}
	r.stopProfile()
	return nil
}

// heapProfileAtHalf writes the heap profile (live objects after a
// collection) once the sync phase has sent half the records: mid-flight,
// when the pipeline holds what it holds at its peak. The function it
// returns waits for that and reports the error.
func (r *runner) heapProfileAtHalf() func() error {
	if r.cfg.MemProfile == "" {
		return func() error { return nil }
	}
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for r.m.events.Load() < r.res.Records/2 {
			select {
			case <-stop:
			case <-t.C:
				continue
			}
			break
		}
		f, err := os.Create(r.cfg.MemProfile)
		if err == nil {
			runtime.GC()
			err = errors.Join(pprof.Lookup("heap").WriteTo(f, 0), f.Close())
		}
		errc <- err
	}()
	return func() error {
		close(stop)
		return <-errc
	}
}

// rssNow is the last sampled RSS, for the progress display.
func rssNow() int64 {
	rss, _, _ := procStatus()
	return rss
}

// drain: ingest N records into one account, then one cycle of one
// integration sends them all.
func (r *runner) drain(ctx context.Context) error {
	n := r.cfg.Drain
	r.res.Mode = "drain"
	r.res.Records = int64(n)
	r.res.Integrations, r.res.PerIntegration = 1, n
	account := gen.New(r.cfg.Seed).Account()
	// Record i occurred at base + i ms, all in the past.
	base := time.Now().Add(-time.Duration(n)*time.Millisecond - time.Hour).Truncate(time.Second)
	if err := r.ingest(ctx, []string{account}, n, base); err != nil {
		return err
	}
	if r.cfg.IngestOnly {
		r.res.Mode = "ingest"
		r.res.Verified = true // ingest checked that every record was stored
		return nil
	}
	since := base.Add(-time.Minute)
	in := r.integration(account, "bench drain", &since)
	if err := r.db.CreateIntegration(ctx, in); err != nil {
		return errf("create integration", err)
	}
	return r.measureSync(ctx, func(s *ssync.Syncer) ([]ssync.Result, error) {
		return []ssync.Result{s.Cycle(ctx, in.ID)}, nil
	})
}

// integrations: K integrations in K accounts with M new records each, one
// full cycle of all of them.
func (r *runner) integrations(ctx context.Context) error {
	k, m := r.cfg.Integrations, r.cfg.PerIntegration
	r.res.Mode = "integrations"
	r.res.Records = int64(k) * int64(m)
	r.res.Integrations, r.res.PerIntegration = k, m
	g := gen.New(r.cfg.Seed)
	accounts := make([]string, k)
	for i := range accounts {
		accounts[i] = g.Account()
	}
	// Integrations first: they start at the end of the (empty) log, so the
	// records ingested next are what their first cycle sends.
	var created atomic.Int64
	p := startProgress(r.progressW(), r.tty, "setup", int64(k), "integrations", created.Load, rssNow)
	start := time.Now()
	ids := make([]string, k)
	for i, acc := range accounts {
		in := r.integration(acc, "bench", nil)
		if err := r.db.CreateIntegration(ctx, in); err != nil {
			p.done()
			return errf("create integration", err)
		}
		ids[i] = in.ID
		created.Add(1)
	}
	r.res.SetupSeconds = time.Since(start).Seconds()
	p.done()
	if err := r.ingest(ctx, accounts, m, time.Now().Add(-time.Hour).Truncate(time.Second)); err != nil {
		return err
	}
	return r.measureSync(ctx, func(s *ssync.Syncer) ([]ssync.Result, error) {
		return r.round(ctx, s, len(ids))
	})
}

// round runs one round of every due integration as serve does: each
// worker's scheduler leases due integrations (as many as it has free
// slots) until all n have had their cycle. A cycle sets next_due_at a day
// on, so no integration runs twice.
func (r *runner) round(ctx context.Context, first *ssync.Syncer, n int) ([]ssync.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu gosync.Mutex
	results := make([]ssync.Result, 0, n)
	done := make(chan struct{})
	collect := func(res ssync.Result) {
		mu.Lock()
		defer mu.Unlock()
		if results = append(results, res); len(results) == n {
			close(done)
		}
	}
	// The schedulers stop before the stores and transports of their
	// workers close: a look or a cycle may still be using them.
	var scheds []*ssync.Scheduler
	var closers []func() error
	defer func() {
		for _, sc := range scheds {
			sc.Stop(time.Minute)
		}
		for _, c := range closers {
			c() //nolint:errcheck // the bench's store and connections: nothing to report
		}
	}()
	for w := range r.cfg.Workers {
		s := first
		if w > 0 {
			db, err := r.open(ctx)
			if err != nil {
				return nil, errf(fmt.Sprintf("open the store of worker %d", w+1), err)
			}
			tr := hec.NewTransports(hec.TransportOptions{})
			closers = append(closers, db.Close, func() error { tr.Close(); return nil })
			s = r.syncerOn(db, tr, fmt.Sprintf("bench-worker-%d", w+1))
		}
		sc, err := ssync.NewScheduler(s, "@every 24h", r.cfg.Concurrency, r.cfg.Logger)
		if err != nil {
			return nil, err
		}
		sc.OnCycle(collect)
		scheds = append(scheds, sc)
	}
	for _, sc := range scheds {
		sc.Start(ctx)
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(results), ctx.Err()
}

func (r *runner) progressW() io.Writer { return r.cfg.Progress }

// ingest loads perAccount generated records of every account through
// ingest.Audit, IngestChunk records (one NDJSON stream, one transaction)
// at a time. The NDJSON is generated into a pipe as ingest reads it.
func (r *runner) ingest(ctx context.Context, accounts []string, perAccount int, base time.Time) error {
	total := len(accounts) * perAccount
	stream := newAuditStream(r.cfg.Seed, base)
	if err := r.phaseProfile("ingest", true); err != nil {
		return err
	}
	reset := resetPeak()
	smp := startSampler()
	p := startProgress(r.progressW(), r.tty, "ingest", int64(total), "records", stream.lines.Load, smp.rss.Load)
	start := time.Now()
	stored, txs := 0, 0
	var err error
	for from := 0; from < total && err == nil; from += r.cfg.IngestChunk {
		to := min(total, from+r.cfg.IngestChunk)
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(stream.write(ctx, pw, accounts, perAccount, from, to)) }()
		var res store.IngestResult
		res, err = ingest.Audit(ctx, r.db, pr, ingest.Options{})
		pr.CloseWithError(errors.New("ingest stopped reading"))
		stored += res.Stored
		txs++
	}
	el := time.Since(start)
	p.done()
	mem := smp.finish()
	mem.RSSReset = reset
	r.stopIfPhase("ingest")
	st := &r.res.Ingest
	st.Records, st.Transactions, st.Seconds = int64(stored), txs, el.Seconds()
	st.RecordsPerSec = float64(stored) / el.Seconds()
	st.NDJSONBytes = stream.bytes.Load()
	st.NDJSONMBps = float64(st.NDJSONBytes) / 1e6 / el.Seconds()
	st.Memory = mem
	if err != nil {
		return errf("ingest", err)
	}
	if stored != total {
		return fmt.Errorf("ingest: stored %d of %d generated records", stored, total)
	}
	return nil
}

func (r *runner) stopIfPhase(phase string) {
	if r.cfg.ProfilePhase == phase {
		r.stopProfile()
	}
}

// integration is the HEC integration of an account, sending to the bench's
// destination.
func (r *runner) integration(account, name string, backfill *time.Time) *siemsync.Integration {
	in := &siemsync.Integration{
		Account: account, Name: name, Kind: siemsync.KindHEC, Enabled: true,
		Sources: []string{siemsync.SourceAudit, siemsync.SourceJobs},
		URL:     r.url, Token: r.tok, Gzip: !r.cfg.NoGzip,
		MaxBatchBytes: r.cfg.MaxBatchBytes, MaxBatchEvents: r.cfg.MaxBatchEvents, MaxInFlight: r.cfg.MaxInFlight,
		InsecureSkipVerify: r.cfg.InsecureSkipVerify, BackfillSince: backfill,
		CreateAccount: true, // the bench makes its accounts
	}
	in.ApplyDefaults()
	return in
}

// syncer is the real syncer with the real HEC sink, metered: the first
// worker's.
func (r *runner) syncer() *ssync.Syncer {
	return r.syncerOn(r.db, r.cfg.Transports, "bench-worker-1")
}

// syncerOn is a worker's syncer on its own store handle and HEC transports.
func (r *runner) syncerOn(db store.Backend, tr *hec.Transports, owner string) *ssync.Syncer {
	allow := r.cfg.AllowPrivate || r.recv != nil
	met := metrics.New()
	opts := hec.Options{
		AllowPrivate: allow, Hostname: r.cfg.Hostname, Metrics: met, Logger: r.cfg.Logger,
		OnPost: r.m.onPost, Transports: tr,
	}
	return ssync.New(ssync.Config{
		Store: db, Owner: owner,
		Open: func(ctx context.Context, in *siemsync.Integration) (ssync.Sink, error) {
			s, err := hec.New(in, opts)
			if err != nil {
				return nil, err
			}
			return &meteredSink{Sink: s, m: &r.m}, nil
		},
		Hostname: r.cfg.Hostname, PageSize: r.cfg.PageSize,
		CycleTimeout: 24 * time.Hour,
		Metrics:      met, Logger: r.cfg.Logger,
	})
}

// measureSync runs the sync phase and fills in its figures, then checks
// that everything arrived.
func (r *runner) measureSync(ctx context.Context, run func(*ssync.Syncer) ([]ssync.Result, error)) error {
	// The sync phase starts on a freshly opened store, as a separate
	// `siemsync sync --once` process would: the writer's page cache,
	// filled by the ingest, is not the sync's memory.
	if err := r.db.Close(); err != nil {
		return errf("reopen store", err)
	}
	var err error
	if r.db, err = r.open(ctx); err != nil {
		return errf("reopen store", err)
	}
	s := r.syncer()
	if err := r.phaseProfile("sync", true); err != nil {
		return err
	}
	reset := resetPeak()
	smp := startSampler()
	p := startProgress(r.progressW(), r.tty, "sync", r.res.Records, "events", r.m.events.Load, smp.rss.Load)
	heapDone := r.heapProfileAtHalf()
	start := time.Now()
	results, err := run(s)
	el := time.Since(start)
	p.done()
	herr := heapDone()
	mem := smp.finish()
	mem.RSSReset = reset
	r.stopIfPhase("sync")
	if herr != nil && err == nil {
		err = herr
	}

	st := &r.res.Sync
	st.Seconds = el.Seconds()
	st.Memory = mem
	var events int64
	var cycleDurs []time.Duration
	var firstErr error
	for _, res := range results {
		events += res.Events()
		cycleDurs = append(cycleDurs, res.Duration)
		if res.Err != nil {
			st.FailedCycles++
			if firstErr == nil {
				firstErr = fmt.Errorf("cycle of integration %s: %w", res.Integration, res.Err)
			}
		}
	}
	st.Cycles = len(results)
	st.Events = events
	st.EventsPerSec = float64(events) / el.Seconds()
	st.IntegrationsPerSec = float64(len(results)) / el.Seconds()
	st.CycleP50, st.CycleP99 = percentile(cycleDurs, 50).Seconds(), percentile(cycleDurs, 99).Seconds()
	r.m.fill(st, el)
	st.Connections = -1
	if r.recv != nil {
		st.Connections = r.recv.conns.Load()
		r.res.ReceiverCount = int64(r.recv.recv.Count())
	}

	switch {
	case err != nil:
		return errf("sync", err)
	case firstErr != nil:
		return fmt.Errorf("sync: %d of %d cycles failed; first: %w", st.FailedCycles, st.Cycles, firstErr)
	case events != r.res.Records:
		return fmt.Errorf("sync: the destination accepted %d events, want %d", events, r.res.Records)
	case r.recv != nil && r.res.ReceiverCount != r.res.Records:
		return fmt.Errorf("sync: the receiver counted %d events, want %d (sent %d)", r.res.ReceiverCount, r.res.Records, events)
	}
	r.res.Verified = true
	return nil
}

// meter counts what the sinks sent.
type meter struct {
	events   atomic.Int64 // in batches the destination accepted
	batches  atomic.Int64
	raw      atomic.Int64
	maxBatch atomic.Int64
	requests atomic.Int64
	failed   atomic.Int64
	wire     atomic.Int64 // of accepted requests

	mu  gosync.Mutex
	lat []time.Duration
}

func (m *meter) onPost(p hec.PostInfo) {
	m.requests.Add(1)
	if p.Status/100 == 2 {
		m.wire.Add(int64(p.WireBytes))
	} else {
		m.failed.Add(1)
	}
	m.mu.Lock()
	m.lat = append(m.lat, p.Duration)
	m.mu.Unlock()
}

func (m *meter) fill(st *SyncStats, el time.Duration) {
	st.Batches = m.batches.Load()
	st.RawBytes, st.WireBytes = m.raw.Load(), m.wire.Load()
	st.RawMBps = float64(st.RawBytes) / 1e6 / el.Seconds()
	st.WireMBps = float64(st.WireBytes) / 1e6 / el.Seconds()
	if st.WireBytes > 0 {
		st.Compression = float64(st.RawBytes) / float64(st.WireBytes)
	}
	if st.Batches > 0 {
		st.AvgBatchEvents = float64(m.events.Load()) / float64(st.Batches)
		st.AvgBatchBytes = float64(st.RawBytes) / float64(st.Batches)
	}
	st.MaxBatchBytes = m.maxBatch.Load()
	st.Requests, st.FailedRequests = m.requests.Load(), m.failed.Load()
	m.mu.Lock()
	defer m.mu.Unlock()
	st.LatencyP50 = percentile(m.lat, 50).Seconds()
	st.LatencyP99 = percentile(m.lat, 99).Seconds()
	st.LatencyMax = percentile(m.lat, 100).Seconds()
}

// meteredSink counts the batches the destination accepted.
type meteredSink struct {
	*hec.Sink
	m *meter
}

func (s *meteredSink) Send(ctx context.Context, body []byte, events int) error {
	err := s.Sink.Send(ctx, body, events)
	if err == nil {
		s.count(events, len(body))
	}
	return err
}

// Pack meters the packed path the cycle takes with gzip on.
func (s *meteredSink) Pack(body []byte) sink.Wire {
	return &meteredWire{Wire: s.Sink.Pack(body), s: s, raw: len(body)}
}

func (s *meteredSink) count(events, raw int) {
	if events == 0 {
		return
	}
	s.m.batches.Add(1)
	s.m.events.Add(int64(events))
	s.m.raw.Add(int64(raw))
	for {
		old := s.m.maxBatch.Load()
		if int64(raw) <= old || s.m.maxBatch.CompareAndSwap(old, int64(raw)) {
			break
		}
	}
}

// meteredWire counts a packed batch once the destination accepted it.
type meteredWire struct {
	sink.Wire
	s   *meteredSink
	raw int
}

func (w *meteredWire) Send(ctx context.Context, events int) error {
	err := w.Wire.Send(ctx, events)
	if err == nil {
		w.s.count(events, w.raw)
	}
	return err
}

// percentile is the p-th percentile (nearest rank) of ds; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// group writes n with thousands separators.
func group(n int64) string { return numfmt.Group(n, ",") }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"sync/atomic"

	"github.com/robfig/cron/v3"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/sink"
	"github.com/siemsync/siemsync/sources"
	"github.com/siemsync/siemsync/store"
)

// Defaults of a Syncer.
const (
	DefaultRetryBudget  = 30 * time.Second
	DefaultCycleTimeout = 4 * time.Minute
	// DefaultConcurrency is how many cycles run at once. Most cycles send
	// a few events and wait on the network and the store; their memory is
	// small. Those that send large batches (a backlog) are limited apart,
	// by DefaultBacklogConcurrency.
	DefaultConcurrency = 128
	// DefaultBacklogConcurrency is how many cycles at once may build
	// batches beyond small buffers: each holds up to max_in_flight + 2
	// batch buffers of up to max_batch_bytes, so this, not the number of
	// cycles, bounds memory when every destination has a backlog (after a
	// SIEM outage).
	DefaultBacklogConcurrency = 32
	DefaultLeaseTTL           = 60 * time.Second
)

// Sink is one destination, opened for one cycle of one integration.
type Sink interface {
	// Append appends the wire form of one event to dst. It may append
	// nothing: the sink filtered the event out (e.g. below min severity).
	Append(dst []byte, ev *siemsync.Event) []byte
	// Send makes one attempt to deliver a batch of events; nil means the
	// destination accepted all of them, else an *sink.Error says why not.
	Send(ctx context.Context, body []byte, events int) error
	Close() error
}

// Observer is told that a cycle of an integration finished and its run was
// recorded (the alert notifier). It must return at once.
type Observer interface {
	CycleFinished(integrationID string)
}

// packer is a destination that can put a whole batch in its wire form
// (compressed) once, before the first attempt; Packs says whether the wire
// form is a copy, so that the body's buffer can be reused at once.
type packer interface {
	Packs() bool
	Pack(body []byte) sink.Wire
}

// Opener opens the sink of an integration (loaded with its secrets).
type Opener func(ctx context.Context, in *siemsync.Integration) (Sink, error)

// Store is what a Syncer needs of the store.
type Store interface {
	sources.Store
	store.Leaser
	GetIntegration(ctx context.Context, id string, withSecrets bool) (*siemsync.Integration, error)
	GetAccount(ctx context.Context, id string) (siemsync.Account, error)
	EnabledIntegrationIDs(ctx context.Context) ([]string, error)
	MaxAuditSeq(ctx context.Context, account string) (int64, error)
	MaxJobSeq(ctx context.Context, account string) (int64, error)
	Checkpoints(ctx context.Context, integration string) (store.Checkpoints, error)
	BeginCycle(ctx context.Context, l store.Lease, started time.Time, page int) (store.CycleStart, error)
	BeginCycles(ctx context.Context, ls []store.Lease, started time.Time, page int) ([]store.CycleStart, []error)
	CommitBatch(ctx context.Context, b store.BatchCommit) error
	LearnBatchBytes(ctx context.Context, integration string, n int) error
	FinishRun(ctx context.Context, f store.RunFinish) error
	ListSetAside(ctx context.Context, integration string) ([]store.SetAside, error)
	DeleteSetAside(ctx context.Context, integration string, ids []int64) (int, error)
}

// Config configures a Syncer. Zero values take the defaults.
type Config struct {
	Store       Store
	Open        Opener
	Hostname    string        // host of accounts that have none
	RetryBudget time.Duration // time a cycle may spend retrying transient failures
	// BacklogConcurrency bounds the cycles building large batches at once
	// (default DefaultBacklogConcurrency); the others wait for a turn
	// when their first batch outgrows small buffers.
	BacklogConcurrency int
	CycleTimeout       time.Duration // upper bound of one cycle
	PageSize           int
	// Backoff is the wait before retry attempt n (1-based); tests set it to
	// return 0. The default is capped exponential with full jitter.
	Backoff func(attempt int) time.Duration
	Metrics *metrics.Metrics
	Logger  zerolog.Logger
	Now     func() time.Time
	// Owner names this worker in leases and run records (--worker-id).
	Owner string
	// LeaseTTL is how long a lease lasts unless renewed; a cycle renews
	// it every third of it. A dead worker's integrations are taken over
	// once it passes.
	LeaseTTL time.Duration
	// Schedule computes when an integration is next due after a cycle;
	// nil leaves next_due_at as it is (sync --once).
	Schedule cron.Schedule
	// UploadClock, when set, is the upload time of batches instead of Now.
	// Only the end-to-end test of preview sets it (SIEMSYNC_TEST_UPLOAD_TIME):
	// upload_time and job snapshot ids are the time a batch is built, so a
	// preview equals the next cycle byte for byte only with a pinned clock.
	UploadClock func() time.Time
	// Observer, when set, is told about every recorded cycle.
	Observer Observer
}

// Syncer runs cycles. It never runs two cycles of one integration at once,
// whoever asks (the scheduler, the API's "sync now", the CLI, another
// process on the same store): every cycle holds the integration's lease.
type Syncer struct {
	cfg Config
	// backlog has a token per cycle building large batches (see
	// DefaultBacklogConcurrency).
	backlog chan struct{}
	senders *goPool // the goroutines that send a cycle's batches

	draining atomic.Bool // see Drain
}

// ErrFeatureOff refuses a cycle of an integration whose account has the
// SIEM feature switched off (SPEC §7.2).
var ErrFeatureOff = errors.New("SIEM integrations are turned off for this account: the operator turns them on with 'siemsync accounts update ACCOUNT --siem=true'")

// errStopping ends a cycle that Drain stopped between two batches.
var errStopping = fmt.Errorf("siemsync is shutting down; the next cycle resumes from the last accepted batch: %w", context.Canceled)

// Drain prepares a shutdown: a running cycle finishes the batch it is
// sending (and commits its checkpoint) but starts no other, and no new
// cycle starts. It cannot be undone.
func (s *Syncer) Drain() { s.draining.Store(true) }

// senderIdle is how long a sender goroutine waits for the next batch to
// send before it ends: longer than a cycle's gap between two requests,
// shorter than the gap between two periodic rounds.
const senderIdle = 30 * time.Second

// New returns a Syncer.
func New(cfg Config) *Syncer {
	if cfg.RetryBudget == 0 {
		cfg.RetryBudget = DefaultRetryBudget
	}
	if cfg.CycleTimeout == 0 {
		cfg.CycleTimeout = DefaultCycleTimeout
	}
	if cfg.Backoff == nil {
		cfg.Backoff = Backoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Owner == "" {
		cfg.Owner = DefaultOwner()
	}
	if cfg.BacklogConcurrency <= 0 {
		cfg.BacklogConcurrency = DefaultBacklogConcurrency
	}
	return &Syncer{cfg: cfg, backlog: make(chan struct{}, cfg.BacklogConcurrency), senders: newGoPool(senderIdle)}
}

// Result is the outcome of one cycle of one integration.
type Result struct {
	Integration string        `json:"integration"`
	Name        string        `json:"name"`
	Audit       int64         `json:"audit_events"`
	Jobs        int64         `json:"job_events"`
	Bytes       int64         `json:"bytes"`
	SetAside    int64         `json:"set_aside"`
	Filtered    int64         `json:"filtered"`   // records the filters kept from the destination
	Heartbeats  int64         `json:"heartbeats"` // heartbeat events sent (0 or 1)
	Duration    time.Duration `json:"duration_ns"`
	Err         error         `json:"-"`
}

// Events is the number of events the destination accepted.
func (r *Result) Events() int64 { return r.Audit + r.Jobs }

// RunNow runs one cycle of the integration now; it returns an error wrapping
// siemsync.ErrRunning while another cycle of it runs.
func (s *Syncer) RunNow(ctx context.Context, id string) error {
	res := s.Cycle(ctx, id)
	return res.Err
}

// Cycle runs one cycle of one integration under its lease and records it
// in the store. While another worker holds the lease it returns at once
// with an error wrapping store.ErrLeaseHeld (and siemsync.ErrRunning).
func (s *Syncer) Cycle(ctx context.Context, id string) Result {
	if s.draining.Load() {
		return Result{Integration: id, Err: fmt.Errorf("integration %s: %w", id, errStopping)}
	}
	l, err := s.cfg.Store.AcquireLease(ctx, id, s.cfg.Owner, s.cfg.LeaseTTL)
	if err != nil {
		return Result{Integration: id, Err: fmt.Errorf("integration %s: %w", id, err)}
	}
	return s.CycleLeased(ctx, l)
}

// CycleLeased runs one cycle of the integration whose lease l the caller
// took (the scheduler leases due integrations in bulk). It renews the lease
// while the cycle runs and gives it back at the end; if another worker took
// it over meanwhile, the cycle stops and its writes are refused.
func (s *Syncer) CycleLeased(ctx context.Context, l store.Lease) Result {
	return s.cycleLeased(ctx, l, nil)
}

// started is the start of a cycle that began with others (beginCycles).
type started struct {
	at  time.Time
	cs  store.CycleStart
	err error
}

// beginCycles starts the cycles of leases ls in one store call: one round
// trip for all on PostgreSQL, where a round trip per cycle was a fifth of
// a periodic cycle's CPU.
func (s *Syncer) beginCycles(ctx context.Context, ls []store.Lease) []*started {
	at := s.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	starts, errs := s.cfg.Store.BeginCycles(ctx, ls, at, sources.PageSize(s.cfg.PageSize))
	out := make([]*started, len(ls))
	for i := range ls {
		out[i] = &started{at: at, cs: starts[i], err: errs[i]}
	}
	return out
}

// cycleLeased is CycleLeased of a cycle that began already (pre) or that
// it begins.
func (s *Syncer) cycleLeased(ctx context.Context, l store.Lease, pre *started) Result {
	id := l.Name
	res := Result{Integration: id}
	h := s.hold(ctx, l)
	defer h.release()
	var start time.Time
	var cs store.CycleStart
	var err error
	switch {
	case pre != nil:
		// Its run is recorded: even when stopping it goes on, and run
		// finishes the run (sending stops at once).
		start, cs, err = pre.at, pre.cs, pre.err
	case s.draining.Load():
		res.Err = fmt.Errorf("integration %s: %w", id, errStopping)
		return res
	default:
		start = s.cfg.Now()
		cs, err = s.cfg.Store.BeginCycle(h.ctx, l, start, sources.PageSize(s.cfg.PageSize))
	}
	if err != nil {
		res.Err = fmt.Errorf("start cycle of integration %s: %w", id, err)
		if !errors.Is(err, store.ErrFenced) {
			s.postpone(id)
		}
		return res
	}
	in := cs.Integration
	res.Name = in.Name
	switch {
	case !in.Enabled:
		res.Err = fmt.Errorf("integration %s is disabled: enable it to sync", id)
		s.postpone(id)
		return res
	case !cs.Account.SIEMEnabled:
		// Refused before a run is recorded: the checkpoints stay.
		res.Err = fmt.Errorf("integration %s: %w", id, ErrFeatureOff)
		return res
	}
	ctx, cancel := context.WithTimeout(h.ctx, s.cfg.CycleTimeout)
	defer cancel()
	s.run(ctx, h, &cs, &res)
	res.Duration = s.cfg.Now().Sub(start)
	s.logResult(in, &res)
	return res
}

// postpone sets next_due_at of an integration whose cycle ended before it
// recorded a run, so that it is not leased again at every poll.
func (s *Syncer) postpone(id string) {
	next := s.nextDue()
	if next.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.cfg.Store.SetNextDue(ctx, id, next); err != nil && !errors.Is(err, siemsync.ErrNotFound) {
		s.cfg.Logger.Warn().Err(err).Str("integration", id).Msg("postpone integration")
	}
}

// nextDue is when an integration is due again after a cycle that ends now;
// zero (leave it) without a schedule.
func (s *Syncer) nextDue() time.Time {
	if s.cfg.Schedule == nil {
		return time.Time{}
	}
	return s.cfg.Schedule.Next(s.cfg.Now())
}

// RunAll runs one cycle of every enabled integration (or of the given ones)
// with at most concurrency cycles at once. Integrations whose cycle is
// already running are skipped and reported with siemsync.ErrRunning.
func (s *Syncer) RunAll(ctx context.Context, ids []string, concurrency int) ([]Result, error) {
	if ids == nil {
		var err error
		if ids, err = s.cfg.Store.EnabledIntegrationIDs(ctx); err != nil {
			return nil, fmt.Errorf("list enabled integrations: %w", err)
		}
	}
	if concurrency < 1 {
		concurrency = DefaultConcurrency
	}
	results := make([]Result, len(ids))
	sem := make(chan struct{}, concurrency)
	var wg gosync.WaitGroup
	for i, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			for j := i; j < len(ids); j++ {
				results[j] = Result{Integration: ids[j], Err: ctx.Err()}
			}
			wg.Wait()
			return results, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = s.Cycle(ctx, id)
		}()
	}
	wg.Wait()
	return results, nil
}

// batchCap is the byte cap of an integration's batches: its configured
// maximum, or less once a 413 taught us the destination's real limit.
func batchCap(in *siemsync.Integration) int {
	if c := in.LearnedBatchBytes; c > 0 && c < in.MaxBatchBytes {
		return c
	}
	return in.MaxBatchBytes
}

func (s *Syncer) logResult(in *siemsync.Integration, r *Result) {
	ev := s.cfg.Logger.Info()
	result := "ok"
	if r.Err != nil {
		ev = s.cfg.Logger.Warn().Err(r.Err)
		result = "error"
	}
	ev.Str("integration", in.ID).Str("name", in.Name).Str("account", in.Account).Str("kind", string(in.Kind)).
		Int64("audit_events", r.Audit).Int64("job_events", r.Jobs).Int64("bytes", r.Bytes).
		Int64("set_aside", r.SetAside).Int64("filtered", r.Filtered).Dur("duration_ms", r.Duration).Str("result", result).Msg("sync cycle")
	if m := s.cfg.Metrics; m != nil {
		m.CycleDone(in.ID, result)
		m.CycleDuration.Observe(r.Duration.Seconds())
	}
}

// errCycle is the message a failed cycle leaves in the integration's status.
func errCycle(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "the cycle did not finish within its time limit; the next cycle resumes from the last accepted batch: " + err.Error()
	}
	if errors.Is(err, context.Canceled) {
		return "the cycle was interrupted (shutdown); the next cycle resumes from the last accepted batch"
	}
	return err.Error()
}

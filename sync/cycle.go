package sync

import (
	"context"
	"fmt"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sources"
	"github.com/siemsync/siemsync/store"
)

// batchesInFlight bounds the batches of one cycle: one being built, one
// queued, one being sent.
const batchesInFlight = 3

// storeTimeout bounds the store writes that record a batch or a run. They
// run on a context detached from the cycle's, so that a batch the destination
// accepted just before shutdown still gets its checkpoint.
const storeTimeout = 15 * time.Second

type cycle struct {
	s     *Syncer
	in    *siemsync.Integration
	sink  Sink
	runID int64
	host  string
	cps   store.Checkpoints
	res   *Result

	retryDeadline time.Time
	attempt       int

	// jobsSince, when set, skips ended jobs that changed before it: the
	// jobs checkpoint a backfill would start from (previews only).
	jobsSince time.Time
	// commit, when set, records a delivered batch instead of the
	// checkpoint commit (replays).
	commit func(ctx context.Context, b *batch, delivered int64, aside []store.SetAside) error
}

func (s *Syncer) run(ctx context.Context, in *siemsync.Integration, res *Result) {
	// Token 0 (no lease taken) passes the store's fence until cycles take
	// the integration's lease (SPEC 6.2).
	runID, err := s.cfg.Store.StartRun(ctx, store.Lease{Name: in.ID, Owner: s.cfg.Hostname}, s.cfg.Now())
	if err != nil {
		res.Err = fmt.Errorf("start run: %w", err)
		return
	}
	c := &cycle{s: s, in: in, runID: runID, res: res}
	res.Err = c.do(ctx)
	fin := store.RunFinish{RunID: runID, Integration: in.ID, Finished: s.cfg.Now()}
	if res.Err != nil {
		fin.Err = errCycle(res.Err)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	ferr := s.cfg.Store.FinishRun(fctx, fin)
	if ferr != nil && res.Err == nil {
		res.Err = fmt.Errorf("finish run: %w", ferr)
	}
	if ferr == nil && s.cfg.Observer != nil {
		s.cfg.Observer.CycleFinished(in.ID)
	}
	if m := s.cfg.Metrics; m != nil {
		lag := 0.0
		if res.Err != nil {
			since := in.CreatedAt
			if in.Status.LastComplete != nil {
				since = *in.Status.LastComplete
			}
			lag = s.cfg.Now().Sub(since).Seconds()
		}
		m.Lag.WithLabelValues(in.ID).Set(lag)
	}
}

// loadHost sets the host of the events: the account's, else the server's.
func (c *cycle) loadHost(ctx context.Context) error {
	acc, err := c.s.cfg.Store.GetAccount(ctx, c.in.Account)
	if err != nil {
		return fmt.Errorf("load account %s: %w", c.in.Account, err)
	}
	c.host = acc.Host
	if c.host == "" {
		c.host = c.s.cfg.Hostname
	}
	return nil
}

func (c *cycle) do(ctx context.Context) error {
	st := c.s.cfg.Store
	if err := c.loadHost(ctx); err != nil {
		return err
	}
	var err error
	if c.cps, err = st.Checkpoints(ctx, c.in.ID); err != nil {
		return fmt.Errorf("load checkpoints: %w", err)
	}
	if c.sink, err = c.s.cfg.Open(ctx, c.in); err != nil {
		return fmt.Errorf("open destination: %w", err)
	}
	defer c.sink.Close()
	if c.in.HasSource(siemsync.SourceAudit) {
		if err := c.pipeline(ctx, siemsync.SourceAudit, c.produceAudit); err != nil {
			return err
		}
	}
	if c.in.HasSource(siemsync.SourceJobs) {
		if err := c.pipeline(ctx, siemsync.SourceJobs, c.produceJobs); err != nil {
			return err
		}
	}
	return nil
}

func (c *cycle) produceAudit(ctx context.Context, bd *builder) error {
	q := store.AuditQuery{
		Account: c.in.Account, After: c.cps.Audit, Limit: c.s.cfg.PageSize,
		BackfillSince: c.cps.BackfillSince, BackfillUntil: c.cps.BackfillUntil,
	}
	// One Event is reused: add copies what it keeps, and a new one per
	// record would be an allocation per record (it escapes through the
	// sink interface).
	var ev siemsync.Event
	for page, err := range sources.AuditPages(ctx, c.s.cfg.Store, q) {
		if err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		for i := range page {
			ev = siemsync.Event{Audit: &page[i]}
			if err := bd.add(ctx, &ev); err != nil {
				return err
			}
		}
	}
	return bd.flush(ctx)
}

func (c *cycle) produceJobs(ctx context.Context, bd *builder) error {
	q := store.JobQuery{Account: c.in.Account, Checkpoint: c.cps.Jobs, Limit: c.s.cfg.PageSize}
	var ev siemsync.Event // reused, as in produceAudit
	for page, err := range sources.JobPages(ctx, c.s.cfg.Store, q) {
		if err != nil {
			return fmt.Errorf("read jobs: %w", err)
		}
		for i := range page {
			if j := &page[i]; !c.jobsSince.IsZero() && j.ChangedAt.Before(c.jobsSince) && !j.Active() {
				continue // see newCheckpoints
			}
			ev = siemsync.Event{Job: &page[i]}
			if err := bd.add(ctx, &ev); err != nil {
				return err
			}
		}
	}
	return bd.flush(ctx)
}

// newBuilder returns the builder of one source's batches. Batches are
// stamped with the upload clock: the wall clock, or a pinned time in the
// preview test (Config.UploadClock).
func (c *cycle) newBuilder(source string, maxEvents int, full chan<- *batch, free <-chan *batch) *builder {
	now := c.s.cfg.Now
	if c.s.cfg.UploadClock != nil {
		now = c.s.cfg.UploadClock
	}
	return &builder{
		source: source, host: c.host, sink: c.sink, now: now,
		maxBytes: batchCap(c.in), maxEvents: maxEvents,
		full: full, free: free,
	}
}

// pipeline runs produce in its own goroutine and delivers the batches it
// builds here, one at a time and in order, so the checkpoint only ever
// moves forward over accepted batches. Once the Syncer drains, the batch
// being delivered finishes and no other starts.
func (c *cycle) pipeline(ctx context.Context, source string, produce func(context.Context, *builder) error) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *batch, 1)
	free := make(chan *batch, batchesInFlight)
	for range batchesInFlight {
		free <- &batch{}
	}
	bd := c.newBuilder(source, c.in.MaxBatchEvents, full, free)
	errc := make(chan error, 1)
	go func() {
		defer close(full)
		errc <- produce(pctx, bd)
	}()
	for b := range full {
		err := errStopping
		if !c.s.draining.Load() {
			err = c.deliver(ctx, b)
		}
		if err != nil {
			cancel()
			for range full {
			}
			<-errc
			return err
		}
		free <- b
	}
	return <-errc
}

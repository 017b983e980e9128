package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sources"
	"github.com/siemsync/siemsync/store"
)

// storeTimeout bounds the store writes that record a batch or a run. They
// run on a context detached from the cycle's, so that a batch the destination
// accepted just before shutdown still gets its checkpoint.
const storeTimeout = 15 * time.Second

// maxTracked bounds the batches a window tracks beyond the checkpoint (a
// slow request at the head while later ones were answered): past it no new
// batch starts until the head is answered, so memory stays bounded by the
// window, never by the backlog.
const maxTracked = 64

type cycle struct {
	s     *Syncer
	in    *siemsync.Integration
	lease store.Lease
	sink  Sink
	runID int64
	host  string
	cps   store.Checkpoints
	res   *Result
	// packer, when the destination has one, puts each batch in its wire
	// form before the first attempt, so the batch's body buffer goes back
	// to the builder while the request is in flight.
	packer packer
	bodies chan []byte

	retry retryState
	capMu gosync.Mutex // guards in.LearnedBatchBytes
	cap   atomic.Int64 // byte cap of the batches still to build

	filtered atomic.Int64 // records the filters dropped (filter.go)

	// noJobs: the store found no job to send (CycleStart.JobsPending), so
	// the cycle does not read jobs.
	noJobs bool
	// firstAudit is the first audit page when BeginCycle read it
	// (firstRead; CycleStart.FirstAudit).
	firstAudit []siemsync.Audit
	firstRead  bool

	// last is the commit of the answer that ended the cycle's sending,
	// left to FinishRun (RunFinish.Commit): a cycle of one batch writes
	// to the store twice, not three times.
	last *store.BatchCommit

	// backlogTurn: the cycle holds a token of Syncer.backlog (taken by
	// the producing goroutine, given back when its pipeline is over).
	backlogTurn bool

	// jobsSince, when set, skips ended jobs that changed before it: the
	// jobs checkpoint a backfill would start from (previews only).
	jobsSince time.Time
	// record, when set, records what a window accepted instead of the
	// checkpoint commit (a replay's own cursor): cp is the end of the
	// contiguous accepted prefix.
	record func(ctx context.Context, source string, cp int64, events int64, aside []store.SetAside) error
}

func (s *Syncer) run(ctx context.Context, h *holder, cs *store.CycleStart, res *Result) {
	in, l := cs.Integration, h.lease
	c := &cycle{s: s, in: in, lease: l, runID: cs.RunID, res: res, cps: cs.Checkpoints, noJobs: !cs.JobsPending,
		firstAudit: cs.FirstAudit, firstRead: cs.FirstAuditRead}
	c.setHost(cs.Account)
	c.cap.Store(int64(batchCap(in)))
	res.Err = c.do(ctx)
	res.Filtered = c.filtered.Load()
	fin := store.RunFinish{RunID: cs.RunID, Integration: in.ID, Token: l.Token, Finished: s.cfg.Now(), NextDue: s.nextDue(),
		Filtered: res.Filtered, Commit: c.last}
	if res.Err != nil {
		fin.Err = errCycle(res.Err)
	}
	// The run's last write gives the lease back too: renewals stop first,
	// so that none extends the lease after it was given back.
	fin.Release = h.stopRenewing()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	ferr := s.cfg.Store.FinishRun(fctx, fin)
	if ferr == nil && fin.Release {
		h.released()
	}
	if ferr != nil && res.Err == nil {
		res.Err = fmt.Errorf("finish run: %w", ferr)
	}
	if ferr == nil && s.cfg.Observer != nil {
		s.cfg.Observer.CycleFinished(in.ID)
	}
	if m := s.cfg.Metrics; m != nil {
		lag := 0.0
		if res.Err != nil {
			lag = in.Lag(s.cfg.Now()).Seconds()
		}
		m.SetLag(in.ID, lag)
	}
}

// loadHost sets the host of the events: the account's, else the server's
// (previews and replays; a cycle has its account from BeginCycle).
func (c *cycle) loadHost(ctx context.Context) error {
	acc, err := c.s.cfg.Store.GetAccount(ctx, c.in.Account)
	if err != nil {
		return fmt.Errorf("load account %s: %w", c.in.Account, err)
	}
	c.setHost(acc)
	return nil
}

func (c *cycle) setHost(acc siemsync.Account) {
	c.host = acc.Host
	if c.host == "" {
		c.host = c.s.cfg.Hostname
	}
}

// takeBacklogTurn waits, the first time the cycle's batches outgrow small
// buffers, for one of the Syncer's backlog turns, and keeps it until the
// pipeline is over (its buffers are garbage then). A cycle holds at most
// one, so waiting for it cannot deadlock.
func (c *cycle) takeBacklogTurn(ctx context.Context) error {
	if c.backlogTurn {
		return nil
	}
	select {
	case c.s.backlog <- struct{}{}:
		c.backlogTurn = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *cycle) do(ctx context.Context) error {
	dest, err := c.s.cfg.Open(ctx, c.in)
	if err != nil {
		return fmt.Errorf("open destination: %w", err)
	}
	defer dest.Close()
	c.sink = c.filter(dest)
	if p, ok := dest.(packer); ok && p.Packs() {
		c.packer = p
	}
	if c.in.HasSource(siemsync.SourceAudit) {
		if err := c.pipeline(ctx, siemsync.SourceAudit, c.produceAudit); err != nil {
			return err
		}
	}
	if c.in.HasSource(siemsync.SourceJobs) && !c.noJobs {
		if err := c.pipeline(ctx, siemsync.SourceJobs, c.produceJobs); err != nil {
			return err
		}
	}
	return c.finish(ctx, dest)
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
	skip := ranges(c.cps.AuditAccepted)
	pages := sources.AuditPages(ctx, c.s.cfg.Store, q)
	if c.firstRead {
		pages = sources.AuditPagesFrom(ctx, c.s.cfg.Store, q, c.firstAudit)
	}
	for page, err := range pages {
		if err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		for i := range page {
			if skip.has(page[i].Seq) {
				if err := bd.skip(ctx, page[i].Seq); err != nil {
					return err
				}
				continue
			}
			ev = siemsync.Event{Audit: &page[i]}
			if err := bd.add(ctx, &ev); err != nil {
				return err
			}
		}
	}
	return bd.finish(ctx)
}

func (c *cycle) produceJobs(ctx context.Context, bd *builder) error {
	q := store.JobQuery{Account: c.in.Account, Checkpoint: c.cps.Jobs, Limit: c.s.cfg.PageSize}
	var ev siemsync.Event // reused, as in produceAudit
	skip := ranges(c.cps.JobsAccepted)
	for page, err := range sources.JobPages(ctx, c.s.cfg.Store, q) {
		if err != nil {
			return fmt.Errorf("read jobs: %w", err)
		}
		for i := range page {
			if j := &page[i]; !c.jobsSince.IsZero() && j.ChangedAt.Before(c.jobsSince) && !j.Active() {
				continue // see newCheckpoints
			}
			// An active job is reported every cycle with its progress,
			// even when this snapshot was accepted beyond a gap.
			if skip.has(page[i].Seq) && !page[i].Active() {
				if err := bd.skip(ctx, page[i].Seq); err != nil {
					return err
				}
				continue
			}
			ev = siemsync.Event{Job: &page[i]}
			if err := bd.add(ctx, &ev); err != nil {
				return err
			}
		}
	}
	return bd.finish(ctx)
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
		maxBytes: c.batchCap, maxEvents: maxEvents,
		full: full, free: free, large: c.takeBacklogTurn,
	}
}

// pipeline runs produce in its own goroutine and sends the batches it
// builds with up to max_in_flight requests at once. Answers may come in any
// order; the window turns them into checkpoint moves over the contiguous
// accepted prefix and ranges accepted beyond it, committed as they come.
// After the first failure no new batch starts, but the requests in flight
// are waited for: what they got accepted is recorded, not sent again.
func (c *cycle) pipeline(ctx context.Context, source string, produce func(context.Context, *builder) error) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inFlight := max(c.in.MaxInFlight, 1)
	// One batch more than requests in flight: it is built while they are
	// out. Memory is bounded by the window, whatever the backlog. With a
	// packer only two bodies exist (one being built, one being packed);
	// requests in flight hold their compressed wire form.
	full := make(chan *batch, 1)
	free := make(chan *batch, inFlight+1)
	for range inFlight + 1 {
		free <- &batch{}
	}
	bd := c.newBuilder(source, c.in.MaxBatchEvents, full, free)
	if c.packer != nil {
		c.bodies = make(chan []byte, 2)
		c.bodies <- nil
		c.bodies <- nil
		bd.bodies = c.bodies
	}
	errc := make(chan error, 1)
	go func() {
		defer close(full)
		errc <- produce(pctx, bd)
	}()

	sending := 0
	var failed error
	start := c.cps.Audit
	if source == siemsync.SourceJobs {
		start = c.cps.Jobs
	}
	w := &window{checkpoint: start}
	// A stale lease stops the requests in flight at once: the worker that
	// took over sends them.
	sctx, stopSends := context.WithCancelCause(ctx)
	defer stopSends(nil)
	fail := func(err error) {
		if err == nil || failed != nil {
			return
		}
		failed = err
		if errors.Is(err, store.ErrFenced) {
			stopSends(err)
		}
	}
	answers := make(chan answer, inFlight)
	in := (<-chan *batch)(full)
	for in != nil || sending > 0 {
		next := in
		if failed != nil || sending >= inFlight || w.tracked() >= maxTracked || c.s.draining.Load() {
			next = nil
		}
		if next == nil && sending == 0 {
			if failed == nil && c.s.draining.Load() {
				failed = errStopping
			}
			break
		}
		select {
		case b, ok := <-next:
			if !ok {
				in = nil
				continue
			}
			e := w.add(b.seqs, b.checkpoint)
			if len(b.ends) == 0 { // everything filtered: only the checkpoint moves
				fail(c.commit(w, source, 0, 0, nil, nil, false))
				if c.bodies != nil {
					c.bodies <- b.body[:0]
					b.body = nil
				}
				free <- b
				continue
			}
			sending++
			sd := &sender{c: c, b: b, e: e, out: answers}
			c.s.senders.run(func() { sd.run(sctx) })
		case a := <-answers:
			// The answer that ends the cycle's sending may leave its commit
			// to the run's finish; no other waits: an accepted batch is
			// never kept from its checkpoint by another request.
			last := a.b.last && sending == 1 && a.whole() && c.sendsLast(source)
			fail(c.answer(w, source, a, last))
			if a.final {
				sending--
				if c.bodies != nil {
					a.b.body = nil // a body unpacked for a split is not kept
				}
				free <- a.b
			}
		}
	}
	cancel()
	for range full {
	}
	perr := <-errc
	recycleBodies(free, c.bodies)
	if c.backlogTurn {
		c.backlogTurn = false
		<-c.s.backlog
	}
	if failed != nil {
		return failed
	}
	return perr
}

// recycleBodies hands the first-size body buffers of a finished pipeline to
// the next batches (every sender has answered: nothing else holds them).
func recycleBodies(free chan *batch, bodies chan []byte) {
	for len(free) > 0 {
		recycleBody((<-free).body)
	}
	for len(bodies) > 0 { // a nil channel has length 0
		recycleBody(<-bodies)
	}
}

// answer applies one answer of a sender to the window and commits it;
// last leaves the commit to the run's finish (cycle.last).
func (c *cycle) answer(w *window, source string, a answer, last bool) error {
	if !a.final {
		return c.commit(w, source, a.hi-a.lo, a.b.spanLen(a.lo, a.hi), w.resolve(a.e, a.lo, a.hi), nil, last)
	}
	if a.err != nil {
		return a.err
	}
	if len(a.aside) == 0 {
		return nil
	}
	var ranges []store.Range
	events := make([]store.SetAside, len(a.aside))
	for i, s := range a.aside {
		ranges = append(ranges, w.resolve(a.e, s.i, s.i+1)...)
		events[i] = s.ev
	}
	return c.commit(w, source, 0, 0, ranges, events, false)
}

// sendsLast says whether source's pipeline is the last step of the cycle
// that may write to the store before its finish: no jobs pipeline follows
// and no heartbeat is sent.
func (c *cycle) sendsLast(source string) bool {
	if c.in.Heartbeat {
		return false
	}
	return source == siemsync.SourceJobs || !c.in.HasSource(siemsync.SourceJobs) || c.noJobs
}

// commit moves the checkpoint as far as the window allows and records the
// accepted events, ranges and set-aside events in one store transaction,
// under the cycle's fencing token. With last, a commit of accepted events
// is left to the run's finish instead (cycle.last).
func (c *cycle) commit(w *window, source string, events, bytes int, ranges []store.Range, aside []store.SetAside, last bool) error {
	cp, moved := w.advance()
	if !moved && events == 0 && len(ranges) == 0 && len(aside) == 0 {
		return nil
	}
	if err := c.write(source, cp, events, bytes, ranges, aside, last); err != nil {
		return err
	}
	if source == siemsync.SourceAudit {
		c.res.Audit += int64(events)
	} else {
		c.res.Jobs += int64(events)
	}
	c.res.Bytes += int64(bytes)
	c.res.SetAside += int64(len(aside))
	if m := c.s.cfg.Metrics; m != nil {
		m.Sent(c.in.ID, source, events, bytes)
		if len(aside) > 0 {
			m.SetAside.WithLabelValues(c.in.ID).Add(float64(len(aside)))
		}
	}
	return nil
}

// write records a commit in the store, or keeps it for the run's finish.
func (c *cycle) write(source string, cp int64, events, bytes int, ranges []store.Range, aside []store.SetAside, last bool) error {
	commit := store.BatchCommit{
		RunID: c.runID, Integration: c.in.ID, Token: c.lease.Token, Source: source, Checkpoint: cp,
		Accepted: ranges, Events: int64(events), Bytes: int64(bytes), SetAside: aside,
	}
	if c.record == nil && last && events > 0 && c.last == nil {
		c.last = &commit
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if c.record != nil { // a replay: its own cursor, never the checkpoint
		return c.record(ctx, source, cp, int64(events), aside)
	}
	if err := c.s.cfg.Store.CommitBatch(ctx, commit); err != nil {
		return fmt.Errorf("commit checkpoint: %w", err)
	}
	return nil
}

// batchCap is the byte cap of the next batch to build.
func (c *cycle) batchCap() int { return int(c.cap.Load()) }

// rangeSet answers "was this sequence accepted beyond the checkpoint?" for
// sequences asked in ascending order.
type rangeSet struct {
	rs []store.Range
}

func ranges(rs []store.Range) *rangeSet { return &rangeSet{rs: rs} }

func (r *rangeSet) has(seq int64) bool {
	for len(r.rs) > 0 && r.rs[0].Hi < seq {
		r.rs = r.rs[1:]
	}
	return len(r.rs) > 0 && r.rs[0].Contains(seq)
}

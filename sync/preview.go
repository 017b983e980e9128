package sync

import (
	"context"
	"fmt"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// MaxPreviewEvents bounds one preview.
const MaxPreviewEvents = 100

// errPreviewFull stops the producer once the preview has its events.
var errPreviewFull = fmt.Errorf("preview complete")

// Preview returns the wire bytes of the next limit events the integration
// would send: audit records, then job snapshots, read and encoded by the
// cycle's own producers, builder and sink encoder. Nothing is sent (the
// sink is opened but Send is never called, so no connection is made) and
// nothing moves. A saved integration previews from its checkpoints; an
// unsaved one (saved false) from where it would start if created now.
func (s *Syncer) Preview(ctx context.Context, in *siemsync.Integration, saved bool, limit int) (siemsync.Preview, error) {
	var p siemsync.Preview
	if limit < 1 || limit > MaxPreviewEvents {
		return p, siemsync.Invalid("limit", "must be between 1 and %d", MaxPreviewEvents)
	}
	c := &cycle{s: s, in: in, res: &Result{}}
	if err := c.loadHost(ctx); err != nil {
		return p, err
	}
	var err error
	if saved {
		c.cps, err = s.cfg.Store.Checkpoints(ctx, in.ID)
	} else {
		err = c.newCheckpoints(ctx)
	}
	if err != nil {
		return p, fmt.Errorf("load checkpoints: %w", err)
	}
	dest, err := s.cfg.Open(ctx, in)
	if err != nil {
		return p, fmt.Errorf("open destination: %w", err)
	}
	defer dest.Close()
	c.sink = c.filter(dest) // the integration's filters, as in a cycle
	c.cap.Store(int64(batchCap(in)))
	for _, src := range []struct {
		name    string
		produce func(context.Context, *builder) error
	}{{siemsync.SourceAudit, c.produceAudit}, {siemsync.SourceJobs, c.produceJobs}} {
		if !in.HasSource(src.name) {
			continue
		}
		if err := c.previewSource(ctx, src.name, src.produce, limit, &p); err != nil {
			return p, err
		}
	}
	return p, nil
}

// previewSource collects up to limit - p.Events events of one source into
// p. Batches hold at most the events still wanted, so the producer reads
// little beyond them; one more event tells whether more are waiting.
func (c *cycle) previewSource(ctx context.Context, source string, produce func(context.Context, *builder) error, limit int, p *siemsync.Preview) error {
	if p.Events >= limit {
		p.More = true
		return nil
	}
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	full := make(chan *batch, 1)
	free := make(chan *batch, 2)
	for range 2 {
		free <- &batch{}
	}
	bd := c.newBuilder(source, limit-p.Events+1, full, free)
	errc := make(chan error, 1)
	go func() {
		defer close(full)
		errc <- produce(pctx, bd)
	}()
	for b := range full {
		n := min(len(b.ends), limit-p.Events)
		if n > 0 {
			p.Body = append(p.Body, b.span(0, n)...)
			p.Events += n
			p.UploadTime = b.upload
		}
		if n < len(b.ends) {
			p.More = true
			cancel(errPreviewFull)
		}
		free <- b
	}
	if err := <-errc; err != nil && context.Cause(pctx) != errPreviewFull {
		return err
	}
	return nil
}

// newCheckpoints are the checkpoints CreateIntegration would give the
// integration now: the end of the account's logs, or with backfill_since
// every audit record that occurred since then and the jobs that changed
// since then (jobsSince) or are still active.
func (c *cycle) newCheckpoints(ctx context.Context) error {
	st := c.s.cfg.Store
	auditEnd, err := st.MaxAuditSeq(ctx, c.in.Account)
	if err != nil {
		return err
	}
	jobsEnd, err := st.MaxJobSeq(ctx, c.in.Account)
	if err != nil {
		return err
	}
	c.cps = store.Checkpoints{Audit: auditEnd, Jobs: jobsEnd}
	if since := c.in.BackfillSince; since != nil {
		c.cps = store.Checkpoints{BackfillSince: *since, BackfillUntil: auditEnd}
		c.jobsSince = *since
	}
	return nil
}

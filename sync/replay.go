package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sink"
	"github.com/siemsync/siemsync/sources"
	"github.com/siemsync/siemsync/store"
)

// ReplayStore is what a replay needs of the store beyond a cycle's.
type ReplayStore interface {
	store.Leaser
	GetReplay(ctx context.Context, integration string) (store.Replay, error)
	ReplayProgress(ctx context.Context, integration string, auditCursor, jobsCursor, sent int64) error
	FinishReplay(ctx context.Context, integration, state, msg string) error
}

// RunReplay runs the running replay of an integration to its end, beside
// the live cycles: its own sink, its own cursor (never the checkpoint),
// under the replay lease of the integration so that one worker runs it at
// a time. It returns store.ErrLeaseHeld (wrapped) when another worker runs
// it, nil when it finished or was cancelled, and the error that stopped it
// otherwise: the replay then stays running and is resumed from its cursor
// by whoever runs it next (after a restart, the next serve).
func (s *Syncer) RunReplay(ctx context.Context, rs ReplayStore, id, owner string, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	lease, err := rs.AcquireLease(ctx, store.ReplayLease(id), owner, ttl)
	if err != nil {
		return fmt.Errorf("replay of %s: %w", id, err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l, rerr := rs.RenewLease(ctx, lease, ttl)
				if rerr != nil {
					if ctx.Err() == nil {
						cancel(fmt.Errorf("renew the replay lease: %w", rerr))
					}
					return
				}
				lease = l // read by the caller only after renewed is closed
			}
		}
	}()
	err = s.replay(ctx, rs, id)
	cancel(nil)
	<-renewed
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer rcancel()
	rs.ReleaseLease(rctx, lease) //nolint:errcheck // it expires anyway
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	return err
}

func (s *Syncer) replay(ctx context.Context, rs ReplayStore, id string) error {
	r, err := rs.GetReplay(ctx, id)
	if err != nil || r.State != store.ReplayRunning {
		return err
	}
	in, err := s.cfg.Store.GetIntegration(ctx, id, true)
	if err != nil {
		return fmt.Errorf("load integration %s: %w", id, err)
	}
	if !in.Enabled {
		return nil // a disabled integration sends nothing; the replay waits, resumed once enabled
	}
	// The cycle's window starts at the replay's cursors: what it accepts
	// moves them, never the checkpoint.
	c := &cycle{s: s, in: in, res: &Result{}, cps: store.Checkpoints{Audit: r.AuditCursor, Jobs: r.JobsCursor}}
	c.cap.Store(int64(batchCap(in)))
	c.record = func(ctx context.Context, source string, cp, events int64, aside []store.SetAside) error {
		audit, jobs := cp, int64(0)
		if source == siemsync.SourceJobs {
			audit, jobs = 0, cp
		}
		for _, a := range aside {
			s.cfg.Logger.Warn().Str("integration", id).Str("event_id", a.EventID).Str("reason", a.Reason).Msg("replayed event refused by the destination")
		}
		return rs.ReplayProgress(ctx, id, audit, jobs, events+int64(len(aside)))
	}
	if err := c.loadHost(ctx); err != nil {
		return err
	}
	dest, err := s.cfg.Open(ctx, in)
	if err != nil {
		return s.replayFailed(ctx, rs, id, fmt.Errorf("open destination: %w", err))
	}
	defer dest.Close()
	c.sink = c.filter(dest)
	s.cfg.Logger.Info().Str("integration", id).Int64("sent", r.Sent).Int64("total", r.Total).Msg("replay running")
	for _, p := range []struct {
		source  string
		produce func(context.Context, *builder) error
	}{
		{siemsync.SourceAudit, func(ctx context.Context, bd *builder) error { return c.produceReplayAudit(ctx, bd, r) }},
		{siemsync.SourceJobs, func(ctx context.Context, bd *builder) error { return c.produceReplayJobs(ctx, bd, r) }},
	} {
		if !in.HasSource(p.source) {
			continue
		}
		if err := c.pipeline(ctx, p.source, p.produce); err != nil {
			if errors.Is(err, store.ErrReplayStopped) {
				return nil // cancelled
			}
			if sink.ClassOf(err) == sink.Config {
				return s.replayFailed(ctx, rs, id, err)
			}
			return err
		}
	}
	if err := rs.FinishReplay(ctx, id, store.ReplayDone, ""); err != nil && !errors.Is(err, store.ErrReplayStopped) {
		return err
	}
	s.cfg.Logger.Info().Str("integration", id).Msg("replay done")
	return nil
}

// replayFailed ends a replay that cannot work as configured (the admin
// must fix the integration and start it again).
func (s *Syncer) replayFailed(ctx context.Context, rs ReplayStore, id string, cause error) error {
	if err := rs.FinishReplay(ctx, id, store.ReplayFailed, cause.Error()); err != nil && !errors.Is(err, store.ErrReplayStopped) {
		return err
	}
	return cause
}

// produceReplayAudit reads the window's audit records from the replay's
// cursor: those that occurred in [Since, Until), up to AuditEnd. They carry
// their original ids.
func (c *cycle) produceReplayAudit(ctx context.Context, bd *builder, r store.Replay) error {
	q := store.AuditQuery{Account: c.in.Account, After: r.AuditCursor, Limit: c.s.cfg.PageSize,
		BackfillSince: r.Since, BackfillUntil: r.AuditEnd}
	var ev siemsync.Event
	for page, err := range sources.AuditPages(ctx, c.s.cfg.Store, q) {
		if err != nil {
			return fmt.Errorf("read audit records: %w", err)
		}
		for i := range page {
			a := &page[i]
			if a.Seq > r.AuditEnd {
				return bd.flush(ctx) // later records go live only
			}
			if !a.Time.Before(r.Until) {
				if err := bd.skip(ctx, a.Seq); err != nil {
					return err
				}
				continue
			}
			ev = siemsync.Event{Audit: a}
			if err := bd.add(ctx, &ev); err != nil {
				return err
			}
		}
	}
	return bd.flush(ctx)
}

// produceReplayJobs reads the jobs that changed in [Since, Until), from
// the replay's cursor, as they are now (the store keeps a job's current
// state, not its history).
func (c *cycle) produceReplayJobs(ctx context.Context, bd *builder, r store.Replay) error {
	q := store.JobQuery{Account: c.in.Account, Checkpoint: 0, After: r.JobsCursor, Limit: c.s.cfg.PageSize}
	var ev siemsync.Event
	for page, err := range sources.JobPages(ctx, c.s.cfg.Store, q) {
		if err != nil {
			return fmt.Errorf("read jobs: %w", err)
		}
		for i := range page {
			j := &page[i]
			if j.ChangedAt.Before(r.Since) || !j.ChangedAt.Before(r.Until) {
				if err := bd.skip(ctx, j.Seq); err != nil {
					return err
				}
				continue
			}
			ev = siemsync.Event{Job: j}
			if err := bd.add(ctx, &ev); err != nil {
				return err
			}
		}
	}
	return bd.flush(ctx)
}

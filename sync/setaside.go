package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/siemsync/siemsync/sink"
)

// RetrySetAside sends every set-aside event of the integration again, one at
// a time, as it was first sent. Those the destination accepts are removed;
// those it still rejects stay. A transient or configuration failure stops
// the retry and is returned.
func (s *Syncer) RetrySetAside(ctx context.Context, id string) (delivered, remaining int, err error) {
	l, err := s.cfg.Store.AcquireLease(ctx, id, s.cfg.Owner, s.cfg.LeaseTTL)
	if err != nil {
		return 0, 0, fmt.Errorf("integration %s: %w", id, err)
	}
	h := s.hold(ctx, l)
	defer h.release()
	ctx = h.ctx
	in, err := s.cfg.Store.GetIntegration(ctx, id, true)
	if err != nil {
		return 0, 0, fmt.Errorf("load integration %s: %w", id, err)
	}
	events, err := s.cfg.Store.ListSetAside(ctx, id)
	if err != nil || len(events) == 0 {
		return 0, 0, err
	}
	snk, err := s.cfg.Open(ctx, in)
	if err != nil {
		return 0, len(events), fmt.Errorf("open destination: %w", err)
	}
	defer snk.Close()
	var done []int64
	for _, ev := range events {
		err = snk.Send(ctx, ev.Body, 1)
		if err == nil {
			done = append(done, ev.ID)
			continue
		}
		if c := sink.ClassOf(err); c == sink.BadEvent || c == sink.TooLarge {
			err = nil
			continue
		}
		break
	}
	if len(done) > 0 {
		if _, derr := s.cfg.Store.DeleteSetAside(context.WithoutCancel(ctx), id, done); derr != nil {
			return 0, len(events), errors.Join(err, fmt.Errorf("remove delivered set-aside events: %w", derr))
		}
	}
	s.cfg.Logger.Info().Str("integration", id).Int("delivered", len(done)).Int("remaining", len(events)-len(done)).Msg("set-aside retry")
	return len(done), len(events) - len(done), err
}

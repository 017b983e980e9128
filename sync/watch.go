package sync

import (
	"time"
)

// DefaultWatchEvery is how often the scheduler looks for integrations that
// became enabled since it last looked.
const DefaultWatchEvery = 2 * time.Second

// watch starts the first cycle of every integration that became enabled
// (created enabled, enabled again, or its account's SIEM feature turned on)
// within a few seconds, instead of at the next tick (SPEC §7.4). It reads
// the store, so a change made by the CLI, the API or another worker is seen
// alike.
//
// TODO(issue 10): once due work lives in the store (next_due_at and
// LeaseDue), a create or an enable sets next_due_at to now and this
// watcher goes away.
func (sc *Scheduler) watch(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var seen map[string]bool
	for {
		ids, err := sc.syncer.cfg.Store.EnabledIntegrationIDs(sc.ctx)
		if err == nil {
			now := make(map[string]bool, len(ids))
			for _, id := range ids {
				now[id] = true
				// The first look only learns: Start ran a tick of all.
				if seen != nil && !seen[id] && !sc.syncer.isRunning(id) {
					sc.startCycle(id)
				}
			}
			seen = now
		} else if sc.ctx.Err() == nil {
			sc.log.Warn().Err(err).Msg("watch for newly enabled integrations")
		}
		select {
		case <-sc.ctx.Done():
			return
		case <-sc.quit:
			return
		case <-t.C:
		}
	}
}

// startCycle runs one cycle of id in a free slot, without waiting for it.
// It returns false when the scheduler stops before a slot is free.
func (sc *Scheduler) startCycle(id string) bool {
	select {
	case sc.slots <- struct{}{}:
	case <-sc.ctx.Done():
		return false
	case <-sc.quit:
		return false
	}
	sc.wg.Go(func() {
		defer func() { <-sc.slots }()
		sc.syncer.Cycle(sc.ctx, id)
	})
	return true
}

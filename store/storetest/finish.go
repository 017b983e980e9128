package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// testFinishRunConcurrent: the finishes of many cycles at once (PostgreSQL
// writes them together) are each applied or refused on their own: a stale
// one, with a batch commit or without, changes nothing, and every other is
// applied in full — run closed, checkpoint moved, lease given back.
func testFinishRunConcurrent(t *testing.T, f *fixture) {
	ctx := t.Context()
	type cycle struct {
		in            *siemsync.Integration
		l             store.Lease
		run           int64
		stale, commit bool
	}
	cs := make([]cycle, 12)
	for i := range cs {
		in := f.create(HECIntegration(acctA, fmt.Sprintf("finish-%d", i)))
		c := cycle{in: in, stale: i == 3 || i == 8, commit: i%2 == 0}
		ttl := time.Minute
		if c.stale {
			ttl = 200 * time.Millisecond
		}
		c.l = f.acquire(in.ID, "worker-a", ttl)
		c.run = f.startRun(c.l)
		cs[i] = c
	}
	for _, c := range cs {
		if c.stale {
			f.acquireAfter(c.l, "worker-b")
		}
	}

	errs := make([]error, len(cs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			fin := store.RunFinish{RunID: c.run, Integration: c.in.ID, Token: c.l.Token, Finished: time.Now(), Release: true}
			if c.commit {
				fin.Commit = &store.BatchCommit{RunID: c.run, Integration: c.in.ID, Token: c.l.Token,
					Source: siemsync.SourceAudit, Checkpoint: int64(100 + i), Events: 1}
			}
			<-start
			errs[i] = f.b.FinishRun(ctx, fin)
		})
	}
	close(start)
	wg.Wait()

	for i, c := range cs {
		runs := f.runs(c.in.ID)
		if len(runs) != 1 {
			t.Fatalf("%s: %d runs, want 1", c.in.Name, len(runs))
		}
		moved := f.checkpoints(c.in.ID).Audit == int64(100+i)
		if c.stale {
			if !errors.Is(errs[i], store.ErrFenced) || runs[0].Finished != nil || moved {
				t.Errorf("%s (stale, commit %v): %v, run finished %v, checkpoint moved %v; want ErrFenced and nothing changed",
					c.in.Name, c.commit, errs[i], runs[0].Finished != nil, moved)
			}
			continue
		}
		if errs[i] != nil || runs[0].Finished == nil || moved != c.commit {
			t.Errorf("%s (commit %v): %v, run finished %v, checkpoint moved %v; want it applied in full",
				c.in.Name, c.commit, errs[i], runs[0].Finished != nil, moved)
		}
		if c.commit && runs[0].Events != 1 {
			t.Errorf("%s: run counted %d events, want its commit's 1", c.in.Name, runs[0].Events)
		}
		if _, err := f.b.AcquireLease(ctx, c.in.ID, "worker-c", time.Minute); err != nil {
			t.Errorf("%s: the finish did not give the lease back: %v", c.in.Name, err)
		}
	}
}

package sync_test

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
	ssync "github.com/siemsync/siemsync/sync"
)

// writes records the cycle's commits and finishes on their way to the store.
type writes struct {
	*sqlite.DB
	mu       gosync.Mutex
	commits  []store.BatchCommit
	finishes []store.RunFinish
}

func (w *writes) CommitBatch(ctx context.Context, b store.BatchCommit) error {
	w.mu.Lock()
	w.commits = append(w.commits, b)
	w.mu.Unlock()
	return w.DB.CommitBatch(ctx, b)
}

func (w *writes) FinishRun(ctx context.Context, f store.RunFinish) error {
	w.mu.Lock()
	w.finishes = append(w.finishes, f)
	w.mu.Unlock()
	return w.DB.FinishRun(ctx, f)
}

func (b *bundle) syncerOn(t *testing.T, st ssync.Store) *ssync.Syncer {
	return ssync.New(ssync.Config{
		Store: st, Hostname: "eu-1.example.net", PageSize: 7,
		Open:    func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
		Backoff: func(int) time.Duration { return time.Millisecond },
		Logger:  zerolog.New(zerolog.NewTestWriter(t)),
	})
}

// The commit of the answer that ends a cycle's sending goes with the run's
// finish: one store write less a cycle. What another pipeline or a
// heartbeat follows is committed at once.
func TestLastCommitGoesWithTheFinish(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		mod         func(*siemsync.Integration)
		jobs        bool
		wantCommits []string // sources committed on their own
		wantLast    string   // source of the finish's commit; "" none
	}{
		{"audit only", func(in *siemsync.Integration) { in.Sources = []string{"audit"} }, false, nil, "audit"},
		{"audit, no job news", nil, false, nil, "audit"},
		{"audit then jobs", nil, true, []string{"audit"}, "jobs"},
		{"heartbeat follows", func(in *siemsync.Integration) { in.Sources = []string{"audit"}; in.Heartbeat = true }, false, []string{"audit"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := &writes{DB: b.db}
			s := b.syncerOn(t, w)
			b.audit(t, acctA, ids("a", 5)...)
			if c.jobs {
				b.job(t, acctA, "j1", siemsync.JobInProgress, 0.5)
			}
			id := b.integration(t, acctA, c.mod)
			if res := s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 5 {
				t.Fatalf("cycle: %+v", res)
			}
			var sources []string
			for _, cm := range w.commits {
				sources = append(sources, cm.Source)
			}
			if fmt.Sprint(sources) != fmt.Sprint(c.wantCommits) {
				t.Errorf("commits on their own = %v, want %v", sources, c.wantCommits)
			}
			if len(w.finishes) != 1 {
				t.Fatalf("finishes = %d", len(w.finishes))
			}
			last := w.finishes[0].Commit
			if got := ""; last != nil && last.Source != c.wantLast || last == nil && c.wantLast != got {
				t.Errorf("finish's commit = %+v, want one of %q", last, c.wantLast)
			}
			if last != nil && last.Source == "audit" && (last.Events != 5 || last.RunID != w.finishes[0].RunID) {
				t.Errorf("finish's commit = %+v, want the 5 audit events of its run", last)
			}
			// What was sent is checkpointed: the next cycle sends none of it.
			if res := s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 0 {
				t.Errorf("second cycle: %+v", res)
			}
			for _, x := range ids("a", 5) {
				if n := b.sink.delivered[x]; n != 1 {
					t.Errorf("%s delivered %d times", x, n)
				}
			}
		})
	}
}

// An accepted batch is never kept from its checkpoint by another request:
// while the second of two batches is out, the first is committed.
func TestEarlierBatchCommitsWhileLastIsOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := &writes{DB: b.db}
	s := b.syncerOn(t, w)
	b.audit(t, acctA, ids("a", 4)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) {
		in.Sources, in.MaxBatchEvents, in.MaxInFlight = []string{"audit"}, 2, 2
	})
	var mu gosync.Mutex
	sends := 0
	b.sink.SendFunc = func(body []byte, events int) error {
		mu.Lock()
		sends++
		n := sends
		mu.Unlock()
		if n == 1 {
			return nil
		}
		// The second request waits for the first's checkpoint.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			w.mu.Lock()
			committed := len(w.commits)
			w.mu.Unlock()
			if committed > 0 {
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		return errors.New("the first batch was not committed while the second was out")
	}
	res := s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 4 {
		t.Fatalf("cycle: %+v", res)
	}
	if len(w.commits) != 1 || w.commits[0].Events != 2 {
		t.Errorf("commits on their own = %+v, want the first batch", w.commits)
	}
	if f := w.finishes[0]; f.Commit == nil || f.Commit.Events != 2 {
		t.Errorf("finish's commit = %+v, want the last batch", f.Commit)
	}
}

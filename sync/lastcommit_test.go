package sync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
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
	// finishErr, when set, fails every finish before it reaches the store:
	// the database gone, or the process killed, before the finish commits.
	finishErr error
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
	err := w.finishErr
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return w.DB.FinishRun(ctx, f)
}

// recorded returns a Syncer on the bundle's store whose commits and
// finishes w records.
func (b *bundle) recorded(t *testing.T) (*writes, *ssync.Syncer) {
	w := &writes{DB: b.db}
	return w, ssync.New(ssync.Config{
		Store: w, Hostname: "eu-1.example.net", PageSize: 7,
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
			w, s := b.recorded(t)
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
			last, got := w.finishes[0].Commit, ""
			if last != nil {
				got = last.Source
			}
			if got != c.wantLast {
				t.Errorf("finish's commit = %+v, want one of %q", last, c.wantLast)
			}
			if last != nil && last.Source == "audit" && (last.Events != 5 || last.RunID != w.finishes[0].RunID) {
				t.Errorf("finish's commit = %+v, want the 5 audit events of its run", last)
			}
			// What was sent is checkpointed: the next cycle sends none of it.
			if res := s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 0 {
				t.Errorf("second cycle: %+v", res)
			}
			b.sink.deliveredEach(t, ids("a", 5), 1)
		})
	}
}

// An accepted batch is never kept from its checkpoint by another request:
// while one batch is out, the others, answered, are committed — the first
// while the last is out, the last while the first is, and with one request
// at a time each before the next is sent.
func TestAcceptedBatchCommitsWhileAnotherIsOut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		records  int
		inFlight int
		waits    map[string]int // a request holding this id waits for this many commits on their own
		wantLast bool           // the finish carries the last batch's commit
	}{
		{"last waits for the first's commit", 4, 2, map[string]int{"a-003": 1}, true},
		{"first waits for the last's commit", 4, 2, map[string]int{"a-000": 1}, false},
		{"one at a time", 6, 1, map[string]int{"a-002": 1, "a-004": 2}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w, s := b.recorded(t)
			b.audit(t, acctA, ids("a", c.records)...)
			id := b.integration(t, acctA, func(in *siemsync.Integration) {
				in.Sources, in.MaxBatchEvents, in.MaxInFlight = []string{"audit"}, 2, c.inFlight
			})
			b.sink.SendFunc = func(body []byte, events int) error {
				for holds, commits := range c.waits {
					if bytes.Contains(body, []byte(holds)) && !w.waitCommits(commits) {
						return fmt.Errorf("%d batches were not committed while the one with %s was out", commits, holds)
					}
				}
				return nil
			}
			res := s.Cycle(t.Context(), id)
			if res.Err != nil || res.Audit != int64(c.records) {
				t.Fatalf("cycle: %+v", res)
			}
			if last := w.finishes[0].Commit; c.wantLast != (last != nil) || last != nil && last.Events != 2 {
				t.Errorf("finish's commit = %+v, want one: %v", last, c.wantLast)
			}
			end, _ := b.db.MaxAuditSeq(t.Context(), acctA)
			if cp, err := b.db.Checkpoints(t.Context(), id); err != nil || cp.Audit != end {
				t.Errorf("checkpoint %+v (%v), want %d", cp, err, end)
			}
		})
	}
}

// waitCommits waits up to 10 s for n commits on their own.
func (w *writes) waitCommits(n int) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		w.mu.Lock()
		got := len(w.commits)
		w.mu.Unlock()
		if got >= n {
			return true
		}
	}
	return false
}

// A finish that never commits (the database gone, the process killed) takes
// the last batch's commit with it: the cycle fails, the checkpoint stays,
// and the next cycle sends that batch again — the one duplicate, as for a
// commit lost after the destination's answer — and then nothing more.
func TestLostFinishResendsTheLastBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w, s := b.recorded(t)
	b.audit(t, acctA, ids("a", 5)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.Sources = []string{"audit"} })
	before, err := b.db.Checkpoints(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	w.finishErr = errors.New("connection reset by peer")
	if res := s.Cycle(t.Context(), id); res.Err == nil || !strings.Contains(res.Err.Error(), "finish run") {
		t.Fatalf("cycle with a lost finish: %+v, want a failed finish", res)
	}
	if cp, _ := b.db.Checkpoints(t.Context(), id); cp.Audit != before.Audit {
		t.Errorf("checkpoint moved to %d without its finish (was %d)", cp.Audit, before.Audit)
	}
	w.mu.Lock()
	w.finishErr = nil
	w.mu.Unlock()
	if res := s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 5 {
		t.Fatalf("next cycle: %+v, want the 5 records again", res)
	}
	if res := s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 0 {
		t.Errorf("third cycle: %+v, want nothing left", res)
	}
	b.sink.deliveredEach(t, ids("a", 5), 2)
}

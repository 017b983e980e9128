package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
	"github.com/siemsync/siemsync/store/storetest"
)

// finishOf starts a run of a new integration of acct and returns its
// finish (with a batch commit to checkpoint when > 0); a stale one loses
// its lease to another worker first.
func finishOf(t *testing.T, db *postgres.DB, acct, name string, stale bool, checkpoint int64) store.RunFinish {
	t.Helper()
	ctx := t.Context()
	in := storetest.HECIntegration(acct, name)
	if err := db.CreateIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	ttl := time.Minute
	if stale {
		ttl = 50 * time.Millisecond
	}
	l, err := db.AcquireLease(ctx, in.ID, "worker-a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := db.BeginCycle(ctx, l, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for stale {
		time.Sleep(20 * time.Millisecond)
		if _, err := db.AcquireLease(ctx, in.ID, "worker-b", time.Minute); err == nil {
			break
		}
	}
	f := store.RunFinish{RunID: cs.RunID, Integration: in.ID, Token: l.Token, Finished: time.Now(), Release: true}
	if checkpoint > 0 {
		f.Commit = &store.BatchCommit{RunID: cs.RunID, Integration: in.ID, Token: l.Token,
			Source: siemsync.SourceAudit, Checkpoint: checkpoint, Events: 1}
	}
	return f
}

// finished reports whether f's run is closed.
func finished(t *testing.T, db *postgres.DB, f store.RunFinish) bool {
	t.Helper()
	runs, err := db.RecentRuns(t.Context(), f.Integration, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs of %s: %+v, %v", f.Integration, runs, err)
	}
	return runs[0].Finished != nil
}

// TestFinishTogether: a group of finishes is one transaction when none
// fails; a stale finish without a batch commit is refused alone inside it
// (it raises nothing: it updates nothing and reads the token). A stale
// batch commit raises and rolls the group back, and then each finish is
// applied alone, so only the stale one is refused.
func TestFinishTogether(t *testing.T) {
	t.Parallel()
	db := open(t)
	ctx := t.Context()
	const acct = "a1b2c3d4-0000-4000-8000-000000000001"
	cycle := func(name string, stale bool, checkpoint int64) store.RunFinish {
		return finishOf(t, db, acct, name, stale, checkpoint)
	}
	applied := func(f store.RunFinish) bool {
		t.Helper()
		cp, err := db.Checkpoints(ctx, f.Integration)
		if err != nil {
			t.Fatal(err)
		}
		closed := finished(t, db, f)
		if moved := f.Commit != nil && cp.Audit == f.Commit.Checkpoint; f.Commit != nil && moved != closed {
			t.Errorf("%s: run closed %v but checkpoint moved %v: half a finish", f.Integration, closed, moved)
		}
		return closed
	}

	for _, c := range []struct {
		name      string
		stale     []bool
		commits   []int64
		fallbacks int64
	}{
		{"stale finish without commit", []bool{false, false, true}, []int64{0, 7, 0}, 0},
		{"stale commit", []bool{false, true, false}, []int64{5, 6, 0}, 3},
		{"all current", []bool{false, false}, []int64{3, 0}, 0},
	} {
		fs := make([]store.RunFinish, len(c.stale))
		for i := range fs {
			fs[i] = cycle(fmt.Sprintf("%s-%d", c.name, i), c.stale[i], c.commits[i])
		}
		before := db.FinishFallbacks()
		errs := db.FinishTogether(ctx, fs)
		if got := db.FinishFallbacks() - before; got != c.fallbacks {
			t.Errorf("%s: %d finishes applied alone, want %d", c.name, got, c.fallbacks)
		}
		for i, f := range fs {
			if c.stale[i] {
				if !errors.Is(errs[i], store.ErrFenced) || applied(f) {
					t.Errorf("%s: stale finish %d: %v, applied %v; want ErrFenced and nothing changed", c.name, i, errs[i], applied(f))
				}
				continue
			}
			if errs[i] != nil || !applied(f) {
				t.Errorf("%s: finish %d: %v, applied %v; want it applied", c.name, i, errs[i], applied(f))
			}
		}
	}

	// An unknown run is refused alone too, and nothing is applied twice:
	// the group is not rolled back for it.
	good, unknown := cycle("known", false, 9), cycle("unknown", false, 0)
	unknown.RunID += 1000
	before := db.FinishFallbacks()
	errs := db.FinishTogether(ctx, []store.RunFinish{good, unknown})
	if errs[0] != nil || !applied(good) || !errors.Is(errs[1], siemsync.ErrNotFound) || db.FinishFallbacks() != before {
		t.Errorf("finish of an unknown run beside a good one: %v, %v, good applied %v, %d applied alone; want nil, ErrNotFound, true, 0",
			errs[0], errs[1], applied(good), db.FinishFallbacks()-before)
	}
	runs, err := db.RecentRuns(ctx, good.Integration, 1)
	if err != nil || len(runs) != 1 || runs[0].Events != 1 {
		t.Errorf("runs of the good finish: %+v, %v; want one run counting its commit's 1 event once", runs, err)
	}

	// No answer (here: the group's time ran out before it was sent): each
	// finish fails with the cause, and the group is not applied again one
	// by one, for it may have committed.
	late := []store.RunFinish{cycle("late-0", false, 4), cycle("late-1", false, 0)}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	before = db.FinishFallbacks()
	for i, err := range db.FinishTogether(gone, late) {
		if !errors.Is(err, context.Canceled) || applied(late[i]) {
			t.Errorf("finish %d of a group without an answer: %v, applied %v; want context.Canceled, not applied", i, err, applied(late[i]))
		}
	}
	if n := db.FinishFallbacks() - before; n != 0 {
		t.Errorf("%d finishes of a group without an answer applied alone, want 0", n)
	}
}

// TestFinishCallerStopsWaiting: a caller whose time runs out while its
// finish waits behind a group being written gets its context's error at
// once. The group is written within the latest deadline of its finishes,
// so the finish is still applied beside one whose caller waits, as after an
// answer that never came; alone, it is not written at all.
func TestFinishCallerStopsWaiting(t *testing.T) {
	t.Parallel()
	db := open(t)
	ctx := t.Context()
	const acct = "a1b2c3d4-0000-4000-8000-000000000002"
	finish := func(name string) store.RunFinish { return finishOf(t, db, acct, name, false, 0) }
	done := func(f store.RunFinish) bool { return finished(t, db, f) }
	// waitedOut queues f behind a held group with a caller that gives up.
	waitedOut := func(f store.RunFinish) {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := db.FinishRun(short, f); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("FinishRun while its group waits past the deadline: %v, want DeadlineExceeded", err)
		}
	}

	gaveUp, waits := finish("gave-up"), finish("waits")
	release := db.HoldFinishes()
	waitedOut(gaveUp)
	waited := make(chan error, 1)
	long, cancelLong := context.WithTimeout(ctx, time.Minute)
	defer cancelLong()
	go func() { waited <- db.FinishRun(long, waits) }()
	for db.QueuedFinishes() < 2 {
		time.Sleep(time.Millisecond)
	}
	release()
	if err := <-waited; err != nil || !done(waits) || !done(gaveUp) {
		t.Errorf("group of a finish given up and one waited for: %v, finished %v and %v; want both applied", err, done(gaveUp), done(waits))
	}

	alone := finish("alone")
	release = db.HoldFinishes()
	waitedOut(alone)
	release()
	if done(alone) {
		t.Error("a finish whose every caller gave up was written after its deadline")
	}
}

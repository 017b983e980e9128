package sqlite_test

import (
	"errors"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func TestFinishRunStatus(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctA, "s"))

	f.clock.Set(t0.Add(90 * time.Second))
	got, _ := f.db.GetIntegration(t.Context(), in.ID, false)
	if got.Status.LastComplete != nil || got.Status.LagSeconds != 90 {
		t.Errorf("never run: %+v, want lag since creation", got.Status)
	}
	cycle := func(start time.Duration, events int64, errMsg string) {
		t.Helper()
		cs, err := f.db.BeginCycle(t.Context(), store.Lease{Name: in.ID}, t0.Add(start), 0)
		if err != nil {
			t.Fatal(err)
		}
		run := cs.RunID
		if events > 0 {
			b := store.BatchCommit{RunID: run, Integration: in.ID, Source: "audit", Checkpoint: events, Events: events}
			if err := f.db.CommitBatch(t.Context(), b); err != nil {
				t.Fatal(err)
			}
		}
		err = f.db.FinishRun(t.Context(), store.RunFinish{RunID: run, Integration: in.ID, Finished: t0.Add(start + time.Second), Err: errMsg})
		if err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name            string
		start           time.Duration
		events          int64
		err             string
		lastComplete    time.Duration // -1: nil
		lastError       time.Duration // -1: nil
		lag             float64
		eventsLastCycle int64
	}{
		{"success", 2 * time.Minute, 5, "", 2*time.Minute + time.Second, -1, 0, 5},
		{"failure keeps last success", 7 * time.Minute, 2, "HEC token rejected: update the token", 2*time.Minute + time.Second, 7*time.Minute + time.Second, 300, 2},
		{"success clears the error", 12 * time.Minute, 0, "", 12*time.Minute + time.Second, -1, 0, 0},
	}
	for _, s := range steps {
		cycle(s.start, s.events, s.err)
		f.clock.Set(t0.Add(s.start + time.Second))
		got, err := f.db.GetIntegration(t.Context(), in.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		st := got.Status
		if !timeIs(st.LastComplete, s.lastComplete) || !timeIs(st.LastError, s.lastError) || st.ErrorMessage != s.err ||
			st.LagSeconds != s.lag || st.EventsLastCycle != s.eventsLastCycle {
			t.Errorf("%s: status %+v", s.name, st)
		}
	}
	runs, err := f.db.RecentRuns(t.Context(), in.ID, 2)
	if err != nil || len(runs) != 2 {
		t.Fatalf("RecentRuns = %v, %v", runs, err)
	}
	if !runs[0].Started.Equal(t0.Add(12*time.Minute)) || runs[1].Error == "" || runs[0].Finished == nil {
		t.Errorf("RecentRuns not newest first: %+v", runs)
	}
	err = f.db.FinishRun(t.Context(), store.RunFinish{RunID: 999, Integration: in.ID, Finished: t0})
	if !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("FinishRun of an unknown run = %v", err)
	}
}

func timeIs(p *time.Time, d time.Duration) bool {
	if d < 0 {
		return p == nil
	}
	return p != nil && p.Equal(t0.Add(d))
}

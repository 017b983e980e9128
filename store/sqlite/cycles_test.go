package sqlite_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func TestCommitBatch(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctA, "c"))
	run, err := f.db.StartRun(t.Context(), store.Lease{Name: in.ID}, t0)
	if err != nil {
		t.Fatal(err)
	}
	sa := []store.SetAside{{Source: "audit", Seq: 7, EventID: "e7", Reason: "HEC code 6: invalid data format", Body: []byte(`{"event":1}`)}}
	steps := []struct {
		name    string
		b       store.BatchCommit
		wantErr bool
		want    store.Checkpoints
	}{
		{"audit batch", store.BatchCommit{RunID: run, Integration: in.ID, Source: "audit", Checkpoint: 10, Events: 9, Bytes: 900, SetAside: sa},
			false, store.Checkpoints{Audit: 10}},
		{"jobs batch", store.BatchCommit{RunID: run, Integration: in.ID, Source: "jobs", Checkpoint: 4, Events: 3, Bytes: 300},
			false, store.Checkpoints{Audit: 10, Jobs: 4}},
		{"never moves back", store.BatchCommit{RunID: run, Integration: in.ID, Source: "audit", Checkpoint: 5, Events: 1, Bytes: 10},
			false, store.Checkpoints{Audit: 10, Jobs: 4}},
		// The run update fails after the checkpoint update: nothing of the
		// batch may stay.
		{"unknown run rolls back", store.BatchCommit{RunID: run + 99, Integration: in.ID, Source: "audit", Checkpoint: 50, Events: 1, SetAside: sa},
			true, store.Checkpoints{Audit: 10, Jobs: 4}},
		{"unknown source", store.BatchCommit{RunID: run, Integration: in.ID, Source: "logs", Checkpoint: 50}, true, store.Checkpoints{Audit: 10, Jobs: 4}},
	}
	for _, s := range steps {
		err := f.db.CommitBatch(t.Context(), s.b)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: CommitBatch = %v", s.name, err)
		}
		cp, _ := f.db.Checkpoints(t.Context(), in.ID)
		if !reflect.DeepEqual(cp, s.want) {
			t.Errorf("%s: checkpoints %+v, want %+v", s.name, cp, s.want)
		}
	}
	runs, _ := f.db.RecentRuns(t.Context(), in.ID, 5)
	if len(runs) != 1 || runs[0].Events != 13 || runs[0].Bytes != 1210 || runs[0].SetAside != 1 || runs[0].Finished != nil {
		t.Errorf("run = %+v", runs)
	}
	list, _ := f.db.ListSetAside(t.Context(), in.ID)
	if len(list) != 1 || list[0].EventID != "e7" || string(list[0].Body) != `{"event":1}` || list[0].Integration != in.ID || !list[0].CreatedAt.Equal(t0) {
		t.Errorf("set aside = %+v", list)
	}
	got, _ := f.db.GetIntegration(t.Context(), in.ID, false)
	if got.Status.SetAside != 1 {
		t.Errorf("Status.SetAside = %d", got.Status.SetAside)
	}
	if n, err := f.db.DeleteSetAside(t.Context(), "other", []int64{list[0].ID}); n != 0 || err != nil {
		t.Errorf("DeleteSetAside of another integration = %d, %v", n, err)
	}
	if n, err := f.db.DeleteSetAside(t.Context(), in.ID, []int64{list[0].ID, 999}); n != 1 || err != nil {
		t.Errorf("DeleteSetAside = %d, %v", n, err)
	}
	if got, _ := f.db.GetIntegration(t.Context(), in.ID, false); got.Status.SetAside != 0 {
		t.Errorf("Status.SetAside after delete = %d", got.Status.SetAside)
	}
}

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
		run, err := f.db.StartRun(t.Context(), store.Lease{Name: in.ID}, t0.Add(start))
		if err != nil {
			t.Fatal(err)
		}
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

func TestSettings(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if _, err := f.db.Setting(t.Context(), "schedule"); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("unset setting = %v, want ErrNotFound", err)
	}
	for _, v := range []string{"@every 5m", "@every 1m"} {
		if err := f.db.SetSetting(t.Context(), "schedule", v); err != nil {
			t.Fatal(err)
		}
		if got, err := f.db.Setting(t.Context(), "schedule"); got != v || err != nil {
			t.Errorf("Setting = %q, %v; want %q", got, err, v)
		}
	}
}

func TestDeleteCascades(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctA, "d"))
	run, _ := f.db.StartRun(t.Context(), store.Lease{Name: in.ID}, t0)
	sa := []store.SetAside{{Source: "audit", Seq: 1, EventID: "e", Reason: "r"}}
	if err := f.db.CommitBatch(t.Context(), store.BatchCommit{RunID: run, Integration: in.ID, Source: "audit", Checkpoint: 1, SetAside: sa}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DeleteIntegration(t.Context(), in.ID); err != nil {
		t.Fatal(err)
	}
	runs, _ := f.db.RecentRuns(t.Context(), in.ID, 10)
	list, _ := f.db.ListSetAside(t.Context(), in.ID)
	if len(runs)+len(list) != 0 {
		t.Errorf("left behind: %d runs, %d set-aside", len(runs), len(list))
	}
	// The name is free again.
	f.create(t, hecIntegration(acctA, "d"))
}

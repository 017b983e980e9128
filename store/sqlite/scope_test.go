package sqlite_test

import (
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// TestScopeRoundTrip: channel, filters and heartbeat are stored on create,
// replaced on update, and read back by Get and List; a cycle's filtered
// count lands in its run and in the status.
func TestScopeRoundTrip(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := hecIntegration(acctA, "scoped")
	in.Channel = "0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10"
	in.AuditEvents = []string{"Sign in*", "Export, then mail"}
	in.JobStatuses = []string{siemsync.JobUnsuccessful, siemsync.JobCancelled}
	in.JobTypes = []string{"backup"}
	in.MinSeverity, in.Heartbeat = 4, true
	in = f.create(t, in)

	check := func(want *siemsync.Integration) {
		t.Helper()
		got, err := f.db.GetIntegration(t.Context(), want.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.db.ListIntegrations(t.Context(), acctA)
		if err != nil || len(list) != 1 {
			t.Fatalf("ListIntegrations = %v, %v", list, err)
		}
		for _, g := range []*siemsync.Integration{got, list[0]} {
			if g.Channel != want.Channel || !slices.Equal(g.AuditEvents, want.AuditEvents) || !slices.Equal(g.JobStatuses, want.JobStatuses) ||
				!slices.Equal(g.JobTypes, want.JobTypes) || g.MinSeverity != want.MinSeverity || g.Heartbeat != want.Heartbeat {
				t.Errorf("read back %+v", g)
			}
		}
	}
	check(in)

	in.Channel, in.AuditEvents, in.JobStatuses, in.JobTypes, in.Heartbeat = "", nil, []string{siemsync.JobSuccessful}, nil, false
	if err := f.db.UpdateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	check(in)

	run, err := f.db.StartRun(t.Context(), store.Lease{Name: in.ID}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.FinishRun(t.Context(), store.RunFinish{RunID: run, Integration: in.ID, Finished: t0.Add(time.Second), Filtered: 17}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.db.GetIntegration(t.Context(), in.ID, false)
	runs, _ := f.db.RecentRuns(t.Context(), in.ID, 1)
	if got.Status.Filtered != 17 || len(runs) != 1 || runs[0].Filtered != 17 {
		t.Errorf("filtered: status %d, runs %+v", got.Status.Filtered, runs)
	}
}

package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// testScope: channel, filters and heartbeat (SPEC §8) are stored on create,
// replaced on update and read back by Get and List; a cycle's filtered
// count lands in its run and in the status.
func testScope(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := hecIntegration(acctA, "scoped")
	in.Channel = "0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10"
	in.AuditEvents = []string{"Sign in*", "Export, then mail"}
	in.JobStatuses = []string{siemsync.JobUnsuccessful, siemsync.JobCancelled}
	in.JobTypes = []string{"backup"}
	in.MinSeverity, in.Heartbeat = 4, true
	f.create(in)

	check := func(want *siemsync.Integration) {
		t.Helper()
		list, err := f.b.ListIntegrations(ctx, acctA)
		if err != nil || len(list) != 1 {
			t.Fatalf("ListIntegrations = %v, %v", list, err)
		}
		for _, g := range []*siemsync.Integration{f.get(want.ID), list[0]} {
			if g.Channel != want.Channel || !slices.Equal(g.AuditEvents, want.AuditEvents) || !slices.Equal(g.JobStatuses, want.JobStatuses) ||
				!slices.Equal(g.JobTypes, want.JobTypes) || g.MinSeverity != want.MinSeverity || g.Heartbeat != want.Heartbeat {
				t.Errorf("read back %+v", g)
			}
		}
	}
	check(in)

	in.Channel, in.AuditEvents, in.JobStatuses, in.JobTypes, in.Heartbeat = "", nil, []string{siemsync.JobSuccessful}, nil, false
	if err := f.b.UpdateIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	check(in)

	l := f.acquire(in.ID, "w", time.Minute)
	run := f.startRun(l)
	if err := f.b.FinishRun(ctx, store.RunFinish{RunID: run, Integration: in.ID, Token: l.Token, Finished: time.Now(), Filtered: 17}); err != nil {
		t.Fatal(err)
	}
	if got, runs := f.get(in.ID), f.runs(in.ID); got.Status.Filtered != 17 || len(runs) != 1 || runs[0].Filtered != 17 {
		t.Errorf("filtered: status %d, runs %+v", got.Status.Filtered, runs)
	}
}

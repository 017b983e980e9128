package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func testCheckpoints(t *testing.T, f *fixture) {
	ctx := t.Context()
	// History before the integrations: audit of A and B, jobs of A and B.
	recs := []siemsync.Audit{audit(acctA, "old1", 0), audit(acctA, "old2", 10), audit(acctB, "b", 50)}
	f.ingestAudit(recs...)
	jobs := []siemsync.Job{job(acctA, jobID(1), siemsync.JobSuccessful), job(acctB, jobID(2), siemsync.JobSuccessful)}
	f.ingestJobs(jobs...)

	// A new integration starts at the end of its own account's logs.
	in := f.create(hecIntegration(acctA, "c"))
	if cp := f.checkpoints(in.ID); !reflect.DeepEqual(cp, store.Checkpoints{Audit: recs[1].Seq, Jobs: jobs[0].Seq}) {
		t.Errorf("initial checkpoints = %+v, want the end of account A's logs (%d, %d)", cp, recs[1].Seq, jobs[0].Seq)
	}
	// With a backfill, the audit checkpoint is 0 and the backfill ends at
	// the end of the log at creation: the first page holds only what
	// occurred since, then everything ingested later.
	since := t0.Add(5 * time.Minute)
	bf := hecIntegration(acctA, "backfill")
	bf.BackfillSince = &since
	f.create(bf)
	cp := f.checkpoints(bf.ID)
	if cp.Audit != 0 || !cp.BackfillSince.Equal(since) || cp.BackfillUntil != recs[1].Seq {
		t.Errorf("backfill checkpoints = %+v", cp)
	}
	late := audit(acctA, "late-but-old", 0)
	f.ingestAudit(late)
	page := f.auditPage(store.AuditQuery{Account: acctA, After: cp.Audit, BackfillSince: cp.BackfillSince, BackfillUntil: cp.BackfillUntil})
	if !slices.Equal(ids(page), []string{"old2", "late-but-old"}) {
		t.Errorf("backfill page = %v, want [old2 late-but-old]", ids(page))
	}
	if _, err := f.b.Checkpoints(ctx, unknown); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("Checkpoints of an unknown integration = %v, want ErrNotFound", err)
	}
}

func testAcceptedRanges(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "r"))
	l := f.acquire(in.ID, "worker-a", time.Minute)
	run := f.startRun(l)
	commit := func(source string, checkpoint int64, accepted ...store.Range) error {
		return f.b.CommitBatch(ctx, store.BatchCommit{RunID: run, Integration: in.ID, Token: l.Token,
			Source: source, Checkpoint: checkpoint, Accepted: accepted})
	}
	steps := []struct {
		name      string
		source    string
		cp        int64
		accepted  []store.Range
		wantErr   bool
		wantAudit int64
		audit     []store.Range
		jobs      []store.Range
	}{
		{"ranges beyond a gap, sorted on read", "audit", 10, []store.Range{{Lo: 15, Hi: 20}, {Lo: 12, Hi: 13}}, false,
			10, []store.Range{{Lo: 12, Hi: 13}, {Lo: 15, Hi: 20}}, nil},
		{"jobs keep their own", "jobs", 3, []store.Range{{Lo: 5, Hi: 5}}, false,
			10, []store.Range{{Lo: 12, Hi: 13}, {Lo: 15, Hi: 20}}, []store.Range{{Lo: 5, Hi: 5}}},
		{"the checkpoint reaches a range: forgotten", "audit", 13, nil, false,
			13, []store.Range{{Lo: 15, Hi: 20}}, []store.Range{{Lo: 5, Hi: 5}}},
		{"a lower checkpoint keeps the old, adds the range", "audit", 5, []store.Range{{Lo: 30, Hi: 31}}, false,
			13, []store.Range{{Lo: 15, Hi: 20}, {Lo: 30, Hi: 31}}, []store.Range{{Lo: 5, Hi: 5}}},
		{"ranges at or below the new checkpoint are not stored", "audit", 25, []store.Range{{Lo: 21, Hi: 25}, {Lo: 24, Hi: 28}}, false,
			25, []store.Range{{Lo: 24, Hi: 28}, {Lo: 30, Hi: 31}}, []store.Range{{Lo: 5, Hi: 5}}},
		{"one start twice keeps the longer", "audit", 25, []store.Range{{Lo: 30, Hi: 35}, {Lo: 30, Hi: 32}}, false,
			25, []store.Range{{Lo: 24, Hi: 28}, {Lo: 30, Hi: 35}}, []store.Range{{Lo: 5, Hi: 5}}},
		{"a range that ends before it starts", "audit", 40, []store.Range{{Lo: 50, Hi: 45}}, true,
			25, []store.Range{{Lo: 24, Hi: 28}, {Lo: 30, Hi: 35}}, []store.Range{{Lo: 5, Hi: 5}}},
		{"past every range", "audit", 35, nil, false,
			35, nil, []store.Range{{Lo: 5, Hi: 5}}},
	}
	for _, s := range steps {
		err := commit(s.source, s.cp, s.accepted...)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: CommitBatch = %v", s.name, err)
		}
		cp := f.checkpoints(in.ID)
		if cp.Audit != s.wantAudit || !slices.Equal(cp.AuditAccepted, s.audit) || !slices.Equal(cp.JobsAccepted, s.jobs) {
			t.Errorf("%s: checkpoints = %+v, want audit %d %v, jobs %v", s.name, cp, s.wantAudit, s.audit, s.jobs)
		}
	}
}

func testCommitBatch(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "c"))
	l := f.acquire(in.ID, "worker-a", time.Minute)
	run := f.startRun(l)
	sa := []store.SetAside{{Source: "audit", Seq: 7, EventID: "e7", Reason: "HEC code 6: invalid data format", Body: []byte(`{"event":1}`)}}
	steps := []struct {
		name    string
		b       store.BatchCommit
		wantErr error // nil: success; errAny: any error
		want    store.Checkpoints
	}{
		{"audit batch", store.BatchCommit{Source: "audit", Checkpoint: 10, Events: 9, Bytes: 900, SetAside: sa},
			nil, store.Checkpoints{Audit: 10}},
		{"jobs batch", store.BatchCommit{Source: "jobs", Checkpoint: 4, Events: 3, Bytes: 300},
			nil, store.Checkpoints{Audit: 10, Jobs: 4}},
		{"never moves back", store.BatchCommit{Source: "audit", Checkpoint: 5, Events: 1, Bytes: 10},
			nil, store.Checkpoints{Audit: 10, Jobs: 4}},
		// The run update fails after the checkpoint update: nothing of the
		// batch may stay.
		{"unknown run rolls back", store.BatchCommit{RunID: run + 99, Source: "audit", Checkpoint: 50, Events: 1,
			Accepted: []store.Range{{Lo: 60, Hi: 61}}, SetAside: sa},
			siemsync.ErrNotFound, store.Checkpoints{Audit: 10, Jobs: 4}},
		{"unknown source", store.BatchCommit{Source: "logs", Checkpoint: 50}, errAny, store.Checkpoints{Audit: 10, Jobs: 4}},
	}
	for _, s := range steps {
		b := s.b
		b.Integration, b.Token = in.ID, l.Token
		if b.RunID == 0 {
			b.RunID = run
		}
		err := f.b.CommitBatch(ctx, b)
		if s.wantErr == nil && err != nil || s.wantErr != nil && err == nil ||
			s.wantErr != nil && s.wantErr != errAny && !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: CommitBatch = %v, want %v", s.name, err, s.wantErr)
		}
		if cp := f.checkpoints(in.ID); !reflect.DeepEqual(cp, s.want) {
			t.Errorf("%s: checkpoints %+v, want %+v", s.name, cp, s.want)
		}
	}
	runs := f.runs(in.ID)
	if len(runs) != 1 || runs[0].Events != 13 || runs[0].Bytes != 1210 || runs[0].SetAside != 1 || runs[0].Finished != nil {
		t.Errorf("run = %+v", runs)
	}
	err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: run, Integration: unknown, Source: "audit", Checkpoint: 1})
	if !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("CommitBatch of an unknown integration = %v, want ErrNotFound", err)
	}
}

var errAny = errors.New("any error")

func testRuns(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "s"))
	if st := f.get(in.ID).Status; st.LastComplete != nil || st.LastError != nil || st.LastWorker != "" {
		t.Errorf("never run: %+v", st)
	}
	cycle := func(owner string, events int64, errMsg string, nextDue time.Time) (store.Run, *siemsync.Integration) {
		t.Helper()
		l := f.acquire(in.ID, owner, time.Minute)
		run := f.startRun(l)
		if events > 0 {
			b := store.BatchCommit{RunID: run, Integration: in.ID, Token: l.Token, Source: "audit", Checkpoint: events, Events: events, Bytes: 10 * events}
			if err := f.b.CommitBatch(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.b.FinishRun(ctx, store.RunFinish{RunID: run, Integration: in.ID, Token: l.Token,
			Finished: time.Now(), Err: errMsg, NextDue: nextDue}); err != nil {
			t.Fatal(err)
		}
		if err := f.b.ReleaseLease(ctx, l); err != nil {
			t.Fatal(err)
		}
		return f.runs(in.ID)[0], f.get(in.ID)
	}

	run, got := cycle("worker-a", 5, "", time.Time{})
	st := got.Status
	if st.LastComplete == nil || st.LastError != nil || st.ErrorMessage != "" || st.EventsLastCycle != 5 || st.LastWorker != "worker-a" {
		t.Errorf("after a success: %+v", st)
	}
	if run.Worker != "worker-a" || run.Events != 5 || run.Bytes != 50 || run.Finished == nil || run.Error != "" || run.Integration != in.ID {
		t.Errorf("run = %+v", run)
	}
	lastOK := *st.LastComplete

	const msg = "HEC token rejected: update the token"
	run, got = cycle("worker-b", 2, msg, time.Now().Add(time.Hour))
	st = got.Status
	if st.LastComplete == nil || !st.LastComplete.Equal(lastOK) || st.LastError == nil || st.ErrorMessage != msg ||
		st.EventsLastCycle != 2 || st.LastWorker != "worker-b" {
		t.Errorf("after a failure: %+v (the last success must stay)", st)
	}
	if run.Worker != "worker-b" || run.Error != msg {
		t.Errorf("failed run = %+v", run)
	}
	// FinishRun's NextDue moved the due time an hour on.
	if leases, err := f.b.LeaseDue(ctx, "worker-c", time.Minute, 10); err != nil || len(leases) != 0 {
		t.Errorf("LeaseDue after a finish that set next due an hour on = %+v, %v", leases, err)
	}

	_, got = cycle("worker-a", 0, "", time.Time{})
	if st = got.Status; st.LastError != nil || st.ErrorMessage != "" || st.EventsLastCycle != 0 {
		t.Errorf("a success clears the error: %+v", st)
	}
	runs, err := f.b.RecentRuns(ctx, in.ID, 2)
	if err != nil || len(runs) != 2 || runs[0].ID <= runs[1].ID || runs[1].Error != msg {
		t.Errorf("RecentRuns(2) = %+v, %v, want the last two, newest first", runs, err)
	}
	if list, err := f.b.ListIntegrations(ctx, acctA); err != nil || len(list) != 1 || list[0].Status.LastWorker != "worker-a" {
		t.Errorf("ListIntegrations status = %+v, %v", list, err)
	}

	err = f.b.FinishRun(ctx, store.RunFinish{RunID: 999, Integration: in.ID, Token: 0, Finished: time.Now()})
	if err == nil {
		t.Error("FinishRun of an unknown run (with a stale token) succeeded")
	}
	l := f.acquire(in.ID, "worker-a", time.Minute)
	err = f.b.FinishRun(ctx, store.RunFinish{RunID: 999, Integration: in.ID, Token: l.Token, Finished: time.Now()})
	if !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("FinishRun of an unknown run = %v, want ErrNotFound", err)
	}
	if _, err := f.b.BeginCycle(ctx, store.Lease{Name: unknown, Owner: "w"}, time.Now(), 10); !errors.Is(err, siemsync.ErrNotFound) {
		t.Errorf("BeginCycle of an unknown integration = %v, want ErrNotFound", err)
	}
}

func testSetAside(t *testing.T, f *fixture) {
	ctx := t.Context()
	in := f.create(hecIntegration(acctA, "sa"))
	other := f.create(hecIntegration(acctA, "other"))
	l := f.acquire(in.ID, "worker-a", time.Minute)
	run := f.startRun(l)
	created := t0.Add(time.Hour)
	sa := []store.SetAside{
		{Source: "audit", Seq: 7, EventID: "e7", Reason: "HEC code 6: invalid data format", Body: []byte(`{"event":7}`), CreatedAt: created},
		{Source: "jobs", Seq: 2, EventID: "j2", Reason: "too large", Body: []byte(`{"event":"j2"}`)},
	}
	if err := f.b.CommitBatch(ctx, store.BatchCommit{RunID: run, Integration: in.ID, Token: l.Token, Source: "audit",
		Checkpoint: 10, Events: 8, SetAside: sa}); err != nil {
		t.Fatal(err)
	}
	list, err := f.b.ListSetAside(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].EventID != "e7" || list[1].EventID != "j2" || list[0].ID >= list[1].ID {
		t.Fatalf("set aside = %+v, want e7 then j2", list)
	}
	for i, s := range list {
		w := sa[i]
		if s.Integration != in.ID || s.Source != w.Source || s.Seq != w.Seq || s.Reason != w.Reason || string(s.Body) != string(w.Body) {
			t.Errorf("set-aside %d = %+v, want %+v", i, s, w)
		}
	}
	if !list[0].CreatedAt.Equal(created) || list[1].CreatedAt.IsZero() {
		t.Errorf("created times %v, %v: the given one kept, the store's otherwise", list[0].CreatedAt, list[1].CreatedAt)
	}
	if f.get(in.ID).Status.SetAside != 2 || f.runs(in.ID)[0].SetAside != 2 {
		t.Errorf("set-aside counts: status %d, run %+v", f.get(in.ID).Status.SetAside, f.runs(in.ID)[0])
	}
	if n, err := f.b.DeleteSetAside(ctx, other.ID, []int64{list[0].ID}); n != 0 || err != nil {
		t.Errorf("DeleteSetAside of another integration = %d, %v", n, err)
	}
	if n, err := f.b.DeleteSetAside(ctx, in.ID, []int64{list[0].ID, list[0].ID + 999}); n != 1 || err != nil {
		t.Errorf("DeleteSetAside = %d, %v", n, err)
	}
	if left, err := f.b.ListSetAside(ctx, in.ID); err != nil || len(left) != 1 || left[0].EventID != "j2" {
		t.Errorf("left after delete: %+v, %v", left, err)
	}
	if n := f.get(in.ID).Status.SetAside; n != 1 {
		t.Errorf("Status.SetAside after delete = %d", n)
	}
}

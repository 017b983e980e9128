package sync_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sink"
)

func (b *bundle) auditEvents(t *testing.T, account string, idEvent ...string) {
	t.Helper()
	ing, err := b.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(idEvent); i += 2 {
		a := &siemsync.Audit{ID: idEvent[i], Account: account, Time: time.Now().UTC(), Event: idEvent[i+1]}
		if _, err := ing.Audit(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := ing.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestFilters: filtered records are not sent, are counted, and move the
// checkpoint (the next cycle does not see them again).
func TestFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.auditEvents(t, acctA, "a1", "Sign in", "a2", "Export started", "a3", "sign in failed", "a4", "Deleted user")
	b.job(t, acctA, "11111111-0000-4000-8000-000000000001", siemsync.JobSuccessful, 1)
	b.job(t, acctA, "11111111-0000-4000-8000-000000000002", siemsync.JobUnsuccessful, 0.3)
	b.job(t, acctA, "11111111-0000-4000-8000-000000000003", siemsync.JobCancelled, 0.5)
	id := b.integration(t, acctA, func(in *siemsync.Integration) {
		in.AuditEvents = []string{"Sign in*"}
		in.JobStatuses = []string{siemsync.JobUnsuccessful, siemsync.JobCancelled}
		in.MinSeverity = 3 // audit 3 passes, cancelled 4 and unsuccessful 8 pass
	})
	res := b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 2 || res.Jobs != 2 || res.Filtered != 3 {
		t.Fatalf("cycle: %+v", res)
	}
	for _, x := range []string{"a2", "a4"} {
		if b.sink.delivered[x] > 0 {
			t.Errorf("%s was sent despite the filter", x)
		}
	}
	if b.sink.delivered["a1"] != 1 || b.sink.delivered["a3"] != 1 {
		t.Errorf("delivered %v", b.sink.delivered)
	}
	in, _ := b.db.GetIntegration(t.Context(), id, false)
	if in.Status.Filtered != 3 {
		t.Errorf("status filtered = %d, want 3", in.Status.Filtered)
	}
	cps, _ := b.db.Checkpoints(t.Context(), id)
	if cps.Audit < 4 {
		t.Errorf("audit checkpoint %d did not move past the filtered records", cps.Audit)
	}
	res = b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Events() != 0 || res.Filtered != 0 {
		t.Errorf("second cycle saw records again: %+v", res)
	}
}

// verifyingSink is a fakeSink that can also prove the destination.
type verifyingSink struct {
	*fakeSink
	err      error
	verified int
}

func (v *verifyingSink) Verify(context.Context) error {
	v.verified++
	return v.err
}

// TestIdleCycleVerifies: a cycle with nothing to send checks the
// destination, and fails (the status shows the error, last success stays)
// when the check fails.
func TestIdleCycleVerifies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := &verifyingSink{fakeSink: b.sink}
	s := b.newSyncerWith(t, v)
	id := b.integration(t, acctA, nil)
	if res := s.Cycle(t.Context(), id); res.Err != nil || v.verified != 1 {
		t.Fatalf("idle cycle with a working destination: %+v, verified %d", res, v.verified)
	}
	ok, _ := b.db.GetIntegration(t.Context(), id, false)
	v.err = &sink.Error{Class: sink.Config, Msg: "Splunk refused the token (code 4): paste a valid HEC token"}
	res := s.Cycle(t.Context(), id)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "refused the token") {
		t.Fatalf("idle cycle with a refused token: %v", res.Err)
	}
	in, _ := b.db.GetIntegration(t.Context(), id, false)
	if in.Status.LastError == nil || !strings.Contains(in.Status.ErrorMessage, "refused the token") ||
		!in.Status.LastComplete.Equal(*ok.Status.LastComplete) {
		t.Errorf("status after a failed check: %+v", in.Status)
	}
	// A cycle that delivered something needs no check.
	b.audit(t, acctA, "x1")
	v.err, v.verified = nil, 0
	if res := s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 1 || v.verified != 0 {
		t.Errorf("busy cycle: %+v, verified %d", res, v.verified)
	}
}

// heartbeatSink records the heartbeats it is given.
type heartbeatSink struct {
	*fakeSink
	beats []siemsync.Heartbeat
}

func (h *heartbeatSink) Append(dst []byte, ev *siemsync.Event) []byte {
	if ev.Heartbeat != nil {
		h.beats = append(h.beats, *ev.Heartbeat)
	}
	return h.fakeSink.Append(dst, ev)
}

// TestHeartbeat: with heartbeat on, every cycle (busy or idle) ends with
// one heartbeat carrying its counts and checkpoints; a failed heartbeat
// fails the cycle.
func TestHeartbeat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hs := &heartbeatSink{fakeSink: b.sink}
	s := b.newSyncerWith(t, hs)
	b.auditEvents(t, acctA, "a1", "Sign in", "a2", "Export")
	id := b.integration(t, acctA, func(in *siemsync.Integration) {
		in.Heartbeat, in.AuditEvents = true, []string{"Sign*"}
	})
	res := s.Cycle(t.Context(), id)
	if res.Err != nil || res.Heartbeats != 1 || len(hs.beats) != 1 {
		t.Fatalf("cycle: %+v, beats %d", res, len(hs.beats))
	}
	h := hs.beats[0]
	cps, _ := b.db.Checkpoints(t.Context(), id)
	if h.SentAudit != 1 || h.Filtered != 1 || h.AuditSeq != cps.Audit || h.Integration != id || h.Worker == "" || h.Version == "" ||
		!h.WindowEnd.After(h.WindowStart) {
		t.Errorf("heartbeat %+v (checkpoint %d)", h, cps.Audit)
	}
	if b.sink.delivered[h.ID] != 1 {
		t.Errorf("the heartbeat was not sent")
	}
	// Idle: still one heartbeat, and its window starts where the last ended.
	if res := s.Cycle(t.Context(), id); res.Err != nil || len(hs.beats) != 2 || hs.beats[1].SentAudit != 0 || hs.beats[1].ID == h.ID {
		t.Fatalf("idle cycle: %+v, beats %+v", res, hs.beats)
	}
	refused := &sink.Error{Class: sink.Config, Msg: "token refused"}
	b.sink.SendFunc = func([]byte, int) error { return refused }
	if res := s.Cycle(t.Context(), id); !errors.Is(res.Err, refused) || !strings.Contains(res.Err.Error(), "heartbeat") {
		t.Errorf("a refused heartbeat did not fail the cycle: %v", res.Err)
	}
}

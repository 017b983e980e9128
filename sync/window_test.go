package sync_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sink"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
	ssync "github.com/siemsync/siemsync/sync"
)

// firstID returns the id of the first event of a fake sink's body.
func firstID(body []byte) string {
	_, rest, _ := bytes.Cut(body, []byte(`"id":"`))
	id, _, _ := bytes.Cut(rest, []byte(`"`))
	return string(id)
}

// duplicates counts ids delivered more than once.
func (f *fakeSink) duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.delivered {
		n += c - 1
	}
	return n
}

// TestWindowOutOfOrderAnswers: with four requests in flight, the first
// batch is answered last. Everything arrives once and the checkpoint ends
// at the last record.
func TestWindowOutOfOrderAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 40)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.MaxBatchEvents, in.MaxInFlight = 10, 4 })
	// The first request is answered only once the fourth was sent: with
	// fewer than four in flight this never happens and the first request
	// fails after 10 s.
	release := make(chan struct{})
	var once gosync.Once
	b.sink.SendFunc = func(body []byte, _ int) error {
		if firstID(body) == "a-000" {
			select {
			case <-release:
				return nil
			case <-time.After(10 * time.Second):
				return &sink.Error{Class: sink.Config, Msg: "the fourth batch was never sent while the first was in flight"}
			}
		}
		if firstID(body) == "a-030" {
			once.Do(func() { close(release) })
		}
		return nil
	}
	res := b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 40 {
		t.Fatalf("cycle: %+v", res)
	}
	if n := b.sink.count(); n != 40 || b.sink.duplicates() != 0 {
		t.Errorf("delivered %d distinct with %d duplicates, want 40 and 0", n, b.sink.duplicates())
	}
	cp, _ := b.db.Checkpoints(t.Context(), id)
	max, _ := b.db.MaxAuditSeq(t.Context(), acctA)
	if cp.Audit != max || len(cp.AuditAccepted) != 0 {
		t.Errorf("checkpoints %+v, want audit %d and no ranges left", cp, max)
	}
}

// TestWindowFailureInTheMiddle: the second of four batches fails for good
// while the others are accepted. The checkpoint stays before it, the
// accepted ones are remembered, and the next cycle sends only the failed
// batch: 0 duplicates.
func TestWindowFailureInTheMiddle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 40)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.MaxBatchEvents, in.MaxInFlight = 10, 4 })
	var down gosync.Mutex
	broken := true
	b.sink.SendFunc = func(body []byte, _ int) error {
		down.Lock()
		defer down.Unlock()
		if broken && firstID(body) == "a-010" {
			return &sink.Error{Class: sink.Retry, Status: 503, Msg: "HEC answered 503"}
		}
		return nil
	}
	s := ssync.New(ssync.Config{
		Store: b.db, RetryBudget: 30 * time.Millisecond, Backoff: func(int) time.Duration { return 5 * time.Millisecond },
		Open: func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
	})
	res := s.Cycle(t.Context(), id)
	if res.Err == nil || res.Audit != 30 {
		t.Fatalf("failing cycle: %+v, want an error after 30 accepted", res)
	}
	cp, _ := b.db.Checkpoints(t.Context(), id)
	if len(cp.AuditAccepted) == 0 {
		t.Fatalf("checkpoints %+v: the batches accepted beyond the failed one are not remembered", cp)
	}
	down.Lock()
	broken = false
	down.Unlock()
	res = s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 10 {
		t.Fatalf("next cycle: %+v, want the 10 events of the failed batch only", res)
	}
	if n, d := b.sink.count(), b.sink.duplicates(); n != 40 || d != 0 {
		t.Errorf("delivered %d distinct with %d duplicates, want 40 and 0", n, d)
	}
	cp, _ = b.db.Checkpoints(t.Context(), id)
	if len(cp.AuditAccepted) != 0 {
		t.Errorf("ranges %v left behind a checkpoint that passed them", cp.AuditAccepted)
	}
}

// TestSplitHalfAcceptedNotResent: a 413 splits a batch; the first half is
// accepted, the second runs out of retry budget. The next cycle must not
// send the first half again (the checkpoint moves inside the batch).
func TestSplitHalfAcceptedNotResent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 20)...)
	id := b.integration(t, acctA, nil)
	var mu gosync.Mutex
	down := true
	b.sink.SendFunc = func(body []byte, n int) error {
		mu.Lock()
		defer mu.Unlock()
		if n > 10 {
			return &sink.Error{Class: sink.TooLarge, Status: 413, Msg: "HTTP 413"}
		}
		if down && firstID(body) == "a-010" {
			return &sink.Error{Class: sink.Retry, Status: 503, Msg: "HEC answered 503"}
		}
		return nil
	}
	s := ssync.New(ssync.Config{
		Store: b.db, RetryBudget: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 5 * time.Millisecond },
		Open: func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
	})
	if res := s.Cycle(t.Context(), id); res.Err == nil || res.Audit != 10 {
		t.Fatalf("first cycle: %+v, want 10 accepted then a failure", res)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if res := s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 10 {
		t.Fatalf("second cycle: %+v, want the other 10 only", res)
	}
	if n, d := b.sink.count(), b.sink.duplicates(); n != 20 || d != 0 {
		t.Errorf("delivered %d distinct with %d duplicates, want 20 and 0", n, d)
	}
}

// TestDestinationRefusingEverything: code 6 on every answer is a broken
// destination, not 50 bad events. The cycle fails, nothing is set aside
// and the checkpoint stays.
func TestDestinationRefusingEverything(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 50)...)
	id := b.integration(t, acctA, nil)
	before, _ := b.db.Checkpoints(t.Context(), id)
	b.sink.SendFunc = func([]byte, int) error {
		return &sink.Error{Class: sink.BadEvent, Status: 400, Code: 6, Index: -1, Msg: "Invalid data format"}
	}
	res := b.s.Cycle(t.Context(), id)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "refuses everything") {
		t.Fatalf("cycle: %+v, want a failure saying the destination refuses everything", res)
	}
	aside, _ := b.db.ListSetAside(t.Context(), id)
	after, _ := b.db.Checkpoints(t.Context(), id)
	if len(aside) != 0 || after.Audit != before.Audit {
		t.Errorf("%d events set aside, checkpoint %d -> %d; want none and unmoved", len(aside), before.Audit, after.Audit)
	}
	if b.sink.sends > 20 {
		t.Errorf("%d requests for 50 events before giving up", b.sink.sends)
	}
}

// TestLeaseHeldSkips: a cycle of an integration whose lease another worker
// holds does not run and says so.
func TestLeaseHeldSkips(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 3)...)
	id := b.integration(t, acctA, nil)
	if _, err := b.db.AcquireLease(t.Context(), id, "other-worker", time.Minute); err != nil {
		t.Fatal(err)
	}
	res := b.s.Cycle(t.Context(), id)
	if !errors.Is(res.Err, store.ErrLeaseHeld) || !errors.Is(res.Err, siemsync.ErrRunning) {
		t.Fatalf("cycle: %v, want lease held", res.Err)
	}
	if b.sink.sends != 0 {
		t.Errorf("%d sends under another worker's lease", b.sink.sends)
	}
}

// TestStaleWorkerIsFenced: a cycle pauses past its lease while another
// worker takes the integration over. Its commit is refused, it stops, and
// the checkpoint is the new owner's business.
func TestStaleWorkerIsFenced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 30)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.MaxBatchEvents = 10 })
	paused := make(chan struct{})
	resume := make(chan struct{})
	var once gosync.Once
	b.sink.SendFunc = func([]byte, int) error {
		once.Do(func() { close(paused); <-resume })
		return nil
	}
	stale := ssync.New(ssync.Config{
		Store: b.db, LeaseTTL: time.Hour, Owner: "stale",
		Open: func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
	})
	before, _ := b.db.Checkpoints(t.Context(), id)
	done := make(chan ssync.Result)
	go func() { done <- stale.Cycle(t.Context(), id) }()
	<-paused
	// Another process on the same file, two hours later: the stale
	// worker's lease has expired by its clock.
	later, err := sqlite.Open(t.Context(), b.db.Path(), sqlite.Options{Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()
	l, err := later.AcquireLease(t.Context(), id, "new-owner", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	close(resume)
	res := <-done
	if !errors.Is(res.Err, store.ErrFenced) {
		t.Fatalf("stale cycle: %+v, want fenced", res)
	}
	cp, _ := b.db.Checkpoints(t.Context(), id)
	if cp.Audit != before.Audit || len(cp.AuditAccepted) != 0 {
		t.Errorf("stale worker moved the checkpoint: %+v, was %+v", cp, before)
	}
	// The new owner's lease is intact.
	if _, err := later.RenewLease(t.Context(), l, time.Minute); err != nil {
		t.Errorf("new owner's lease after the stale cycle: %v", err)
	}
}

// packingSink is a fakeSink whose batches are packed before sending, as
// HEC's are with gzip: the cycle hands the body's buffer back at once and
// must unpack the batch to split it.
type packingSink struct {
	*fakeSink
	packed, unpacked int
	mu               gosync.Mutex
}

func (p *packingSink) Packs() bool { return true }

func (p *packingSink) Pack(body []byte) sink.Wire {
	p.mu.Lock()
	p.packed++
	p.mu.Unlock()
	return &packedWire{p: p, body: bytes.Clone(body)}
}

type packedWire struct {
	p    *packingSink
	body []byte
}

func (w *packedWire) Send(ctx context.Context, events int) error {
	return w.p.fakeSink.Send(ctx, w.body, events)
}

func (w *packedWire) Body() ([]byte, error) {
	w.p.mu.Lock()
	w.p.unpacked++
	w.p.mu.Unlock()
	return bytes.Clone(w.body), nil
}

func (w *packedWire) Release() { w.body = nil }

// TestPackedBatchesSplitAndSetAside: with a packing destination, a 413
// splits an unpacked batch, a poison event is set aside, everything else
// arrives once and the body buffers are reused while requests are out.
func TestPackedBatchesSplitAndSetAside(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 60)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.MaxBatchEvents, in.MaxInFlight = 20, 4 })
	ps := &packingSink{fakeSink: b.sink}
	b.sink.SendFunc = func(body []byte, n int) error {
		if n > 10 {
			return &sink.Error{Class: sink.TooLarge, Status: 413, Msg: "HTTP 413"}
		}
		if bytes.Contains(body, []byte(`"a-033"`)) {
			return &sink.Error{Class: sink.BadEvent, Status: 400, Code: 6, Index: -1, Msg: "Invalid data format"}
		}
		return nil
	}
	s := ssync.New(ssync.Config{
		Store: b.db, Backoff: func(int) time.Duration { return time.Millisecond },
		Open: func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return ps, nil },
	})
	res := s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 59 || res.SetAside != 1 {
		t.Fatalf("cycle: %+v, want 59 delivered and 1 set aside", res)
	}
	if n, d := b.sink.count(), b.sink.duplicates(); n != 59 || d != 0 {
		t.Errorf("delivered %d distinct with %d duplicates, want 59 and 0", n, d)
	}
	if ps.packed != 3 || ps.unpacked != 3 {
		t.Errorf("packed %d, unpacked %d batches; want 3 and 3 (every batch was split)", ps.packed, ps.unpacked)
	}
	aside, _ := b.db.ListSetAside(t.Context(), id)
	if len(aside) != 1 || aside[0].EventID != "a-033" || !bytes.Contains(aside[0].Body, []byte("a-033")) {
		t.Errorf("set aside %+v, want a-033 with its bytes", aside)
	}
}

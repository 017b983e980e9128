package sync_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	ssync "github.com/siemsync/siemsync/sync"
)

// pinnedSyncer is the bundle's Syncer with the upload clock pinned, so that
// a preview and the cycle after it stamp the same upload time.
func (b *bundle) pinnedSyncer(t *testing.T) *ssync.Syncer {
	upload := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	return ssync.New(ssync.Config{
		Store: b.db, Hostname: "eu-1.example.net", PageSize: 7,
		Open:        func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
		Backoff:     func(int) time.Duration { return time.Millisecond },
		Logger:      zerolog.New(zerolog.NewTestWriter(t)),
		UploadClock: func() time.Time { return upload },
	})
}

func TestPreviewIsWhatTheNextCycleSends(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 25)...)
	b.job(t, acctA, "33333333-3333-4333-8333-333333333333", siemsync.JobInProgress, 0.5)
	b.job(t, acctA, "44444444-4444-4444-8444-444444444444", siemsync.JobSuccessful, 1)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.MaxBatchEvents = 10 })
	s := b.pinnedSyncer(t)
	in, err := b.db.GetIntegration(t.Context(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := b.db.Checkpoints(t.Context(), id)

	small, err := s.Preview(t.Context(), in, true, 10)
	if err != nil {
		t.Fatal(err)
	}
	if small.Events != 10 || !small.More || bytes.Count(small.Body, []byte("\n")) != 10 {
		t.Fatalf("preview of 10: %d events, more %v:\n%s", small.Events, small.More, small.Body)
	}
	all, err := s.Preview(t.Context(), in, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	if all.Events != 27 || all.More {
		t.Fatalf("preview of all: %d events, more %v", all.Events, all.More)
	}
	if !bytes.HasPrefix(all.Body, small.Body) {
		t.Errorf("the preview of 10 is not the start of the preview of all")
	}
	if b.sink.sends != 0 {
		t.Fatalf("preview sent %d requests", b.sink.sends)
	}
	if after, _ := b.db.Checkpoints(t.Context(), id); after.Audit != before.Audit || after.Jobs != before.Jobs {
		t.Fatalf("preview moved the checkpoints: %+v -> %+v", before, after)
	}

	var mu gosync.Mutex
	var sent []byte
	b.sink.SendFunc = func(body []byte, _ int) error {
		mu.Lock()
		sent = append(sent, body...)
		mu.Unlock()
		return nil
	}
	if res := s.Cycle(t.Context(), id); res.Err != nil || res.Events() != 27 {
		t.Fatalf("cycle: %+v", res)
	}
	if !bytes.Equal(sent, all.Body) {
		t.Errorf("the cycle sent\n%s\nthe preview said\n%s", sent, all.Body)
	}
}

func TestPreviewUnsavedStartsWhereCreationWould(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("old", 3)...)
	b.job(t, acctA, "33333333-3333-4333-8333-333333333333", siemsync.JobInProgress, 0.5)
	b.job(t, acctA, "44444444-4444-4444-8444-444444444444", siemsync.JobSuccessful, 1)
	in := &siemsync.Integration{Account: acctA, Name: "new", Kind: siemsync.KindHEC, Sources: []string{"audit", "jobs"},
		URL: "https://splunk.example.com:8088"}
	in.ApplyDefaults()

	p, err := b.s.Preview(t.Context(), in, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	// From the end of the log: no history, but the running job is re-sent.
	if p.Events != 1 || !strings.Contains(string(p.Body), "33333333-3333-4333-8333-333333333333") {
		t.Fatalf("without backfill: %d events\n%s", p.Events, p.Body)
	}

	since := time.Now().Add(-time.Hour).UTC()
	in.BackfillSince = &since
	p, err = b.s.Preview(t.Context(), in, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	if p.Events != 5 {
		t.Fatalf("with backfill: %d events, want 3 audit and 2 jobs\n%s", p.Events, p.Body)
	}
	future := time.Now().Add(time.Hour).UTC()
	in.BackfillSince = &future
	if p, _ = b.s.Preview(t.Context(), in, false, 100); p.Events != 1 {
		t.Fatalf("backfill after everything: %d events, want the running job only\n%s", p.Events, p.Body)
	}
}

func TestPreviewLimitBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.integration(t, acctA, nil)
	in, _ := b.db.GetIntegration(t.Context(), id, true)
	for _, n := range []int{0, -1, ssync.MaxPreviewEvents + 1} {
		_, err := b.s.Preview(t.Context(), in, true, n)
		var fe *siemsync.FieldError
		if !errors.As(err, &fe) || fe.Field != "limit" {
			t.Errorf("limit %d: %v, want a limit field error", n, err)
		}
	}
}

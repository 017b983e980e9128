package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/sink"
	"github.com/siemsync/siemsync/store/sqlite"
	ssync "github.com/siemsync/siemsync/sync"
)

const (
	acctA = "11111111-1111-4111-8111-111111111111"
	acctB = "22222222-2222-4222-8222-222222222222"
)

// fakeSink encodes an event as {"id":...,"seq":...} and hands every send
// to SendFunc (nil: accept). Delivered ids are recorded.
type fakeSink struct {
	mu        gosync.Mutex
	SendFunc  func(body []byte, events int) error
	FilterSeq func(seq int64) bool
	delivered map[string]int
	sends     int
	sizes     []int
}

func newFakeSink() *fakeSink { return &fakeSink{delivered: map[string]int{}} }

func (f *fakeSink) Append(dst []byte, ev *siemsync.Event) []byte {
	if f.FilterSeq != nil && f.FilterSeq(ev.Seq()) {
		return dst
	}
	kind := "audit"
	if ev.Job != nil {
		kind = "job:" + ev.Job.Job + ":" + ev.Job.Status
	}
	return fmt.Appendf(dst, `{"id":%q,"seq":%d,"kind":%q,"host":%q}`+"\n", ev.ID(), ev.Seq(), kind, ev.Host)
}

func (f *fakeSink) Send(ctx context.Context, body []byte, events int) error {
	f.mu.Lock()
	fn := f.SendFunc
	f.sends++
	f.mu.Unlock()
	if fn != nil {
		if err := fn(body, events); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sizes = append(f.sizes, events)
	for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
		var e struct{ ID string }
		if err := json.Unmarshal(line, &e); err != nil {
			panic(err)
		}
		f.delivered[e.ID]++
	}
	return nil
}

func (f *fakeSink) Close() error { return nil }

// deliveredEach fails t unless each of ids was delivered n times.
func (f *fakeSink) deliveredEach(t *testing.T, ids []string, n int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range ids {
		if got := f.delivered[x]; got != n {
			t.Errorf("%s delivered %d times, want %d", x, got, n)
		}
	}
}

func (f *fakeSink) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.delivered)
}

type bundle struct {
	db   *sqlite.DB
	sink *fakeSink
	s    *ssync.Syncer
}

func setup(t *testing.T) *bundle {
	t.Helper()
	c, err := secret.New(bytes.Repeat([]byte{7}, 32), "test")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), t.TempDir()+"/s.db", sqlite.Options{Cipher: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bundle{db: db, sink: newFakeSink()}
	b.s = b.newSyncer(t)
	return b
}

// newSyncer returns a Syncer on the bundle's store, as a new process would
// make: nothing carries over but what the store holds.
func (b *bundle) newSyncer(t *testing.T) *ssync.Syncer {
	return b.newSyncerWith(t, b.sink)
}

// newSyncerWith is newSyncer with every cycle sending to snk.
func (b *bundle) newSyncerWith(t *testing.T, snk ssync.Sink) *ssync.Syncer {
	return ssync.New(ssync.Config{
		Store: b.db, Hostname: "eu-1.example.net", PageSize: 7,
		Open:    func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return snk, nil },
		Backoff: func(int) time.Duration { return time.Millisecond },
		Logger:  zerolog.New(zerolog.NewTestWriter(t)),
	})
}

func (b *bundle) audit(t *testing.T, account string, ids ...string) {
	t.Helper()
	ing, err := b.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		a := &siemsync.Audit{ID: id, Account: account, Time: time.Now().UTC(), Event: "Sign in"}
		if _, err := ing.Audit(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := ing.Commit(); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) job(t *testing.T, account, job, status string, progress float64) {
	t.Helper()
	ing, err := b.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	j := &siemsync.Job{Job: job, Account: account, Status: status, Progress: &progress}
	if status != siemsync.JobInProgress && status != siemsync.JobScheduled {
		j.EndTime = time.Now().UTC().Truncate(time.Millisecond)
	}
	if _, err := ing.Job(j); err != nil {
		t.Fatal(err)
	}
	if err := ing.Commit(); err != nil {
		t.Fatal(err)
	}
}

// integration creates an enabled integration of the account that backfills
// everything (so records ingested before it are sent).
func (b *bundle) integration(t *testing.T, account string, mod func(*siemsync.Integration)) string {
	t.Helper()
	since := time.Unix(0, 0).UTC()
	in := &siemsync.Integration{
		Account: account, Name: "splunk-" + fmt.Sprint(time.Now().UnixNano()), Kind: siemsync.KindHEC, Enabled: true,
		Sources: []string{"audit", "jobs"}, URL: "https://splunk.example.com:8088", Token: "tok", BackfillSince: &since,
		CreateAccount: true,
		// One request at a time unless a test asks for a window: the
		// SendFuncs of most tests count calls and expect them in order.
		MaxInFlight: 1,
	}
	if mod != nil {
		mod(in)
	}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := b.db.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	return in.ID
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func TestCycleSendsEverythingOnceAndAdvances(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 25)...)
	b.audit(t, acctB, ids("b", 5)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.MaxBatchEvents = 10 })

	res := b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 25 {
		t.Fatalf("first cycle: %+v", res)
	}
	if got := b.sink.sizes; len(got) != 3 || got[0] != 10 || got[2] != 5 {
		t.Errorf("batch sizes = %v, want [10 10 5]", got)
	}
	for _, x := range ids("b", 5) {
		if b.sink.delivered[x] > 0 {
			t.Fatalf("record %s of another account was sent", x)
		}
	}
	b.audit(t, acctA, "a-new")
	res = b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 1 {
		t.Fatalf("second cycle: %+v", res)
	}
	for x, n := range b.sink.delivered {
		if n != 1 {
			t.Errorf("%s delivered %d times", x, n)
		}
	}
	in, _ := b.db.GetIntegration(t.Context(), id, false)
	if in.Status.LastComplete == nil || in.Status.EventsLastCycle != 1 || in.Status.ErrorMessage != "" {
		t.Errorf("status = %+v", in.Status)
	}
}

func TestNewIntegrationStartsAtEndOfLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("old", 3)...)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.BackfillSince = nil })
	b.audit(t, acctA, "new-1")
	res := b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 1 || b.sink.delivered["new-1"] != 1 {
		t.Fatalf("res %+v delivered %v", res, b.sink.delivered)
	}
}

func TestRetryableFailureRetriesWithinBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 5)...)
	id := b.integration(t, acctA, nil)
	fails := 3
	b.sink.SendFunc = func([]byte, int) error {
		if fails > 0 {
			fails--
			return &sink.Error{Class: sink.Retry, Status: 503, Code: 9, Msg: "busy"}
		}
		return nil
	}
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 5 {
		t.Fatalf("res = %+v", res)
	}
}

func TestFailedCycleKeepsCheckpointAndNextCycleCatchesUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 20)...)
	var s *ssync.Syncer
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.MaxBatchEvents = 8 })
	s = ssync.New(ssync.Config{
		Store: b.db, RetryBudget: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 5 * time.Millisecond },
		Open: func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
	})
	// The first batch is accepted, then the destination goes down.
	calls := 0
	b.sink.SendFunc = func([]byte, int) error {
		calls++
		if calls > 1 {
			return &sink.Error{Class: sink.Retry, Status: 503, Msg: "HEC answered 503"}
		}
		return nil
	}
	res := s.Cycle(t.Context(), id)
	if res.Err == nil || res.Audit != 8 {
		t.Fatalf("down cycle: %+v", res)
	}
	if !strings.Contains(res.Err.Error(), "retry budget") {
		t.Errorf("error %q does not mention the retry budget", res.Err)
	}
	in, _ := b.db.GetIntegration(t.Context(), id, false)
	if in.Status.LastError == nil || in.Status.ErrorMessage == "" {
		t.Errorf("status after failure = %+v", in.Status)
	}
	b.audit(t, acctA, "a-during-outage")
	b.sink.SendFunc = nil
	res = s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 13 {
		t.Fatalf("recovery cycle: %+v", res)
	}
	if got := b.sink.count(); got != 21 {
		t.Errorf("distinct delivered = %d, want 21", got)
	}
	in, _ = b.db.GetIntegration(t.Context(), id, false)
	if in.Status.LastError != nil || in.Status.ErrorMessage != "" {
		t.Errorf("error not cleared on success: %+v", in.Status)
	}
}

func TestTooLargeSplitsAndLearnsCap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 40)...)
	id := b.integration(t, acctA, nil)
	var largest int
	b.sink.SendFunc = func(body []byte, n int) error {
		if len(body) > 1500 {
			return &sink.Error{Class: sink.TooLarge, Status: 413, Msg: "HTTP 413"}
		}
		largest = max(largest, len(body))
		return nil
	}
	res := b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 40 || res.SetAside != 0 {
		t.Fatalf("res = %+v", res)
	}
	// The next cycle, even in a new process, starts from the learned cap:
	// no 413 at all.
	in, _ := b.db.GetIntegration(t.Context(), id, false)
	if in.LearnedBatchBytes == 0 || in.LearnedBatchBytes > 1500 {
		t.Fatalf("learned batch bytes = %d, want <= 1500", in.LearnedBatchBytes)
	}
	b.s = b.newSyncer(t)
	b.audit(t, acctA, ids("c", 40)...)
	before := b.sink.sends
	tooLarge := 0
	b.sink.SendFunc = func(body []byte, n int) error {
		if len(body) > 1500 {
			tooLarge++
			return &sink.Error{Class: sink.TooLarge, Status: 413}
		}
		return nil
	}
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 40 {
		t.Fatalf("second: %+v", res)
	}
	if tooLarge != 0 {
		t.Errorf("%d requests over the learned cap (sends %d)", tooLarge, b.sink.sends-before)
	}
	// An admin who sets a new maximum starts learning afresh.
	in, _ = b.db.GetIntegration(t.Context(), id, false)
	in.MaxBatchBytes = 2 << 20
	if err := b.db.UpdateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if in, _ = b.db.GetIntegration(t.Context(), id, false); in.LearnedBatchBytes != 0 {
		t.Errorf("learned batch bytes kept after max_batch_bytes changed: %d", in.LearnedBatchBytes)
	}
}

func TestSingleEventTooLargeIsSetAside(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 6)...)
	id := b.integration(t, acctA, nil)
	b.sink.SendFunc = func(body []byte, n int) error {
		if bytes.Contains(body, []byte("a-003")) {
			return &sink.Error{Class: sink.TooLarge, Status: 413}
		}
		return nil
	}
	res := b.s.Cycle(t.Context(), id)
	if res.Err != nil || res.Audit != 5 || res.SetAside != 1 {
		t.Fatalf("res = %+v", res)
	}
	list, _ := b.db.ListSetAside(t.Context(), id)
	if len(list) != 1 || list[0].EventID != "a-003" || !strings.Contains(list[0].Reason, "413") {
		t.Fatalf("set aside = %+v", list)
	}
}

func TestPoisonEventIsIsolated(t *testing.T) {
	t.Parallel()
	for _, withIndex := range []bool{true, false} {
		t.Run(fmt.Sprint("index=", withIndex), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.audit(t, acctA, ids("a", 50)...)
			id := b.integration(t, acctA, nil)
			b.sink.SendFunc = func(body []byte, n int) error {
				lines := bytes.Split(bytes.TrimSpace(body), []byte("\n"))
				for i, l := range lines {
					if bytes.Contains(l, []byte(`"a-031"`)) {
						idx := -1
						if withIndex {
							idx = i
						}
						return &sink.Error{Class: sink.BadEvent, Status: 400, Code: 6, Index: idx, Msg: "Invalid data format (code 6)"}
					}
				}
				return nil
			}
			res := b.s.Cycle(t.Context(), id)
			if res.Err != nil || res.Audit != 49 || res.SetAside != 1 {
				t.Fatalf("res = %+v", res)
			}
			list, _ := b.db.ListSetAside(t.Context(), id)
			if len(list) != 1 || list[0].EventID != "a-031" || !bytes.Contains(list[0].Body, []byte("a-031")) {
				t.Fatalf("set aside = %+v", list)
			}
			in, _ := b.db.GetIntegration(t.Context(), id, false)
			if in.Status.SetAside != 1 {
				t.Errorf("status set_aside = %d", in.Status.SetAside)
			}
			// Re-drive: the destination now takes it.
			b.sink.SendFunc = nil
			delivered, remaining, err := b.s.RetrySetAside(t.Context(), id)
			if err != nil || delivered != 1 || remaining != 0 || b.sink.delivered["a-031"] != 1 {
				t.Fatalf("retry: %d %d %v", delivered, remaining, err)
			}
		})
	}
}

func TestConfigErrorStopsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 3)...)
	id := b.integration(t, acctA, nil)
	b.sink.SendFunc = func([]byte, int) error {
		return &sink.Error{Class: sink.Config, Status: 403, Code: 4, Msg: "Splunk rejected the HEC token (code 4)"}
	}
	res := b.s.Cycle(t.Context(), id)
	if res.Err == nil || b.sink.sends != 1 {
		t.Fatalf("res %+v after %d sends", res, b.sink.sends)
	}
	in, _ := b.db.GetIntegration(t.Context(), id, false)
	if !strings.Contains(in.Status.ErrorMessage, "code 4") {
		t.Errorf("error message = %q", in.Status.ErrorMessage)
	}
}

func TestFilteredEventsAdvanceCheckpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, ids("a", 10)...)
	id := b.integration(t, acctA, nil)
	b.sink.FilterSeq = func(int64) bool { return true }
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 0 {
		t.Fatalf("res = %+v", res)
	}
	b.sink.FilterSeq = nil
	b.audit(t, acctA, "after")
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Audit != 1 {
		t.Fatalf("filtered records were sent again: %+v", res)
	}
}

func TestJobsActiveResentFinishedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const running, done = "aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"
	b.job(t, acctA, running, siemsync.JobInProgress, 0.2)
	b.job(t, acctA, done, siemsync.JobSuccessful, 1)
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.Sources = []string{"jobs"} })
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Jobs != 2 {
		t.Fatalf("first: %+v", res)
	}
	// Nothing changed: only the running job is reported again.
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Jobs != 1 {
		t.Fatalf("second: %+v", res)
	}
	b.job(t, acctA, running, siemsync.JobSuccessful, 1)
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Jobs != 1 {
		t.Fatalf("third (job ended): %+v", res)
	}
	if res := b.s.Cycle(t.Context(), id); res.Err != nil || res.Jobs != 0 {
		t.Fatalf("fourth (nothing active): %+v", res)
	}
}

func TestOneCycleAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, "a")
	id := b.integration(t, acctA, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	b.sink.SendFunc = func([]byte, int) error {
		close(entered)
		<-release
		return nil
	}
	done := make(chan ssync.Result)
	go func() { done <- b.s.Cycle(context.Background(), id) }()
	<-entered
	if err := b.s.RunNow(t.Context(), id); !errors.Is(err, siemsync.ErrRunning) {
		t.Errorf("second cycle: %v, want ErrRunning", err)
	}
	close(release)
	if res := <-done; res.Err != nil {
		t.Fatal(res.Err)
	}
}

func TestDisabledIntegrationSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, "a")
	id := b.integration(t, acctA, func(in *siemsync.Integration) { in.Enabled = false })
	results, err := b.s.RunAll(t.Context(), nil, 4)
	if err != nil || len(results) != 0 || b.sink.sends != 0 {
		t.Fatalf("results %+v err %v sends %d", results, err, b.sink.sends)
	}
	if err := b.db.SetEnabled(t.Context(), id, true); err != nil {
		t.Fatal(err)
	}
	results, _ = b.s.RunAll(t.Context(), nil, 4)
	if len(results) != 1 || results[0].Audit != 1 {
		t.Fatalf("after enable: %+v", results)
	}
}

func TestHostFromAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctA, "a")
	host := "us-2.example.net"
	if err := b.db.UpdateAccount(t.Context(), acctA, nil, &host); err != nil {
		t.Fatal(err)
	}
	id := b.integration(t, acctA, nil)
	var body []byte
	b.sink.SendFunc = func(b []byte, _ int) error { body = append(body, b...); return nil }
	b.s.Cycle(t.Context(), id)
	if !bytes.Contains(body, []byte(host)) {
		t.Fatalf("body %s lacks the account host", body)
	}
}

func TestSchedulerSlowIntegrationDoesNotHoldBackOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, acctB, "fast-1")
	slow := b.integration(t, acctA, nil)
	fast := b.integration(t, acctB, nil)
	hanging, release := make(chan struct{}), make(chan struct{})
	b.sink.SendFunc = func(body []byte, _ int) error {
		if bytes.Contains(body, []byte(`"slow-1"`)) {
			close(hanging)
			<-release
		}
		return nil
	}
	sc, err := ssync.NewScheduler(b.s, "@every 1s", 4, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	sc.Start(context.Background())
	defer sc.Stop(10 * time.Second)
	defer close(release)

	// The slow integration gets a record only once the first tick is over,
	// so that its cycle hangs inside a scheduled tick.
	deadline := time.Now().Add(30 * time.Second)
	for !finishedRun(t, b.db, slow) || !finishedRun(t, b.db, fast) {
		if time.Now().After(deadline) {
			t.Fatal("the first tick did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.audit(t, acctA, "slow-1")
	select {
	case <-hanging:
	case <-time.After(30 * time.Second):
		t.Fatal("the slow integration's cycle never started")
	}
	fastRuns := func() int {
		runs, err := b.db.RecentRuns(t.Context(), fast, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs)
	}
	// While it hangs, the fast one keeps getting its cycles, and the slow
	// one never gets a second at once.
	before := fastRuns()
	deadline = time.Now().Add(30 * time.Second)
	for fastRuns() < before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("the fast integration ran %d more cycles while the slow one hung, want 2", fastRuns()-before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	runs, _ := b.db.RecentRuns(t.Context(), slow, 100)
	if n := len(runs); n < 1 || runs[0].Finished != nil {
		t.Errorf("slow integration: %d runs, newest %+v; want its hanging cycle newest and unfinished", n, runs[0])
	}
	for _, r := range runs[1:] {
		if r.Finished == nil {
			t.Errorf("two unfinished cycles of the slow integration: %+v", runs)
		}
	}
}

func finishedRun(t *testing.T, db *sqlite.DB, id string) bool {
	runs, err := db.RecentRuns(t.Context(), id, 1)
	if err != nil {
		t.Fatal(err)
	}
	return len(runs) == 1 && runs[0].Finished != nil
}

// TestBacklogTurnsBoundLargeBatches: cycles whose batches outgrow small
// buffers take turns (Config.BacklogConcurrency), so memory is bounded by
// the turns, not by the cycles running at once; both backlogs still drain.
func TestBacklogTurnsBoundLargeBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const records = 4000 // ~90 bytes each in the fake sink: one batch of ~350 KiB
	var ids [2][]string
	for i, acct := range []string{acctA, acctB} {
		for n := range records {
			ids[i] = append(ids[i], fmt.Sprintf("%s-big-%d", acct[:4], n))
		}
		b.audit(t, acct, ids[i]...)
	}
	a := b.integration(t, acctA, nil)
	c := b.integration(t, acctB, nil)
	var large, most atomic.Int32
	b.sink.SendFunc = func(body []byte, _ int) error {
		if len(body) <= 256<<10 {
			return nil
		}
		now := large.Add(1)
		defer large.Add(-1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		time.Sleep(100 * time.Millisecond)
		return nil
	}
	s := ssync.New(ssync.Config{
		Store: b.db, Hostname: "eu-1.example.net", PageSize: 1000, BacklogConcurrency: 1,
		Open:   func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
		Logger: zerolog.New(zerolog.NewTestWriter(t)),
	})
	results, err := s.RunAll(t.Context(), []string{a, c}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil || r.Audit != records {
			t.Errorf("cycle of %s: %d audit events, err %v; want %d", r.Integration, r.Audit, r.Err, records)
		}
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d large batches in flight at once, want 1 (one backlog turn)", m)
	}
}

// TestBacklogTurnWaitEndsWithTheCycle: a cycle waiting for a backlog turn
// that never comes ends with its context, sends nothing and moves no
// checkpoint; once the turn is free its next cycle sends everything.
func TestBacklogTurnWaitEndsWithTheCycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const records = 4000 // one batch of ~350 KiB in the fake sink
	for _, acct := range []string{acctA, acctB} {
		var ids []string
		for n := range records {
			ids = append(ids, fmt.Sprintf("%s-wait-%d", acct[:4], n))
		}
		b.audit(t, acct, ids...)
	}
	holder := b.integration(t, acctA, nil)
	waiter := b.integration(t, acctB, nil)
	holding, release := make(chan struct{}), make(chan struct{})
	var once gosync.Once
	b.sink.SendFunc = func(body []byte, _ int) error {
		if bytes.Contains(body, []byte(acctA[:4]+"-wait-")) {
			once.Do(func() { close(holding) })
			<-release
		}
		return nil
	}
	s := ssync.New(ssync.Config{
		Store: b.db, Hostname: "eu-1.example.net", PageSize: 1000, BacklogConcurrency: 1,
		Open:   func(context.Context, *siemsync.Integration) (ssync.Sink, error) { return b.sink, nil },
		Logger: zerolog.New(zerolog.NewTestWriter(t)),
	})
	held := make(chan ssync.Result, 1)
	go func() { held <- s.Cycle(t.Context(), holder) }()
	<-holding // the holder's large batch is in flight: it has the only turn

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if res := s.Cycle(ctx, waiter); !errors.Is(res.Err, context.DeadlineExceeded) || res.Audit != 0 {
		t.Fatalf("waiting cycle = %d events, %v; want none sent and the deadline", res.Audit, res.Err)
	}
	if cp, err := b.db.Checkpoints(t.Context(), waiter); err != nil || cp.Audit != 0 {
		t.Fatalf("waiter's checkpoint %+v, %v; want it unmoved", cp, err)
	}
	close(release)
	if res := <-held; res.Err != nil || res.Audit != records {
		t.Fatalf("holder: %d events, %v", res.Audit, res.Err)
	}
	if res := s.Cycle(t.Context(), waiter); res.Err != nil || res.Audit != records {
		t.Fatalf("waiter's next cycle: %d events, %v; want %d", res.Audit, res.Err, records)
	}
}

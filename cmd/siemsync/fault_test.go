package main

// The fault-injection suite: the real binary against a HEC receiver that
// fails on command. Every scenario ingests the same backlog, runs
// `sync --once` until a cycle succeeds with every id delivered, and counts
// by event id what arrived: nothing may be lost, and duplicates stay within
// what the fault can explain (one batch per request that was indexed but
// whose answer never reached siemsync).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/hecrecv"
)

const (
	faultRecords = 2000
	faultBatch   = 200
)

type faultScenario struct {
	name      string
	opts      hecrecv.Options
	add       []string // extra `integrations add` flags
	env       []string // extra environment of every command
	records   int      // default faultRecords
	batch     int      // --max-batch-events, default faultBatch
	maxCycles int      // default 8
	poison    []int    // indexes of the records the receiver refuses (code 6)
	// fault sets the receiver's behaviour before cycle n (1-based).
	fault func(f *faultRun, n int)
	// maxDups is the number of duplicates the scenario can explain.
	maxDups func(f *faultRun) int
	// check makes the scenario's own assertions once the run is over.
	check func(t *testing.T, f *faultRun)
}

// faultRun is one scenario's installation and what happened to it.
type faultRun struct {
	*install
	sc       *faultScenario
	id       string   // the integration
	ids      []string // every record ingested
	expected []string // the ids that must arrive (all but the poison)
	codes    []int    // exit code of each cycle
	rows     []syncRow
	cycleEnd []time.Time
}

// healWhen heals the receiver (in the background) once cond holds of the
// requests the tap has seen.
func (f *faultRun) healWhen(cond func([]eventReq) bool) {
	ctx := f.t.Context()
	go func() {
		for ctx.Err() == nil {
			if cond(f.tap.requests()) {
				f.recv.SetFault(hecrecv.Fault{})
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
}

// cycleReqs returns the event requests made during cycle n (1-based).
func (f *faultRun) cycleReqs(n int) []eventReq {
	var from time.Time
	if n > 1 {
		from = f.cycleEnd[n-2]
	}
	to := f.cycleEnd[n-1]
	var out []eventReq
	for _, r := range f.tap.requests() {
		if !r.start.Before(from) && r.start.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

func countReqs(reqs []eventReq, pred func(eventReq) bool) int {
	n := 0
	for _, r := range reqs {
		if pred(r) {
			n++
		}
	}
	return n
}

func status(code int) func(eventReq) bool {
	return func(r eventReq) bool { return r.status == code }
}

func clientGone(r eventReq) bool { return r.clientGone }

// indexedUnanswered: the receiver kept the batch (200) but siemsync had
// given up before the answer arrived (on a loaded machine a healthy
// request can outlast the request timeout). Each may cause its batch
// once more: the only duplicates the contract allows.
func indexedUnanswered(r eventReq) bool { return r.clientGone && r.status == http.StatusOK }

// until applies fault for cycles 1..n and heals the receiver afterwards.
func until(n int, fault hecrecv.Fault) func(*faultRun, int) {
	return func(f *faultRun, c int) {
		if c <= n {
			f.recv.SetFault(fault)
		} else {
			f.recv.SetFault(hecrecv.Fault{})
		}
	}
}

func zeroDups(*faultRun) int { return 0 }

// wantCodes checks the exit code of each cycle.
func wantCodes(want ...int) func(*testing.T, *faultRun) {
	return func(t *testing.T, f *faultRun) {
		t.Helper()
		if !slices.Equal(f.codes, want) {
			t.Errorf("exit codes per cycle = %v, want %v", f.codes, want)
		}
	}
}

// dupsOnlyInFirstBatch checks that every duplicated id belongs to the
// first batch: the one in flight when the fault hit.
func dupsOnlyInFirstWindow(t *testing.T, f *faultRun) {
	t.Helper()
	first := map[string]bool{}
	for _, id := range f.ids[:min(len(f.ids), f.sc.batch*siemsync.DefaultMaxInFlight)] {
		first[id] = true
	}
	for id, n := range f.recv.IDs() {
		if n > 1 && !first[id] {
			t.Errorf("%s arrived %d times but was not in the batches in flight when the fault hit", id, n)
		}
	}
}

// retryAfterHonoured checks that after every answer carrying Retry-After: 1
// siemsync started no request for at least that long: the pause holds for
// every request of the window, not only the one that was answered.
func retryAfterHonoured(code int) func(*testing.T, *faultRun) {
	return func(t *testing.T, f *faultRun) {
		t.Helper()
		reqs := f.tap.requests()
		faulted := 0
		for _, r := range reqs {
			if r.status != code {
				continue
			}
			faulted++
			// A request that starts within raceWindow of the answer was on
			// its way before siemsync read it (the window sends in parallel).
			const raceWindow = 50 * time.Millisecond
			for _, next := range reqs {
				if gap := next.start.Sub(r.end); gap > raceWindow && gap < 950*time.Millisecond {
					t.Errorf("a request started %s after a %d with Retry-After: 1", gap.Round(time.Millisecond), code)
				}
			}
		}
		if faulted < 3 {
			t.Errorf("%d answers %d, want at least 3", faulted, code)
		}
		wantCodes(0)(t, f)
	}
}

var faultScenarios = []faultScenario{
	{
		name:    "down 3 cycles then up",
		fault:   until(3, hecrecv.Fault{Down: true}),
		maxDups: zeroDups,
		check:   wantCodes(1, 1, 1, 0),
	},
	{
		name:    "30% of requests 503",
		opts:    hecrecv.Options{Seed: 42},
		env:     []string{"SIEMSYNC_RETRY_BUDGET=20s"},
		fault:   func(f *faultRun, _ int) { f.recv.SetFault(hecrecv.Fault{FailRatio: 0.3}) },
		maxDups: zeroDups, // a 503 means nothing was indexed
		check: func(t *testing.T, f *faultRun) {
			if n := countReqs(f.tap.requests(), status(http.StatusServiceUnavailable)); n == 0 {
				t.Errorf("no request was answered 503")
			}
		},
	},
	{
		// The measurement: a 413 split whose first half is
		// accepted and whose second half runs out of budget. The accepted
		// half moves the checkpoint; the next cycle does not send it again.
		name:      "30% of requests 503 and 413 above 64 KiB",
		opts:      hecrecv.Options{Seed: 7},
		add:       []string{"--max-batch-bytes", "1048576"},
		batch:     1000,
		env:       []string{"SIEMSYNC_RETRY_BUDGET=2s"},
		maxCycles: 30,
		fault: func(f *faultRun, _ int) {
			f.recv.SetFault(hecrecv.Fault{FailRatio: 0.3, MaxBytes: 64 << 10})
		},
		maxDups: zeroDups, // neither a 503 nor a 413 indexes anything
		check: func(t *testing.T, f *faultRun) {
			if n := countReqs(f.tap.requests(), status(http.StatusRequestEntityTooLarge)); n == 0 {
				t.Errorf("no request was answered 413")
			}
		},
	},
	{
		// Four requests in flight answered in random order, some 503: the
		// checkpoint moves over the contiguous prefix only, and what was
		// accepted beyond a gap is not sent again.
		name:      "answers out of order in the window, 30% 503",
		opts:      hecrecv.Options{Seed: 11},
		batch:     50,
		env:       []string{"SIEMSYNC_RETRY_BUDGET=1s"},
		maxCycles: 30,
		fault: func(f *faultRun, _ int) {
			f.recv.SetFault(hecrecv.Fault{FailRatio: 0.3, Jitter: 100 * time.Millisecond})
		},
		maxDups: zeroDups,
		check: func(t *testing.T, f *faultRun) {
			if n := countReqs(f.tap.requests(), status(http.StatusServiceUnavailable)); n == 0 {
				t.Errorf("no request was answered 503")
			}
		},
	},
	{
		name: "503 with Retry-After: 1",
		env:  []string{"SIEMSYNC_RETRY_BUDGET=20s"},
		fault: func(f *faultRun, n int) {
			if n == 1 {
				f.recv.SetFault(hecrecv.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1"})
				f.healWhen(func(r []eventReq) bool { return countReqs(r, status(503)) >= 3 })
			}
		},
		maxDups: zeroDups,
		check:   retryAfterHonoured(http.StatusServiceUnavailable),
	},
	{
		name: "429 code 26 with Retry-After: 1",
		env:  []string{"SIEMSYNC_RETRY_BUDGET=20s"},
		fault: func(f *faultRun, n int) {
			if n == 1 {
				f.recv.SetFault(hecrecv.Fault{Status: http.StatusTooManyRequests, Code: 26, RetryAfter: "1"})
				f.healWhen(func(r []eventReq) bool { return countReqs(r, status(429)) >= 3 })
			}
		},
		maxDups: zeroDups,
		check:   retryAfterHonoured(http.StatusTooManyRequests),
	},
	{
		name:    "502 HTML page from a load balancer",
		fault:   until(1, hecrecv.Fault{Status: http.StatusBadGateway, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}),
		maxDups: zeroDups,
		check:   wantCodes(1, 0),
	},
	{
		name:    "connection resets for 2 cycles",
		fault:   until(2, hecrecv.Fault{ResetConn: true}),
		maxDups: zeroDups,
		check:   wantCodes(1, 1, 0),
	},
	{
		// hecrecv drops a request whose client gave up: nothing indexed.
		name:    "slow answers past the request timeout",
		env:     []string{"SIEMSYNC_REQUEST_TIMEOUT=2s", "SIEMSYNC_RETRY_BUDGET=4s"},
		fault:   until(2, hecrecv.Fault{Delay: 3 * time.Second}),
		maxDups: zeroDups,
		check: func(t *testing.T, f *faultRun) {
			wantCodes(1, 1, 0)(t, f)
			if n := countReqs(f.tap.requests(), clientGone); n == 0 {
				t.Errorf("no request timed out")
			}
		},
	},
	{
		// The worst case of a timeout: the batch was indexed, the answer
		// came too late. Each such request may duplicate its batch.
		name: "indexed but answered past the timeout",
		env:  []string{"SIEMSYNC_REQUEST_TIMEOUT=2s", "SIEMSYNC_RETRY_BUDGET=4s"},
		fault: func(f *faultRun, n int) {
			late := 3 * time.Second
			if n > 2 {
				late = 0
			}
			f.tap.lateAnswer.Store(int64(late))
		},
		maxDups: func(f *faultRun) int { return countReqs(f.tap.requests(), clientGone) * f.sc.batch },
		check: func(t *testing.T, f *faultRun) {
			wantCodes(1, 1, 0)(t, f)
			dupsOnlyInFirstWindow(t, f)
		},
	},
	{
		name:    "413 above 64 KiB",
		add:     []string{"--max-batch-bytes", "1048576"},
		batch:   1000,
		fault:   until(100, hecrecv.Fault{MaxBytes: 64 << 10}),
		maxDups: zeroDups,
		check: func(t *testing.T, f *faultRun) {
			wantCodes(0)(t, f)
			if n := countReqs(f.tap.requests(), status(http.StatusRequestEntityTooLarge)); n == 0 {
				t.Errorf("no request was answered 413")
			}
			if f.rows[0].SetAside != 0 {
				t.Errorf("%d events set aside; every event fits alone", f.rows[0].SetAside)
			}
		},
	},
	{
		name:    "poison event, code 6 with invalid-event-number",
		poison:  []int{777},
		fault:   func(*faultRun, int) {},
		maxDups: zeroDups,
		check:   checkPoison,
	},
	{
		name:   "poison events, code 6 without invalid-event-number",
		poison: []int{5, 777, 1999},
		fault: func(f *faultRun, _ int) {
			f.tap.stripInvalid.Store(true)
		},
		maxDups: zeroDups,
		check:   checkPoison,
	},
	{
		name:    "ack mode, acknowledged late",
		opts:    hecrecv.Options{Ack: true},
		add:     []string{"--ack", "--ack-timeout", "3s"},
		fault:   until(100, hecrecv.Fault{AckDelay: 500 * time.Millisecond}),
		maxDups: zeroDups,
		check:   wantCodes(0),
	},
	{
		name:  "ack mode, never acknowledged then healthy",
		opts:  hecrecv.Options{Ack: true},
		add:   []string{"--ack", "--ack-timeout", "1s"},
		fault: until(1, hecrecv.Fault{AckNever: true}),
		// Every batch posted while acks never came was indexed and is
		// sent again: one batch per unacknowledged post.
		maxDups: func(f *faultRun) int { return countReqs(f.cycleReqs(1), status(http.StatusOK)) * f.sc.batch },
		check: func(t *testing.T, f *faultRun) {
			wantCodes(1, 0)(t, f)
			dupsOnlyInFirstWindow(t, f)
		},
	},
}

func checkPoison(t *testing.T, f *faultRun) {
	t.Helper()
	wantCodes(0)(t, f)
	if got, want := f.rows[0].SetAside, int64(len(f.sc.poison)); got != want {
		t.Errorf("sync summary: set_aside=%d, want %d", got, want)
	}
	var list []struct {
		EventID string `json:"event_id"`
		Reason  string `json:"reason"`
	}
	out := f.ok("", "setaside", "list", f.id, "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("setaside list --json: %v\n%s", err, out)
	}
	var got, want []string
	for _, s := range list {
		got = append(got, s.EventID)
		if !strings.Contains(s.Reason, "code 6") {
			t.Errorf("set-aside reason %q does not name code 6", s.Reason)
		}
	}
	for _, i := range f.sc.poison {
		want = append(want, f.ids[i])
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("set aside %v, want %v", got, want)
	}
}

// faultFigures is one row of the suite's summary.
type faultFigures struct {
	name                            string
	sent, received, lost, dups, cyc int
	requests, timedOut, allowedDups int
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	var mu gosync.Mutex
	var figures []faultFigures
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		order := map[string]int{}
		for i, sc := range faultScenarios {
			order[sc.name] = i
		}
		slices.SortFunc(figures, func(a, b faultFigures) int { return order[a.name] - order[b.name] })
		var b strings.Builder
		fmt.Fprintf(&b, "| scenario | sent | received | lost | duplicated | cycles | requests | timed out | dup bound |\n")
		fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range figures {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d |\n",
				r.name, r.sent, r.received, r.lost, r.dups, r.cyc, r.requests, r.timedOut, r.allowedDups)
		}
		t.Logf("fault-injection figures:\n%s", b.String())
		writeReport(t, "fault injection", b.String())
	})
	for i := range faultScenarios {
		sc := &faultScenarios[i]
		t.Run(strings.ReplaceAll(sc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			fig := runFaultScenario(t, sc)
			mu.Lock()
			figures = append(figures, fig)
			mu.Unlock()
		})
	}
}

func runFaultScenario(t *testing.T, sc *faultScenario) faultFigures {
	if sc.records == 0 {
		sc.records = faultRecords
	}
	if sc.batch == 0 {
		sc.batch = faultBatch
	}
	if sc.maxCycles == 0 {
		sc.maxCycles = 8
	}
	f := &faultRun{install: newInstall(t, sc.opts, sc.env...), sc: sc}
	f.ids = idRange("ev", sc.records)
	poison := map[int]bool{}
	for _, i := range sc.poison {
		poison[i] = true
	}
	var poisonIDs []string
	for i, id := range f.ids {
		if poison[i] {
			poisonIDs = append(poisonIDs, id)
		} else {
			f.expected = append(f.expected, id)
		}
	}
	if out := f.ok(records(f.ids), "ingest", "audit", "-"); !strings.HasPrefix(out, fmt.Sprintf("%d stored", sc.records)) {
		t.Fatalf("ingest: %s", out)
	}
	f.id = f.addHEC(append([]string{"--max-batch-events", fmt.Sprint(sc.batch)}, sc.add...)...)

	var d delivery
	for n := 1; n <= sc.maxCycles; n++ {
		sc.fault(f, n)
		if len(poisonIDs) > 0 {
			flt := f.recv.Fault()
			flt.PoisonIDs = poisonIDs
			f.recv.SetFault(flt)
		}
		code, row, stderr := f.syncOnce()
		f.codes = append(f.codes, code)
		f.rows = append(f.rows, row)
		f.cycleEnd = append(f.cycleEnd, time.Now())
		if code != 0 && row.Error == "" {
			t.Errorf("cycle %d failed without an error message; stderr: %s", n, stderr)
		}
		d = tallyIDs(f.recv.IDs(), f.expected)
		if code == 0 && len(d.lost) == 0 {
			break
		}
	}
	reqs := f.tap.requests()
	fig := faultFigures{
		name: sc.name, sent: d.expected, received: d.received, lost: len(d.lost), dups: d.dups, cyc: len(f.codes),
		requests: len(reqs), timedOut: countReqs(reqs, clientGone), allowedDups: max(sc.maxDups(f), countReqs(reqs, indexedUnanswered)*sc.batch),
	}
	t.Logf("%s: sent %d, received %d, lost %d, duplicated %d, cycles %d (exit codes %v), event requests %d, timed out %d",
		sc.name, fig.sent, fig.received, fig.lost, fig.dups, fig.cyc, f.codes, fig.requests, fig.timedOut)
	if len(d.lost) > 0 {
		t.Errorf("%d events lost, e.g. %v (cycle errors: %v)", len(d.lost), d.lost[:min(5, len(d.lost))], f.rows)
	}
	if len(d.extra) > 0 {
		t.Errorf("unexpected ids arrived (a poison event must be set aside, not delivered): %v", d.extra[:min(5, len(d.extra))])
	}
	if last := f.codes[len(f.codes)-1]; last != 0 {
		t.Errorf("no cycle succeeded in %d", sc.maxCycles)
	}
	if d.dups > fig.allowedDups {
		t.Errorf("%d duplicates; the faults explain at most %d", d.dups, fig.allowedDups)
	}
	if t.Failed() {
		t0 := reqs[0].start
		for i, r := range reqs {
			t.Logf("event request %2d: %6dms..%6dms status %d client gone %v", i+1,
				r.start.Sub(t0).Milliseconds(), r.end.Sub(t0).Milliseconds(), r.status, r.clientGone)
		}
		for i, end := range f.cycleEnd {
			t.Logf("cycle %d ended at %dms: exit %d %+v", i+1, end.Sub(t0).Milliseconds(), f.codes[i], f.rows[i])
		}
	}
	sc.check(t, f)
	return fig
}

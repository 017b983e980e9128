package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/store"
)

// Three serve workers on one PostgreSQL database, 30 integrations over 10
// accounts (one HEC receiver each), records ingested through the API of
// different workers while cycles run; one worker killed with SIGKILL and
// restarted, another killed for good. Every record of every account
// arrives at its own account's integrations only, none is lost, duplicates
// stay within one batch per kill and integration, and the runs of an
// integration never overlap: no integration was in two cycles at once.
func TestWorkersShareOnePostgres(t *testing.T) {
	const (
		accounts = 10
		perAcct  = 3
		chunks   = 8  // API ingests per account
		chunk    = 40 // records per ingest
		batch    = 25 // --max-batch-events
	)
	onPostgres.Store(t, true)
	in := newInstall(t, hecrecv.Options{}, "SIEMSYNC_RETRY_BUDGET=5s", "SIEMSYNC_REQUEST_TIMEOUT=5s")

	acct := func(a int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", a+1) }
	type integ struct {
		id   string
		acct int
		recv *hecrecv.Receiver
	}
	var integs []integ
	for a := range accounts {
		for i := range perAcct {
			recv := hecrecv.New(hecrecv.Options{Tokens: []string{hecToken}})
			// Slow answers, so that kills land while batches are on the wire.
			recv.SetFault(hecrecv.Fault{Delay: 20 * time.Millisecond})
			srv := httptest.NewServer(recv)
			t.Cleanup(srv.Close)
			id := strings.TrimSpace(in.ok("", "integrations", "add", "--account", acct(a), "--create-account", "--name", fmt.Sprintf("splunk-%d", i),
				"--kind", "splunk_hec", "--url", srv.URL, "--token", hecToken, "--sources", "audit",
				"--backfill-since", "2000-01-01T00:00:00Z", "--max-batch-events", strconv.Itoa(batch), "--max-in-flight", "1"))
			integs = append(integs, integ{id: id, acct: a, recv: recv})
		}
	}

	type worker struct {
		id, url string
		p       *proc
		killed  time.Time
	}
	start := func(id string) *worker {
		port := freePort(t)
		w := &worker{id: id, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
		w.p = in.start(nil, nil, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--schedule", "@every 1s",
			"--lease-ttl", "2s", "--worker-id", id, "--concurrency", "8", "--shutdown-grace", "10s")
		waitFor(t, 30*time.Second, "worker "+id+" to listen", func() bool {
			resp, err := http.Get(w.url + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		})
		return w
	}
	workers := []*worker{start("w0"), start("w1"), start("w2")}
	var mu gosync.Mutex // guards workers
	live := func(i int) *worker {
		mu.Lock()
		defer mu.Unlock()
		for k := range workers {
			if w := workers[(i+k)%len(workers)]; w.killed.IsZero() {
				return w
			}
		}
		return nil
	}

	// Ingest through the workers' APIs, round robin, concurrently per account.
	expected := make([][]string, accounts)
	var wg gosync.WaitGroup
	errs := make(chan error, accounts*chunks)
	for a := range accounts {
		for c := range chunks {
			ids := idRange(fmt.Sprintf("a%02d-c%02d", a, c), chunk)
			expected[a] = append(expected[a], ids...)
		}
		wg.Go(func() {
			for c := range chunks {
				body := strings.ReplaceAll(records(expected[a][c*chunk:(c+1)*chunk]), accA, acct(a))
				for attempt := 0; ; attempt++ {
					w := live(a + c)
					err := postIngest(w.url, acct(a), body)
					if err == nil {
						break
					}
					if attempt == 20 {
						errs <- fmt.Errorf("ingest account %d chunk %d: %v", a, c, err)
						return
					}
					time.Sleep(200 * time.Millisecond) // the worker was killed: another one takes it
				}
				time.Sleep(150 * time.Millisecond)
			}
		})
	}

	delivered := func() int {
		n := 0
		for _, ig := range integs {
			got := ig.recv.IDs()
			for _, id := range expected[ig.acct] {
				if got[id] > 0 {
					n++
				}
			}
		}
		return n
	}
	total := accounts * perAcct * chunks * chunk
	kill := func(i int) {
		waitFor(t, 60*time.Second, "cycles to be under way", func() bool { return delivered() > total/(4-i) })
		mu.Lock()
		w := workers[i]
		mu.Unlock()
		w.p.kill(t, syscall.SIGKILL)
		mu.Lock()
		w.killed = time.Now()
		mu.Unlock()
		t.Logf("killed %s with %d of %d deliveries done", w.id, delivered(), total)
	}
	kill(1)
	w3 := start("w1-restarted")
	mu.Lock()
	workers = append(workers, w3)
	mu.Unlock()
	kill(2)

	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "every record at every integration", func() bool { return delivered() == total })
	for _, w := range []*worker{workers[0], workers[3]} {
		w.p.kill(t, syscall.SIGTERM)
		if w.p.code != 0 {
			t.Errorf("worker %s exited %d after SIGTERM: %s", w.id, w.p.code, w.p.stderr.String())
		}
	}

	// Own account only, nothing lost, duplicates within one batch per kill.
	var dupsTotal int
	for _, ig := range integs {
		d := tallyIDs(ig.recv.IDs(), expected[ig.acct])
		dupsTotal += d.dups
		if len(d.lost) > 0 || len(d.extra) > 0 {
			t.Errorf("integration of account %d: lost %d, %d records of other accounts (%v)", ig.acct, len(d.lost), len(d.extra), d.extra[:min(3, len(d.extra))])
		}
		if d.dups > 2*batch {
			t.Errorf("integration of account %d: %d duplicates, want at most one batch (%d) per kill", ig.acct, d.dups, batch)
		}
	}

	// No two cycles of one integration at once: a run ends (finished, or
	// the kill of its worker) before the next one starts.
	db, err := openStore(t.Context(), in.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	killedAt := map[string]time.Time{"w1": workers[1].killed, "w2": workers[2].killed}
	workersSeen := map[string]bool{}
	var runs int
	for _, ig := range integs {
		rs, err := db.RecentRuns(t.Context(), ig.id, 1000)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(rs, func(a, b store.Run) int { return a.Started.Compare(b.Started) })
		runs += len(rs)
		for i, r := range rs {
			workersSeen[r.Worker] = true
			end := killedAt[r.Worker]
			if r.Finished != nil {
				end = *r.Finished
			}
			if end.IsZero() {
				t.Errorf("integration %s: run %d of live worker %s never finished", ig.id, r.ID, r.Worker)
				continue
			}
			if i+1 < len(rs) && rs[i+1].Started.Before(end.Truncate(time.Millisecond)) {
				t.Errorf("integration %s: run %d (%s, %s to %s) overlaps run %d (%s, from %s)", ig.id, r.ID, r.Worker,
					r.Started.Format(time.StampMilli), end.Format(time.StampMilli), rs[i+1].ID, rs[i+1].Worker, rs[i+1].Started.Format(time.StampMilli))
			}
		}
	}
	if len(workersSeen) < 3 {
		t.Errorf("runs by %v: the cycles did not spread over the workers", workersSeen)
	}
	t.Logf("%d records × %d integrations delivered, %d duplicates, %d runs by %d workers",
		accounts*chunks*chunk, perAcct, dupsTotal, runs, len(workersSeen))
}

func postIngest(url, account, body string) error {
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/accounts/"+account+"/audit", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

package main

// Leases through the real binary (SPEC §6.2): serve and cron `sync --once`
// on one SQLite file never sync one integration at once, and a worker
// stopped past its lease cannot move the checkpoint of the worker that
// took over.

import (
	"encoding/json"
	"fmt"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

// TestServeAndCronSyncOnce: serve on a 1 s schedule plus a stream of
// `sync --once` processes against a slow HEC, while records are ingested:
// every id arrives exactly once, and some sync --once runs found the
// integration leased and said so (exit 0).
func TestServeAndCronSyncOnce(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	in.recv.SetFault(hecrecv.Fault{Delay: 150 * time.Millisecond})
	var expected []string
	first := idRange("cron0", 2000)
	expected = append(expected, first...)
	in.ok(records(first), "ingest", "audit", "-")
	in.addHEC("--max-batch-events", "100")

	srv := in.start(nil, nil, "serve", "--listen", "127.0.0.1:0", "--schedule", "@every 1s", "--shutdown-grace", "10s")
	var (
		mu                  gosync.Mutex
		skipped, synced     int
		wg                  gosync.WaitGroup
		exitCodes, failures []string
	)
	for w := range 3 {
		wg.Go(func() {
			for i := range 5 {
				stdout, stderr, code := in.run(nil, "", "sync", "--once", "--json")
				var rows []struct {
					OK      bool   `json:"ok"`
					Skipped bool   `json:"skipped"`
					Error   string `json:"error"`
				}
				jerr := json.Unmarshal([]byte(stdout), &rows)
				mu.Lock()
				if code != 0 || jerr != nil {
					exitCodes = append(exitCodes, fmt.Sprintf("worker %d run %d: exit %d %s %s", w, i, code, stdout, stderr))
				}
				for _, r := range rows {
					switch {
					case r.Skipped:
						skipped++
					case r.OK:
						synced++
					default:
						failures = append(failures, r.Error)
					}
				}
				mu.Unlock()
			}
		})
	}
	for k := range 5 { // records keep arriving meanwhile
		more := idRange(fmt.Sprintf("cron%d", k+1), 300)
		expected = append(expected, more...)
		in.ok(records(more), "ingest", "audit", "-")
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()
	waitFor(t, 60*time.Second, "every record at the receiver", func() bool { return len(in.recv.IDs()) >= len(expected) })
	srv.kill(t, syscall.SIGTERM)

	d := tallyIDs(in.recv.IDs(), expected)
	t.Logf("serve + 15 sync --once: sent %d, received %d, lost %d, duplicated %d; sync --once synced %d, skipped %d",
		d.expected, d.received, len(d.lost), d.dups, synced, skipped)
	writeReport(t, "serve beside cron sync --once", fmt.Sprintf("%d records, 15 sync --once runs beside serve: lost %d, duplicated %d; %d runs found the integration leased\n",
		d.expected, len(d.lost), d.dups, skipped))
	if len(d.lost) > 0 || d.dups > 0 {
		t.Errorf("lost %d, duplicated %d; want 0 and 0 (e.g. lost %v)", len(d.lost), d.dups, d.lost[:min(5, len(d.lost))])
	}
	if len(exitCodes) > 0 || len(failures) > 0 {
		t.Errorf("sync --once failed beside serve: %v %v", exitCodes, failures)
	}
	if skipped == 0 {
		t.Errorf("no sync --once run found the integration leased: the test did not race serve")
	}
}

// TestStaleWorkerFenced: a serve worker is stopped (SIGSTOP) in the middle
// of a post and stays stopped past its lease. A second worker takes the
// integration over and delivers everything. When the first resumes, its
// commit is refused: the checkpoint stays the second worker's, and the
// only duplicates are the batch it had in flight.
func TestStaleWorkerFenced(t *testing.T) {
	t.Parallel()
	const batch = 200
	in := newInstall(t, hecrecv.Options{})
	ids := idRange("stale", 10*batch)
	in.ok(records(ids), "ingest", "audit", "-")
	in.addHEC("--max-batch-events", fmt.Sprint(batch), "--max-in-flight", "1")
	in.recv.SetFault(hecrecv.Fault{Delay: 2 * time.Second})

	args := []string{"serve", "--listen", "127.0.0.1:0", "--schedule", "@every 1s", "--shutdown-grace", "5s", "--lease-ttl", "2s"}
	a := in.start([]string{"SIEMSYNC_WORKER_ID=worker-a", "SIEMSYNC_REQUEST_TIMEOUT=60s"}, nil, args...)
	waitFor(t, 30*time.Second, "worker a's first post", func() bool { return in.tap.inflight.Load() > 0 })
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	in.recv.SetFault(hecrecv.Fault{})
	time.Sleep(3 * time.Second) // past worker a's lease
	b := in.start([]string{"SIEMSYNC_WORKER_ID=worker-b"}, nil, args...)
	waitFor(t, 60*time.Second, "worker b to deliver everything", func() bool { return len(in.recv.IDs()) >= len(ids) })
	waitFor(t, 10*time.Second, "worker b in the status", func() bool {
		return strings.Contains(in.ok("", "integrations", "list", "--json"), `"last_worker": "worker-b"`)
	})
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // worker a's post ends; its commit must be refused
	a.kill(t, syscall.SIGTERM)
	b.kill(t, syscall.SIGTERM)

	d := tallyIDs(in.recv.IDs(), ids)
	t.Logf("stale worker: sent %d, received %d, lost %d, duplicated %d", d.expected, d.received, len(d.lost), d.dups)
	if len(d.lost) > 0 || d.dups > batch {
		t.Errorf("lost %d, duplicated %d; want 0 lost and at most the stale worker's batch in flight (%d)", len(d.lost), d.dups, batch)
	}
	if !strings.Contains(a.stderr.String(), "taken over") {
		t.Errorf("the stale worker did not report that its lease was taken over:\n%s", a.stderr.String())
	}
	// Nothing is left to send: a final cycle delivers nothing new.
	if code, row, stderr := in.syncOnce(); code != 0 || row.Audit != 0 {
		t.Errorf("final sync: exit %d %+v %s", code, row, stderr)
	}
}

package main

// The crash test: SIGKILL the worker at random instants of a large sync, and
// the ingest of more records, restart, and prove that nothing is lost and
// that each kill costs at most the batch in flight. The SIGTERM tests: a
// graceful stop lets the batch in flight finish, commits its checkpoint and
// starts nothing new.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/store"
)

const (
	crashBacklog = 20000 // records ingested before the first kill
	crashBatch   = 500   // --max-batch-events
	crashWindow  = 2     // --max-in-flight: a kill may leave this many batches delivered but uncommitted
	crashChunk   = 2000  // records of each ingest that is killed
)

var storedRE = regexp.MustCompile(`^(\d+) stored \((\d+) read, (\d+) duplicates\)`)

// parseStored reads the `ingest` summary line.
func parseStored(t *testing.T, out string) (stored, read, dups int) {
	t.Helper()
	m := storedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ingest printed %q", out)
	}
	stored, _ = strconv.Atoi(m[1])
	read, _ = strconv.Atoi(m[2])
	dups, _ = strconv.Atoi(m[3])
	return stored, read, dups
}

func TestCrashSIGKILL(t *testing.T) {
	t.Parallel()
	kills := 20
	if v, err := strconv.Atoi(os.Getenv("SIEMSYNC_CRASH_KILLS")); err == nil && v > 0 {
		kills = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("SIEMSYNC_CRASH_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("crash test: %d kills, seed %d (rerun with SIEMSYNC_CRASH_SEED=%d)", kills, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	in := newInstall(t, hecrecv.Options{}, "SIEMSYNC_RETRY_BUDGET=10s", "SIEMSYNC_REQUEST_TIMEOUT=10s")
	// Slow the receiver on both sides of keeping a batch, so that kills land
	// while a post is on the wire and after the batch was indexed but
	// before its answer (and so its checkpoint) reached siemsync.
	in.recv.SetFault(hecrecv.Fault{Delay: 50 * time.Millisecond})
	in.tap.lateAnswer.Store(int64(20 * time.Millisecond))

	expected := idRange("base", crashBacklog)
	if stored, _, _ := parseStored(t, in.ok(records(expected), "ingest", "audit", "-")); stored != crashBacklog {
		t.Fatalf("stored %d of the backlog", stored)
	}
	in.addHEC("--max-batch-events", strconv.Itoa(crashBatch), "--max-in-flight", strconv.Itoa(crashWindow))

	var (
		serveKills, duringPost, afterIndex, between int
		pendingSum, pendingMax, pendingKills        int
		ingests, ingestKills, ingestNone, ingestAll int
	)
	serveArgs := []string{"serve", "--listen", "127.0.0.1:0", "--schedule", "@every 1s", "--shutdown-grace", "5s", "--lease-ttl", "1s"}
	for k := range kills {
		// Keep a backlog, so that every run has batches to send.
		if len(expected)-len(in.recv.IDs()) < 4*crashBatch {
			top := idRange(fmt.Sprintf("top%03d", k), 10*crashBatch)
			in.ok(records(top), "ingest", "audit", "-")
			expected = append(expected, top...)
		}
		posts := in.tap.started.Load()
		srv := in.start(nil, nil, serveArgs...)
		// Every third round also ingests a file and kills that too.
		var ing *proc
		var chunk []string
		var file string
		var ingKillAt time.Duration
		if k%3 == 1 {
			chunk = idRange(fmt.Sprintf("chunk%03d", k), crashChunk)
			file = filepath.Join(in.dir, fmt.Sprintf("chunk%03d.ndjson", k))
			if err := os.WriteFile(file, []byte(records(chunk)), 0o600); err != nil {
				t.Fatal(err)
			}
			// The records trickle in through stdin so that the kill lands
			// before, during or after the transaction that stores them.
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			ing = in.start(nil, pr, "ingest", "audit", "-")
			pr.Close()
			go func(data string) {
				defer pw.Close()
				const pieces = 10
				step := len(data)/pieces + 1
				for i := 0; i < len(data); i += step {
					if _, err := pw.WriteString(data[i:min(i+step, len(data))]); err != nil {
						return // killed
					}
					time.Sleep(10 * time.Millisecond)
				}
			}(records(chunk))
			ingKillAt = time.Duration(rng.Int64N(int64(200 * time.Millisecond)))
		}
		start := time.Now()
		if ing != nil {
			ingests++
			time.Sleep(time.Until(start.Add(ingKillAt)))
			if !ing.exited() {
				ingestKills++
			}
			ing.kill(t, syscall.SIGKILL)
		}
		// Where the kill lands: one run in five at a random instant from
		// its start (opening the store, the first batch being read and
		// built); the others at a random instant after its first post
		// began: during a post, between a post and its checkpoint, while
		// the next batch is built.
		if k%5 == 4 {
			time.Sleep(time.Until(start.Add(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))))
		} else {
			waitFor(t, 30*time.Second, "the restarted worker's first post", func() bool { return in.tap.started.Load() > posts })
			time.Sleep(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))
		}
		inflight, answering := in.tap.inflight.Load(), in.tap.answering.Load()
		if srv.exited() {
			t.Fatalf("serve exited on its own (exit %d): %s", srv.code, srv.stderr.String())
		}
		srv.kill(t, syscall.SIGKILL)
		serveKills++
		switch {
		case answering > 0:
			afterIndex++
		case inflight > 0:
			duringPost++
		default:
			between++
		}
		// Let the receiver finish (or drop) the post the kill cut off, then
		// compare what it holds with the checkpoint siemsync committed.
		time.Sleep(50 * time.Millisecond)
		waitFor(t, 10*time.Second, "the receiver to finish the killed post", func() bool { return in.tap.inflight.Load() == 0 })
		pending := checkCheckpoint(t, in, k)
		pendingSum += pending
		pendingMax = max(pendingMax, pending)
		if pending > 0 {
			pendingKills++
		}
		if ing != nil {
			// All or nothing: either the whole file was stored before the
			// kill, or none of it; loading it again tells which.
			stored, read, dups := parseStored(t, in.ok("", "ingest", "audit", file))
			switch {
			case stored == read && dups == 0:
				ingestNone++
			case stored == 0 && dups == read:
				ingestAll++
			default:
				t.Errorf("ingest killed after %s left part of %s stored: re-ingest stored %d of %d (%d already there)",
					ingKillAt, filepath.Base(file), stored, read, dups)
			}
			expected = append(expected, chunk...)
		}
	}

	// Let the last restart finish the job.
	in.recv.SetFault(hecrecv.Fault{})
	in.tap.lateAnswer.Store(0)
	var d delivery
	cycles := 0
	for cycles < 5 {
		cycles++
		code, row, stderr := in.syncOnce()
		d = tallyIDs(in.recv.IDs(), expected)
		if code == 0 && len(d.lost) == 0 {
			break
		}
		t.Logf("final cycle %d: exit %d, %+v, %s", cycles, code, row, stderr)
		if strings.Contains(row.Error, "another worker holds the lease") {
			// The last serve was killed holding the lease: it is free
			// once the lease's ttl (--lease-ttl 1s) has passed.
			time.Sleep(1100 * time.Millisecond)
		}
	}
	fig := fmt.Sprintf("| kills (serve) | during a post | indexed, answer pending | between posts | kills leaving a delivered batch uncommitted (events) | ingests: killed mid-way / run (then none stored / all stored) | sent | received | lost | duplicated | dup bound (kills × batch) |\n"+
		"|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n"+
		"| %d | %d | %d | %d | %d (%d) | %d / %d (%d / %d) | %d | %d | %d | %d | %d |\n",
		serveKills, duringPost, afterIndex, between, pendingKills, pendingSum, ingestKills, ingests, ingestNone, ingestAll,
		d.expected, d.received, len(d.lost), d.dups, serveKills*crashBatch*crashWindow)
	t.Logf("crash figures (seed %d):\n%s", seed, fig)
	writeReport(t, "crash (SIGKILL)", fmt.Sprintf("seed %d\n\n%s", seed, fig))
	if len(d.lost) > 0 {
		t.Errorf("%d events lost after %d kills, e.g. %v", len(d.lost), serveKills, d.lost[:min(5, len(d.lost))])
	}
	if len(d.extra) > 0 {
		t.Errorf("unexpected ids arrived: %v", d.extra[:min(5, len(d.extra))])
	}
	// A restart resends only what was delivered but not committed when the
	// process died: at most the batches in flight.
	if d.dups > pendingSum || d.dups > serveKills*crashBatch*crashWindow {
		t.Errorf("%d duplicates after %d kills; the kills left only %d delivered events uncommitted (at most %d per kill)",
			d.dups, serveKills, pendingSum, crashBatch*crashWindow)
	}
	if duringPost+afterIndex == 0 {
		t.Errorf("no kill landed during a post; the test does not exercise what it should")
	}
}

// checkCheckpoint compares, right after a kill, the audit checkpoint
// committed in the database with what the receiver holds. Every record at or
// below the checkpoint must have arrived (else the checkpoint skipped it: a
// loss), and the records that arrived above it, which the restart sends
// again, must fit in one batch. It returns how many there are.
func checkCheckpoint(t *testing.T, in *install, kill int) int {
	t.Helper()
	// Through the store, so that the check reads either backend.
	db, err := openStore(t.Context(), in.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ins, err := db.ListIntegrations(t.Context(), "")
	if err != nil || len(ins) != 1 {
		t.Fatalf("read the integration after kill %d: %d, %v", kill+1, len(ins), err)
	}
	cp, err := db.Checkpoints(t.Context(), ins[0].ID)
	if err != nil {
		t.Fatalf("read the checkpoint after kill %d: %v", kill+1, err)
	}
	got := in.recv.IDs()
	committed := map[string]bool{}
	var page []siemsync.Audit
	for after := int64(0); ; after = page[len(page)-1].Seq {
		page, err = db.AuditPage(t.Context(), store.AuditQuery{Account: ins[0].Account, After: after, Limit: 1000}, page)
		if err != nil {
			t.Fatalf("read records after kill %d: %v", kill+1, err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			// Committed: at or below the checkpoint, or in a range the
			// destination accepted beyond it (a later request of the
			// window answered first).
			if a.Seq > cp.Audit && !slices.ContainsFunc(cp.AuditAccepted, func(r store.Range) bool { return r.Contains(a.Seq) }) {
				continue
			}
			committed[a.ID] = true
			if got[a.ID] == 0 {
				t.Errorf("after kill %d the checkpoint is past %s, which never arrived: it is lost", kill+1, a.ID)
			}
		}
	}
	pending := 0
	for id := range got {
		if !committed[id] {
			pending++
		}
	}
	if pending > crashBatch*crashWindow {
		t.Errorf("after kill %d, %d delivered events are neither below the checkpoint nor in an accepted range: more than the %d batches (%d events) in flight",
			kill+1, pending, crashWindow, crashBatch*crashWindow)
	}
	return pending
}

// TestSIGTERMFinishesInFlightBatch: SIGTERM during a post lets that batch
// finish and commit, starts no other batch, and exits 0 well within the
// grace period.
func TestSIGTERMFinishesInFlightBatch(t *testing.T) {
	t.Parallel()
	const post = 2 * time.Second
	in := newInstall(t, hecrecv.Options{}, "SIEMSYNC_REQUEST_TIMEOUT=30s")
	ids := idRange("term", 10*crashBatch)
	in.ok(records(ids), "ingest", "audit", "-")
	in.addHEC("--max-batch-events", strconv.Itoa(crashBatch), "--max-in-flight", strconv.Itoa(crashWindow))
	in.recv.SetFault(hecrecv.Fault{Delay: post})

	const grace = 20 * time.Second
	srv := in.start(nil, nil, "serve", "--listen", "127.0.0.1:0", "--schedule", "@every 1h", "--shutdown-grace", grace.String())
	waitFor(t, 30*time.Second, "the first post", func() bool { return in.tap.inflight.Load() > 0 })
	time.Sleep(post / 4) // well inside the post
	sent := time.Now()
	srv.kill(t, syscall.SIGTERM)
	took := time.Since(sent)
	t.Logf("SIGTERM during a %s post: exit %d after %s", post, srv.code, took.Round(time.Millisecond))
	if srv.code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0\n%s", srv.code, srv.stderr.String())
	}
	if took > post+5*time.Second {
		t.Errorf("took %s to stop after SIGTERM; the batch in flight needed at most %s", took, post)
	}
	if strings.Contains(srv.stderr.String(), graceExpiredLog) {
		t.Errorf("the batches in flight finished within the grace period, yet serve says it abandoned them:\n%s", srv.stderr.String())
	}
	// The batches in flight when SIGTERM came finish; no other starts.
	got := in.recv.IDs()
	if len(got) < crashBatch || len(got) > crashWindow*crashBatch || len(got)%crashBatch != 0 {
		t.Errorf("%d events delivered by the stopped worker, want the whole batches in flight (1 to %d of %d events)", len(got), crashWindow, crashBatch)
	}

	// The in-flight batch's checkpoint was committed: the next cycle sends
	// the rest and nothing twice.
	in.recv.SetFault(hecrecv.Fault{})
	if code, row, stderr := in.syncOnce(); code != 0 {
		t.Fatalf("sync after SIGTERM: exit %d %+v %s", code, row, stderr)
	}
	d := tallyIDs(in.recv.IDs(), ids)
	t.Logf("after restart: sent %d, received %d, lost %d, duplicated %d", d.expected, d.received, len(d.lost), d.dups)
	writeReport(t, "SIGTERM", fmt.Sprintf("SIGTERM during a %s post (grace %s): exit %d after %s; %d events, lost %d, duplicated %d\n",
		post, grace, srv.code, took.Round(time.Millisecond), d.expected, len(d.lost), d.dups))
	if len(d.lost) > 0 || d.dups > 0 {
		t.Errorf("after SIGTERM and restart: lost %d, duplicated %d; want 0 and 0", len(d.lost), d.dups)
	}
}

// TestSIGTERMGraceExpires: when the post in flight outlasts the grace
// period, the worker abandons it, exits 0, and keeps the checkpoint where it
// was, so the next cycle sends that batch again.
func TestSIGTERMGraceExpires(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{}, "SIEMSYNC_REQUEST_TIMEOUT=30s")
	ids := idRange("grace", 2*crashBatch)
	in.ok(records(ids), "ingest", "audit", "-")
	in.addHEC("--max-batch-events", strconv.Itoa(crashBatch), "--max-in-flight", strconv.Itoa(crashWindow))
	in.recv.SetFault(hecrecv.Fault{Delay: time.Minute})

	const grace = time.Second
	srv := in.start(nil, nil, "serve", "--listen", "127.0.0.1:0", "--schedule", "@every 1h", "--shutdown-grace", grace.String())
	waitFor(t, 30*time.Second, "the first post", func() bool { return in.tap.inflight.Load() > 0 })
	sent := time.Now()
	srv.kill(t, syscall.SIGTERM)
	took := time.Since(sent)
	t.Logf("SIGTERM during a post that outlasts the %s grace: exit %d after %s", grace, srv.code, took.Round(time.Millisecond))
	if srv.code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0\n%s", srv.code, srv.stderr.String())
	}
	if took > grace+5*time.Second {
		t.Errorf("took %s to stop with a %s grace", took, grace)
	}
	if n := in.recv.Count(); n != 0 {
		t.Errorf("%d events arrived from an abandoned post", n)
	}
	in.recv.SetFault(hecrecv.Fault{})
	if code, row, stderr := in.syncOnce(); code != 0 {
		t.Fatalf("sync after SIGTERM: exit %d %+v %s", code, row, stderr)
	}
	d := tallyIDs(in.recv.IDs(), ids)
	if len(d.lost) > 0 || d.dups > 0 {
		t.Errorf("after an abandoned batch and restart: lost %d, duplicated %d; want 0 and 0", len(d.lost), d.dups)
	}
	// The operator is told that a batch was abandoned. (Matching "grace"
	// alone would also match the "shutting down" line's grace_ms.)
	if !strings.Contains(srv.stderr.String(), graceExpiredLog) {
		t.Errorf("no log line says that the grace period expired (%q):\n%s", graceExpiredLog, srv.stderr.String())
	}
}

// graceExpiredLog is what serve logs when it abandons batches still in
// flight at the end of the grace period.
const graceExpiredLog = "cycles still running after the grace period; abandoning their in-flight batches"

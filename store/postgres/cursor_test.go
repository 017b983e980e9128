package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/pgtest"
	"github.com/siemsync/siemsync/store"
)

// SPEC 6.3: a cursor that reads "seq > checkpoint" never skips a record,
// although ingests of one account commit concurrently from several
// connections and a sequence hands out numbers before commit. Ingesters
// hold their transactions open for a while after drawing numbers, so that
// without the per-account lock a later ingest would commit first and a
// reader would move its cursor past the earlier one's records.
func TestCursorNeverSkipsUnderConcurrentIngest(t *testing.T) {
	db := openDSN(t, pgtest.DSN(t)+"&pool_max_conns=24")
	ctx := t.Context()
	const (
		accounts  = 3
		ingesters = 3 // per account
		ingests   = 12
		batch     = 40
	)
	acct := func(a int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", a+1) }
	now := time.Now().UTC().Truncate(time.Millisecond)

	var ingesting atomic.Int32
	ingesting.Store(accounts * ingesters)
	var wg gosync.WaitGroup
	errs := make(chan error, accounts*ingesters*4)
	for a := range accounts {
		for g := range ingesters {
			wg.Go(func() {
				defer ingesting.Add(-1)
				rng := rand.New(rand.NewPCG(uint64(a), uint64(g)))
				for k := range ingests {
					recs := make([]siemsync.Audit, batch)
					for i := range recs {
						recs[i] = siemsync.Audit{ID: fmt.Sprintf("%d-%d-%d", g, k, i), Account: acct(a), Time: now, Event: "e"}
					}
					if err := ingestSlowly(ctx, db, recs, time.Duration(rng.IntN(8))*time.Millisecond); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}

	// Two readers per account, each with its own cursor, page by page as a
	// cycle reads.
	seen := make([][]map[string]int, accounts)
	for a := range accounts {
		seen[a] = []map[string]int{{}, {}}
		for r := range 2 {
			wg.Go(func() {
				var cursor int64
				var page []siemsync.Audit
				for {
					done := ingesting.Load() == 0 // read before the page: a last full pass follows the end
					var err error
					page, err = db.AuditPage(ctx, store.AuditQuery{Account: acct(a), After: cursor, Limit: 17}, page)
					if err != nil {
						errs <- err
						return
					}
					for _, rec := range page {
						if rec.Seq <= cursor {
							errs <- fmt.Errorf("page after %d returned seq %d", cursor, rec.Seq)
						}
						cursor = rec.Seq
						seen[a][r][rec.ID]++
					}
					if done && len(page) == 0 {
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for a := range accounts {
		for r := range 2 {
			missed, twice := 0, 0
			for g := range ingesters {
				for k := range ingests {
					for i := range batch {
						switch n := seen[a][r][fmt.Sprintf("%d-%d-%d", g, k, i)]; {
						case n == 0:
							missed++
						case n > 1:
							twice++
						}
					}
				}
			}
			if want := ingesters * ingests * batch; missed > 0 || twice > 0 || len(seen[a][r]) != want {
				t.Errorf("account %d reader %d: %d records seen, %d missed, %d seen twice; want %d each once",
					a, r, len(seen[a][r]), missed, twice, want)
			}
		}
	}
}

// ingestSlowly stores recs in one ingest, in two batches, and waits before
// committing.
func ingestSlowly(ctx context.Context, db store.Ingester, recs []siemsync.Audit, wait time.Duration) error {
	in, err := db.BeginIngest(ctx)
	if err != nil {
		return err
	}
	defer in.Rollback()
	half := len(recs) / 2
	for _, part := range [][]siemsync.Audit{recs[:half], recs[half:]} {
		if _, err := in.AuditBatch(part); err != nil {
			return err
		}
	}
	time.Sleep(wait)
	return in.Commit()
}

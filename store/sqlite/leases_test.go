package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

// Two handles on one file are two processes' worth of connections: each
// has its own writer, so only SQLite's file locks keep them apart (serve
// plus a cron sync --once). Racing for leases, they never both win.
func TestLeasesAcrossHandles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "siemsync.db")
	var handles []*sqlite.DB
	for range 2 {
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{Cipher: testCipher(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		handles = append(handles, db)
	}

	t.Run("AcquireLease", func(t *testing.T) {
		for round := range 20 {
			name := fmt.Sprint("deployment:race-", round)
			var wg sync.WaitGroup
			errs := make([]error, 2*len(handles))
			for i := range errs {
				db := handles[i%len(handles)]
				wg.Go(func() {
					_, errs[i] = db.AcquireLease(t.Context(), name, fmt.Sprint("worker-", i), time.Minute)
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrLeaseHeld):
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d acquires won, want 1", round, won)
			}
		}
	})

	t.Run("LeaseDue", func(t *testing.T) {
		const integrations = 40
		for i := range integrations {
			if err := handles[i%2].CreateIntegration(t.Context(), hecIntegration(acctA, fmt.Sprint("due-", i))); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got = map[string]int{}
		)
		for w := range 6 {
			db := handles[w%len(handles)]
			wg.Go(func() {
				for {
					leases, err := db.LeaseDue(t.Context(), fmt.Sprint("worker-", w), time.Minute, 2)
					if err != nil {
						t.Error(err)
						return
					}
					if len(leases) == 0 {
						return
					}
					mu.Lock()
					for _, l := range leases {
						got[l.Name]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(got) != integrations {
			t.Errorf("%d integrations leased, want %d", len(got), integrations)
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("integration %s leased %d times", id, n)
			}
		}
	})
}

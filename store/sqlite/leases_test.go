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

// With the store's clock pinned, a lease is held up to the millisecond
// before its expiry and free at it.
func TestLeaseExpiryBoundary(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctA, "b"))
	const ttl = time.Minute
	a, err := f.db.AcquireLease(t.Context(), in.ID, "worker-a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Expires.Equal(t0.Add(ttl)) {
		t.Errorf("expires %v, want %v", a.Expires, t0.Add(ttl))
	}
	f.clock.Set(t0.Add(ttl - time.Millisecond))
	if _, err := f.db.AcquireLease(t.Context(), in.ID, "worker-b", ttl); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("acquire 1ms before expiry = %v, want ErrLeaseHeld", err)
	}
	if got, err := f.db.LeaseDue(t.Context(), "worker-b", ttl, 10); err != nil || len(got) != 0 {
		t.Errorf("LeaseDue 1ms before expiry = %+v, %v", got, err)
	}
	f.clock.Set(t0.Add(ttl))
	got, err := f.db.LeaseDue(t.Context(), "worker-b", ttl, 10)
	if err != nil || len(got) != 1 || got[0].Token != a.Token+1 || !got[0].Expires.Equal(t0.Add(2*ttl)) {
		t.Errorf("LeaseDue at expiry = %+v, %v, want the integration with token %d", got, err, a.Token+1)
	}
}

// Integrations stored before leases existed (migration 0004) are due at
// once after the upgrade, with no lease and no last worker.
func TestMigrateLeases(t *testing.T) {
	t.Parallel()
	path, raw := openAtVersion(t, 3)
	_, err := raw.Exec(`INSERT INTO accounts (num, id, created_at) VALUES (1, ?1, 0);
		INSERT INTO integrations (id, account, name, kind, enabled, sources, created_at, updated_at) VALUES
			('on', ?1, 'on', 'splunk_hec', 1, 'audit', 0, 0), ('off', ?1, 'off', 'splunk_hec', 0, 'audit', 0, 0);
		INSERT INTO checkpoints (integration, source, seq, updated_at) VALUES
			('on', 'audit', 0, 0), ('on', 'jobs', 0, 0), ('off', 'audit', 0, 0), ('off', 'jobs', 0, 0);
		INSERT INTO runs (integration, started) VALUES ('on', 0);`, acctA)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	leases, err := db.LeaseDue(t.Context(), "worker-a", time.Minute, 10)
	if err != nil || len(leases) != 1 || leases[0].Name != "on" || leases[0].Token != 1 {
		t.Fatalf("LeaseDue after the upgrade = %+v, %v, want [on] with token 1", leases, err)
	}
	in, err := db.GetIntegration(t.Context(), "on", false)
	if err != nil || in.Status.LastWorker != "" {
		t.Errorf("status after the upgrade = %+v, %v", in, err)
	}
	runs, err := db.RecentRuns(t.Context(), "on", 10)
	if err != nil || len(runs) != 1 || runs[0].Worker != "" {
		t.Errorf("runs after the upgrade = %+v, %v", runs, err)
	}
	cp, err := db.Checkpoints(t.Context(), "on")
	if err != nil || cp.AuditAccepted != nil {
		t.Errorf("checkpoints after the upgrade = %+v, %v", cp, err)
	}
}

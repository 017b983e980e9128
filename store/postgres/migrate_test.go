package postgres_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync/internal/pgtest"
	pgmigrations "github.com/siemsync/siemsync/migrations/postgres"
	"github.com/siemsync/siemsync/store/postgres"
)

// Workers that start at the same moment on a fresh database apply each
// migration once: the others wait on the advisory lock, then find nothing
// to do. A migration that is not idempotent (CREATE TABLE) would fail a
// second application.
func TestMigrationsAppliedOnceByConcurrentStarts(t *testing.T) {
	dsn := pgtest.DSN(t)
	const workers = 8
	start := make(chan struct{})
	errs := make(chan error, workers)
	for range workers {
		go func() {
			<-start
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{Cipher: testCipher(t)})
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	close(start)
	for range workers {
		if err := <-errs; err != nil {
			t.Errorf("open: %v", err)
		}
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ V, N int }])
	if err != nil {
		t.Fatal(err)
	}
	entries, err := pgmigrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var sqlFiles int
	for _, e := range entries {
		if len(e.Name()) > 4 && e.Name()[len(e.Name())-4:] == ".sql" {
			sqlFiles++
		}
	}
	if len(counts) != sqlFiles {
		t.Errorf("%d versions recorded, want %d (one per file)", len(counts), sqlFiles)
	}
	for i, c := range counts {
		if c.V != i+1 || c.N != 1 {
			t.Errorf("version %d recorded %d times (row %d)", c.V, c.N, i)
		}
	}
}

// A database ahead of this program is refused, not silently used.
func TestMigrationsRefuseNewerDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	openDSN(t, dsn)
	migs := fstest.MapFS{}
	_, err := postgres.Open(t.Context(), dsn, postgres.Options{Migrations: migs})
	if err == nil {
		t.Fatal("open with fewer migrations than applied succeeded")
	}
}

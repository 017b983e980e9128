package bench

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/pgtest"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestWorkersOnPostgres: three workers share one round of integrations on
// one database; every integration has exactly one cycle, and every record
// reaches the receiver once.
func TestWorkersOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	res, err := Run(t.Context(), Config{
		Open: func(ctx context.Context, c store.Cipher) (store.Backend, error) {
			return postgres.Open(ctx, dsn, postgres.Options{Cipher: c})
		},
		Integrations: 30, PerIntegration: 5, Workers: 3, Concurrency: 4, HECLatency: 5 * time.Millisecond, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Store != "PostgreSQL" || res.Workers != 3 || res.Sync.Cycles != 30 || res.Sync.Events != 150 || res.ReceiverCount != 150 {
		t.Fatalf("result %+v, sync %+v", res, res.Sync)
	}
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs, integrations int
	err = db.Pool().QueryRow(t.Context(), `SELECT count(*), count(DISTINCT integration) FROM runs WHERE finished IS NOT NULL`).Scan(&runs, &integrations)
	if err != nil {
		t.Fatal(err)
	}
	if runs != 30 || integrations != 30 {
		t.Errorf("%d finished runs of %d integrations, want one run of each of 30", runs, integrations)
	}
}

func TestWorkersNeedPostgres(t *testing.T) {
	_, err := Run(t.Context(), Config{Integrations: 2, Workers: 2, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("two workers on SQLite: %v, want a refusal naming PostgreSQL", err)
	}
}

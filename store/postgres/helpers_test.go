package postgres_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/siemsync/siemsync/internal/pgtest"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func testCipher(t testing.TB) store.Cipher {
	t.Helper()
	c, err := secret.New(bytes.Repeat([]byte{9}, secret.KeySize), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// open opens a store on a fresh database of the package's cluster.
func open(t testing.TB) *postgres.DB {
	t.Helper()
	return openDSN(t, pgtest.DSN(t))
}

func openDSN(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{Cipher: testCipher(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

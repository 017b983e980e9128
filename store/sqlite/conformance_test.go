package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
	"github.com/siemsync/siemsync/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, openSQLite)
}

// openSQLite opens a new store in a temp dir with the real clock.
func openSQLite(t *testing.T) store.Backend {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "siemsync.db"), sqlite.Options{Cipher: testCipher(t)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

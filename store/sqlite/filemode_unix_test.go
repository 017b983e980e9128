//go:build unix

package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/store/sqlite"
)

// TestDatabaseFilesPrivate: under the common umask 022, the database, its
// WAL and its shared-memory file are 0600, also when an older siemsync
// left them 0644. Not parallel: the umask is the process's.
func TestDatabaseFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "siemsync.db")
	check := func(when string) {
		t.Helper()
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		line := `{"time":"2026-11-21T10:00:00Z","account":"` + acctA + `","event":"e"}`
		if _, err := ingest.Audit(t.Context(), db, strings.NewReader(line), ingest.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: %s has mode %04o, want 0600", when, filepath.Base(p), perm)
			}
		}
	}
	check("new database")
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(p, 0o644) // as an older siemsync left them (the WAL may be gone)
	}
	check("database left 0644")
}

package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siemsync/siemsync/internal/testenv"
)

// White-box: the writer has one connection, so a PRAGMA run on it holds for
// the next write. That lets the test provoke real SQLite errors.
func TestDiskErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		pragma string
		kind   error
		want   string
	}{
		// max_page_count makes SQLite answer SQLITE_FULL as a full disk would.
		{"disk full", "PRAGMA max_page_count = 1", ErrDiskFull, "database disk is full: free space on the file system that holds "},
		// query_only makes writes fail with SQLITE_READONLY.
		{"read-only", "PRAGMA query_only = 1", ErrReadOnly, "database is read-only: make "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.db")
			db, err := Open(t.Context(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.w.ExecContext(t.Context(), tt.pragma); err != nil {
				t.Fatal(err)
			}
			err = db.SetSetting(t.Context(), "k", strings.Repeat("v", 1<<20))
			var de *DiskError
			if !errors.Is(err, tt.kind) || !errors.As(err, &de) {
				t.Fatalf("SetSetting = %v, want %v", err, tt.kind)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want+path) || !strings.HasPrefix(msg, "store setting k: ") {
				t.Errorf("message %q does not say %q", msg, tt.want+path)
			}
		})
	}
}

// A database file the process may not write cannot be opened for writing;
// the error must say so. Root ignores file modes, so as root the test runs
// again as nobody.
func TestOpenReadOnlyFile(t *testing.T) {
	t.Parallel()
	if testenv.RerunAsNobody(t) {
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o444); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	db, err = Open(t.Context(), path, Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open of a read-only database succeeded")
	}
	var de *DiskError
	if !errors.Is(err, ErrReadOnly) || !errors.As(err, &de) {
		t.Fatalf("Open = %v, want %v", err, ErrReadOnly)
	}
	if want := "database is read-only: make " + path; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q", err, want)
	}
}

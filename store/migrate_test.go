package store_test

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/siemsync/siemsync/migrations"
	"github.com/siemsync/siemsync/store"
)

func sqlFile(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestEmbeddedMigrationsNumbered(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded migrations: %v", err)
	}
	for i, name := range names { // Glob sorts
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil || v != i+1 {
			t.Errorf("migration %s: want version %d", name, i+1)
		}
	}
	f := setup(t)
	v, err := f.db.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != len(names) {
		t.Errorf("SchemaVersion = %d, want %d", v, len(names))
	}
	// Opening again applies nothing and changes nothing.
	f.db.Close()
	db, err := store.Open(t.Context(), f.path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v2, _ := db.SchemaVersion(t.Context()); v2 != v {
		t.Errorf("SchemaVersion after reopen = %d, want %d", v2, v)
	}
}

func TestMigrateRefuses(t *testing.T) {
	t.Parallel()
	ok1 := sqlFile("CREATE TABLE a (x);")
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"gap", fstest.MapFS{"0001_a.sql": ok1, "0003_c.sql": sqlFile("CREATE TABLE c (x);")}, "version 2 is missing before 0003_c.sql"},
		{"duplicate", fstest.MapFS{"0001_a.sql": ok1, "0001_b.sql": sqlFile("CREATE TABLE b (x);")}, "have the same version 1"},
		{"bad name", fstest.MapFS{"0001_a.sql": ok1, "init.sql": sqlFile("")}, "must start with a version number"},
		{"zero", fstest.MapFS{"0000_a.sql": ok1}, "must start with a version number"},
		{"broken SQL", fstest.MapFS{"0001_a.sql": ok1, "0002_b.sql": sqlFile("CREATE TABLE b (x); CREATE TABLE (;")}, "apply migration 0002_b.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"), store.Options{Migrations: tt.fs})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMigrateBrokenLeavesVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	good := fstest.MapFS{"0001_a.sql": sqlFile("CREATE TABLE a (x);")}
	open := func(fsys fstest.MapFS) (int, error) {
		db, err := store.Open(t.Context(), path, store.Options{Migrations: fsys})
		if err != nil {
			return 0, err
		}
		defer db.Close()
		return db.SchemaVersion(t.Context())
	}
	if v, err := open(good); err != nil || v != 1 {
		t.Fatalf("first open: version %d, %v", v, err)
	}
	broken := fstest.MapFS{"0001_a.sql": good["0001_a.sql"], "0002_b.sql": sqlFile("CREATE TABLE b (x); INSERT INTO nope VALUES (1);")}
	if _, err := open(broken); err == nil {
		t.Fatal("broken migration applied")
	}
	if v, err := open(good); err != nil || v != 1 {
		t.Fatalf("after broken migration: version %d, %v; want 1", v, err)
	}
	// Table b of the failed file was rolled back: a fixed 0002 creates it.
	fixed := fstest.MapFS{"0001_a.sql": good["0001_a.sql"], "0002_b.sql": sqlFile("CREATE TABLE b (x);")}
	if v, err := open(fixed); err != nil || v != 2 {
		t.Fatalf("fixed migration: version %d, %v; want 2", v, err)
	}
	// A database newer than the binary, or with a renamed file, is refused.
	if _, err := open(good); err == nil || !strings.Contains(err.Error(), "run a newer siemsync") {
		t.Errorf("older migration set: %v", err)
	}
	renamed := fstest.MapFS{"0001_a.sql": good["0001_a.sql"], "0002_renamed.sql": fixed["0002_b.sql"]}
	if _, err := open(renamed); err == nil || !strings.Contains(err.Error(), "never rename") {
		t.Errorf("renamed migration: %v", err)
	}
}

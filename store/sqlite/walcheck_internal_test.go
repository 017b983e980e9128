package sqlite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The writer checkpoints only past walSafetyFrames, so committed pages reach
// the database file well before that only if the background checkpointer
// copies them.
func TestBackgroundCheckpoint(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := fileSize(t, path)

	// ~4 MiB: a thousand frames, far below the writer's own threshold.
	const rows, size = 1000, 4000
	if walSafetyFrames < 10*rows {
		t.Fatalf("walSafetyFrames = %d: the test needs it far above %d frames", walSafetyFrames, rows)
	}
	ctx := t.Context()
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	blob := strings.Repeat("x", size)
	for range rows {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO filler VALUES (?)`, blob); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for fileSize(t, path) < before+rows*size {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the database file is %d bytes (was %d): committed pages were not checkpointed in the background", fileSize(t, path), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

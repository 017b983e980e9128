package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// walCheckEvery is how often the background checkpointer copies committed
// WAL frames into the database file.
const walCheckEvery = time.Second

// walSafetyFrames is the writer's own auto-checkpoint threshold (pages of
// 4 KiB), a backstop should the background checkpointer fall behind.
const walSafetyFrames = 65536

// checkpointWAL copies the WAL into the database file from its own
// connection until ctx ends. SQLite's automatic checkpoint runs on the
// connection that committed: the single writer, which then spent ~6 % of a
// big ingest copying pages and waiting for fsync instead of inserting. A
// PASSIVE checkpoint takes no write lock, so here it runs beside the writer,
// on the other core.
//
// A failure here is not reported: it is another process checkpointing at
// the same time (harmless) or an I/O error on the database file, which the
// writer meets on its next commit and returns to its caller, and the writer's own checkpoint (walSafetyFrames) still bounds
// the WAL.
func checkpointWAL(ctx context.Context, c *sql.DB, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _ = c.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

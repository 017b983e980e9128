package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// oneConn opens a pool of one caching connection on a new database with a
// table t(x INTEGER PRIMARY KEY) holding 1, 2, 3.
func oneConn(t *testing.T) *sql.DB {
	t.Helper()
	db := openDB(dsn(filepath.Join(t.TempDir(), "c.db"), "_pragma=journal_mode(wal)"))
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (x INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// cacheOf reports the statement cache of the pool's one connection.
func cacheOf(t *testing.T, db *sql.DB) (hits, misses, kept int) {
	t.Helper()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		sc, ok := dc.(*stmtConn)
		if !ok {
			return fmt.Errorf("connection is a %T, not a *stmtConn", dc)
		}
		hits, misses, kept = sc.stats.hits, sc.stats.misses, sc.lru.Len()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits, misses, kept
}

func sum(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, min int) int {
	t.Helper()
	rows, err := q.QueryContext(t.Context(), `SELECT x FROM t WHERE x > ?`, min)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		n += x
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStmtCacheReuses: a statement run again is not prepared again, and
// gives the answers of its new arguments.
func TestStmtCacheReuses(t *testing.T) {
	db := oneConn(t)
	_, m0, _ := cacheOf(t, db)
	for min, want := range []int{6, 5, 3, 0} {
		if got := sum(t, db, min); got != want {
			t.Fatalf("sum over x > %d = %d, want %d", min, got, want)
		}
	}
	if hits, misses, _ := cacheOf(t, db); misses-m0 != 1 || hits != 3 {
		t.Fatalf("%d preparations and %d reuses for 4 runs of one statement, want 1 and 3", misses-m0, hits)
	}
}

// TestStmtCacheInUse: the same text run while its rows are still open gets
// its own preparation; both read their own results.
func TestStmtCacheInUse(t *testing.T) {
	db := oneConn(t)
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.QueryContext(t.Context(), `SELECT x FROM t WHERE x > ?`, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	for outer.Next() {
		var x int
		if err := outer.Scan(&x); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, x+100*sum(t, tx, x))
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[501 302 3]" {
		t.Fatalf("got %v, want [501 302 3]", seen)
	}
	if got := sum(t, tx, 1); got != 5 {
		t.Fatalf("after the nested runs: sum %d, want 5", got)
	}
}

// TestStmtCacheAfterError: a statement that failed runs again cleanly.
func TestStmtCacheAfterError(t *testing.T) {
	db := oneConn(t)
	ins := `INSERT INTO t (x) VALUES (?)`
	if _, err := db.Exec(ins, 1); err == nil {
		t.Fatal("duplicate key inserted")
	}
	if _, err := db.Exec(ins, 4); err != nil {
		t.Fatalf("after a failed run: %v", err)
	}
	if got := sum(t, db, 0); got != 10 {
		t.Fatalf("sum %d, want 10", got)
	}
}

// TestStmtCacheBounded: beyond stmtCacheSize texts the least recently used
// statement is finalized; one evicted while in use is finalized when
// closed, and its text is prepared anew next time.
func TestStmtCacheBounded(t *testing.T) {
	db := oneConn(t)
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	open, err := c.QueryContext(t.Context(), `SELECT x FROM t WHERE x > ?`, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stmtCacheSize + 10 {
		var v int
		if err := c.QueryRowContext(t.Context(), fmt.Sprintf("SELECT %d", i)).Scan(&v); err != nil || v != i {
			t.Fatalf("SELECT %d: %d, %v", i, v, err)
		}
	}
	n := 0
	for open.Next() {
		n++
	}
	if err := open.Close(); err != nil || n != 3 {
		t.Fatalf("the evicted statement read %d rows, %v; want 3", n, err)
	}
	c.Close()
	if _, misses0, kept := cacheOf(t, db); kept != stmtCacheSize {
		t.Fatalf("%d statements kept, want %d", kept, stmtCacheSize)
	} else if got := sum(t, db, 0); got != 6 {
		t.Fatalf("sum %d, want 6", got)
	} else if _, misses, _ := cacheOf(t, db); misses != misses0+1 {
		t.Fatalf("the evicted text was not prepared anew: %d → %d preparations", misses0, misses)
	}
}

// TestOpenKeepsStatements: the store's writer and readers are caching
// connections, and a store call run twice is prepared once.
func TestOpenKeepsStatements(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if _, err := db.EnabledIntegrationIDs(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// One call at a time: both ran on the reader the ping opened.
	if hits, misses, _ := cacheOf(t, db.r); hits != 1 || misses != 1 {
		t.Fatalf("the reader prepared %d times and reused %d, want 1 and 1", misses, hits)
	}
	cacheOf(t, db.w) // fails unless the writer is a caching connection
}

// Package sqlite is the embedded backend of the store contract: one SQLite
// file (WAL mode) holding accounts, the audit and job records fed in by
// ingest, integrations with their sealed secrets, checkpoints, leases, runs
// and set-aside events. Together with store/postgres it is the only code that
// speaks SQL.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/siemsync/siemsync/store"
	"io/fs"
	"os"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/siemsync/siemsync/migrations"
)

// DB implements the whole store contract.
var _ store.Backend = (*DB)(nil)

// DefaultReaders is the size of the read-only connection pool.
const DefaultReaders = 4

// Options configures Open.
type Options struct {
	// Cipher seals tokens and client keys. Without one, integrations that
	// carry secrets cannot be stored or opened.
	Cipher store.Cipher
	// Now is the clock; nil means time.Now. Tests pin it.
	Now func() time.Time
	// Migrations replaces the embedded migrations; tests use it to feed the
	// runner a broken or gapped set. nil means migrations.FS.
	Migrations fs.FS
}

// DB is the store. It holds two connection pools on one SQLite file:
//
//   - a writer with exactly one connection. SQLite allows one writer at a
//     time anyway; queueing writers in database/sql (which honours ctx)
//     instead of in SQLite's busy handler means no SQLITE_BUSY and no
//     deadlocks between two transactions that both want to upgrade.
//   - readers (query_only) for pages and admin views. In WAL mode they read
//     the last committed state while a long ingest transaction is open, so
//     a sync cycle never waits for an ingest to finish.
type DB struct {
	w      *sql.DB
	r      *sql.DB
	c      *sql.DB // the background WAL checkpointer's connection
	stopC  context.CancelFunc
	doneC  chan struct{}
	path   string
	cipher store.Cipher
	now    func() time.Time
	idKey  func(id string) int64 // idKey; tests force collisions with another
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no path given")
	}
	db := &DB{path: path, cipher: opts.Cipher, now: opts.Now, idKey: idKey}
	if db.now == nil {
		db.now = time.Now
	}
	migs := opts.Migrations
	if migs == nil {
		migs = migrations.FS
	}

	var err error
	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so it cannot fail half way because another process wrote meanwhile.
	db.w = openDB(dsn(path,
		"_pragma=busy_timeout(10000)", "_pragma=journal_mode(wal)",
		"_pragma=foreign_keys(1)", "_pragma=synchronous(normal)", "_txlock=immediate",
		// A large page cache keeps a big ingest transaction from spilling
		// dirty pages to the WAL one at a time.
		"_pragma=cache_size(-32768)",
		// Multi-row inserts keep a statement journal (to undo one
		// statement that fails half way); in a temp file every page it
		// saves is a write system call. In memory it is a few pages per
		// statement, freed when the statement ends.
		"_pragma=temp_store(memory)",
		// The WAL is checkpointed in the background (checkpointWAL); the
		// writer does it itself only past walSafetyFrames.
		fmt.Sprintf("_pragma=wal_autocheckpoint(%d)", walSafetyFrames)))
	db.w.SetMaxOpenConns(1)
	db.w.SetConnMaxIdleTime(0)
	if err := db.w.PingContext(ctx); err != nil {
		db.w.Close()
		return nil, db.fail("open database "+path, err)
	}
	if err := privateFiles(path); err != nil {
		db.w.Close()
		return nil, err
	}
	if err := migrate(ctx, db.w, migs); err != nil {
		db.w.Close()
		return nil, db.fail("migrate database "+path, err)
	}

	db.r = openDB(dsn(path,
		"_pragma=busy_timeout(10000)", "_pragma=foreign_keys(1)", "_query_only=1"))
	db.r.SetMaxOpenConns(DefaultReaders)
	db.r.SetMaxIdleConns(DefaultReaders)
	if err := db.r.PingContext(ctx); err != nil {
		db.Close()
		return nil, db.fail("open database "+path, err)
	}

	if db.c, err = sql.Open("sqlite", dsn(path, "_pragma=busy_timeout(10000)")); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.c.SetMaxOpenConns(1)
	cctx, stop := context.WithCancel(context.Background())
	db.stopC, db.doneC = stop, make(chan struct{})
	go func() {
		defer close(db.doneC)
		checkpointWAL(cctx, db.c, walCheckEvery)
	}()
	return db, nil
}

// dsn builds a modernc DSN: a plain file name with the driver's parameters.
func dsn(path string, params ...string) string {
	s := path + "?"
	for i, p := range params {
		if i > 0 {
			s += "&"
		}
		s += p
	}
	return s
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close stops the checkpointer and closes the pools.
func (db *DB) Close() error {
	var errs []error
	if db.stopC != nil {
		db.stopC()
		<-db.doneC
	}
	if db.c != nil {
		errs = append(errs, db.c.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		// Closing the last connection checkpoints the WAL into the file.
		errs = append(errs, db.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// SchemaVersion is the highest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, `SELECT ifnull(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, db.fail("read schema version", err)
	}
	return v, nil
}

// inTx runs fn in a write transaction and commits it, or rolls it back when
// fn or the commit fails.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.fail(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return db.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return db.fail(op, err)
	}
	return nil
}

// privateFiles makes the database and its WAL and shared-memory files
// readable by their owner alone: they hold every tenant's audit data.
// SQLite creates the WAL and SHM files with the database file's mode, so
// once the database is 0600 the files it makes later are too; the process
// umask (cmd/siemsync sets 077) closes the moment before the first chmod.
func privateFiles(path string) error {
	if runtime.GOOS == "windows" {
		return nil // no Unix permission bits
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("open database: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&^0o077); err != nil {
				return fmt.Errorf("open database: %s has mode %04o and can be read by other users, and siemsync cannot change it (%w): run chmod 600 %s as its owner", p, perm, err, p)
			}
		}
	}
	return nil
}

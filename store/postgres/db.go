// Package postgres is the PostgreSQL backend of the store contract, for
// deployments that run any number of siemsync workers on one database. It
// speaks SQL through jackc/pgx (pgxpool) and passes the same conformance
// suite as store/sqlite. What differs from SQLite and why:
//
//   - leases and next_due_at use the database clock, so that workers on
//     machines whose clocks differ agree on what has expired;
//   - ingest serialises per account with a transaction-level advisory lock
//     held from the first sequence number it draws to its commit, so that a
//     cycle that read past seq N never misses a record committed later with
//     a seq <= N (SPEC 6.3);
//   - audit ingest checks ids under the account locks and COPYs the fresh
//     records into audit_ids and audit, a block of sequence numbers at a time;
//   - audit records are partitioned by day of occurrence and retention drops
//     whole partitions.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/siemsync/siemsync"
	pgmigrations "github.com/siemsync/siemsync/migrations/postgres"
	"github.com/siemsync/siemsync/store"
)

var _ store.Backend = (*DB)(nil)

// DefaultMaxConns is the pool size of one worker when the URL does not set
// pool_max_conns: a cycle holds a connection only per statement, so a few
// serve the scheduler's concurrency, the admin server and an ingest.
const DefaultMaxConns = 8

// Options configures Open.
type Options struct {
	// Cipher seals tokens and client keys.
	Cipher store.Cipher
	// Now is the clock of record times the store stamps (created_at,
	// ingested_at …); nil means time.Now. Leases always use the database
	// clock.
	Now func() time.Time
	// Migrations replaces the embedded migrations (tests).
	Migrations fs.FS
}

// DB is the store on one PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	// pages reads audit pages: its connections plan with the settings of
	// sqlPlanPage, so that a page is one statement. (Job pages are not
	// read there: without sorts their UNION plans badly.)
	pages  *pgxpool.Pool
	cipher store.Cipher
	now    func() time.Time
	parts  *partitions

	fin finisher
	// finishFallbacks counts the finishes applied alone after their
	// group's transaction failed (tests).
	finishFallbacks atomic.Int64
}

// IsURL reports whether a --db value names a PostgreSQL database rather
// than a SQLite file.
func IsURL(dsn string) bool {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if len(dsn) >= len(p) && dsn[:len(p)] == p {
			return true
		}
	}
	return false
}

// Open connects to the database at dsn (a postgres:// URL or a libpq
// key=value string; the PG* environment variables fill what it leaves out)
// and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL; the password must not leak.
		return nil, errors.New("open database: the PostgreSQL URL is not valid: expected postgres://user@host:port/dbname?sslmode=…")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	where := fmt.Sprintf("%s@%s:%d/%s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	pages, err := pgxpool.NewWithConfig(ctx, pagesConfig(cfg))
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	db := &DB{pool: pool, pages: pages, cipher: opts.Cipher, now: opts.Now, parts: newPartitions()}
	if db.now == nil {
		db.now = time.Now
	}
	if err := db.open(ctx, opts.Migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", where, err)
	}
	return db, nil
}

// open checks the connection and brings the schema up to date.
func (db *DB) open(ctx context.Context, migs fs.FS) error {
	if err := db.pool.Ping(ctx); err != nil {
		return err
	}
	if migs == nil {
		migs = pgmigrations.FS
	}
	if err := migrate(ctx, db.pool, migs); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return db.ensureAhead(ctx)
}

// sqlPlanPage are the planner settings of the pages pool. They make the
// planner read the account's index of every audit partition in seq order
// and merge them, which stops after a page's rows. Left to statistics, a
// freshly loaded day (not analyzed yet) looks small, and the planner would
// fetch and sort all of the account's rows beyond the cursor to return the
// first thousand. As connection settings they cost nothing per page (as
// SET LOCAL they were four more statements a page).
var sqlPlanPage = map[string]string{"enable_sort": "off", "enable_bitmapscan": "off"}

// pagesConfig is the pool of page reads: half as many connections as the
// main pool (at least two), planning with sqlPlanPage.
func pagesConfig(cfg *pgxpool.Config) *pgxpool.Config {
	pc := cfg.Copy()
	pc.MaxConns = max(2, cfg.MaxConns/2)
	pc.MinConns = min(pc.MinConns, pc.MaxConns)
	params := maps.Clone(pc.ConnConfig.RuntimeParams)
	if params == nil {
		params = map[string]string{}
	}
	maps.Copy(params, sqlPlanPage)
	pc.ConnConfig.RuntimeParams = params
	return pc
}

// Close closes the pools.
func (db *DB) Close() error {
	db.pool.Close()
	db.pages.Close()
	return nil
}

// Pool is the connection pool, for tests that inspect the database.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// inTx runs fn in a transaction and commits it, or rolls it back when fn
// or the commit fails.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, db.pool, fn)
	if err != nil {
		return fail(op, err)
	}
	return nil
}

// fail wraps err with the operation that failed. Input errors
// (*FieldError) are returned as they are.
func fail(op string, err error) error {
	var fe *siemsync.FieldError
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s: %w", op, notFound(err))
}

// notFound turns pgx.ErrNoRows into siemsync.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return siemsync.ErrNotFound
	}
	return err
}

// pgCode is the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// uniqueViolation is SQLSTATE 23505.
const uniqueViolation = "23505"

// conflictError is a *siemsync.FieldError that is also siemsync.ErrConflict.
type conflictError struct {
	*siemsync.FieldError
}

func (e *conflictError) Unwrap() []error { return []error{e.FieldError, siemsync.ErrConflict} }

func errNameTaken() error {
	return &conflictError{&siemsync.FieldError{Field: "name", Msg: "an integration with this name already exists in the account"}}
}

// Times are Unix milliseconds, as in the SQLite backend.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS stores a zero time as NULL.
func nullMS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

// timeOf reads a nullable millisecond column; NULL is the zero time.
func timeOf(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMS(*v)
}

// timePtr reads a nullable millisecond column; NULL is nil.
func timePtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

// nowMS is the store clock in UTC at millisecond precision.
func (db *DB) nowMS() time.Time { return db.now().UTC().Truncate(time.Millisecond) }

// commit says how inBatchTx commits.
type commit int

const (
	// durable: the commit waits for the WAL flush, as every commit does by
	// default.
	durable commit = iota
	// lossy: the commit does not wait for the WAL flush
	// (synchronous_commit off for this transaction only). It is for a
	// cycle's bookkeeping that a database crash may lose (the run record,
	// the status, the lease's release: the checkpoints, committed durably,
	// decide what is sent next).
	lossy
)

// SQLSTATEs that siemsync_check raises (migration 0007).
const (
	stateFenced   = "SSFNC" // the lease is not the writer's; the message is the current token
	stateNotFound = "SSNFD" // a row the write needs is missing; the message says which
)

// inBatchTx runs the statements queued in b as one transaction in one
// round trip. A cycle's writes are small and many, and each round trip
// costs both sides more CPU than the statements themselves.
//
// The batch goes as one pipeline ended by one Sync, which PostgreSQL runs
// as one implicit transaction: it commits at the Sync, and a failed
// statement rolls back what ran before it and skips the rest. So whatever
// must hold for the transaction to commit is checked by the statements
// themselves (siemsync_check raises); the client sees the answers only
// once the server has committed or rolled back, and no BEGIN, COMMIT or
// ROLLBACK is sent. A stale lease is reported as store.ErrFenced.
func (db *DB) inBatchTx(ctx context.Context, op string, b *pgx.Batch, lease *leaseCheck, how commit) error {
	err := checked(db.sendTx(ctx, b, how), lease)
	if lerr := lease.err(); lerr != nil {
		err = lerr // a stale worker is told so, whatever else failed
	}
	if err != nil {
		return fail(op, err)
	}
	return nil
}

// sendTx sends b as one implicit transaction (see inBatchTx) and returns
// pgx's error as it is: a *pgconn.PgError when the server refused a
// statement and so rolled the transaction back.
func (db *DB) sendTx(ctx context.Context, b *pgx.Batch, how commit) error {
	if how == lossy {
		off := &pgx.QueuedQuery{SQL: `SELECT set_config('synchronous_commit', 'off', true)`}
		b = &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{off}, b.QueuedQueries...)}
	}
	return db.pool.SendBatch(ctx, b).Close()
}

// checked turns the errors siemsync_check raised into the store's: a
// stale lease is recorded in lease, a missing row is siemsync.ErrNotFound.
func checked(err error, lease *leaseCheck) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case stateFenced:
		if cur, perr := strconv.ParseInt(pe.Message, 10, 64); perr == nil && lease != nil {
			lease.cur, lease.read = cur, true
			return nil
		}
		return fmt.Errorf("%w (current token %s)", store.ErrFenced, pe.Message)
	case stateNotFound:
		return fmt.Errorf("%s: %w", pe.Message, siemsync.ErrNotFound)
	}
	return err
}

// sqlLeaseIs is the condition "lease $1's token is $2" (0: never leased),
// read without a lock, for the writes of a cycle's start and finish (a run
// record, the status): a stale one writes nothing, and the token read
// tells the client why. A batch commit, whose checkpoint must never move
// under a stale lease, locks the lease row instead (leaseCheck): a lock
// costs the server a WAL record, so the start and finish do without.
const sqlLeaseIs = `coalesce((SELECT token FROM leases WHERE name = $1), 0) = $2`

// leaseCheck is the fencing of a batched write: queue checks the name's
// current token (0 when never leased) and locks the lease row until the
// transaction ends, so nobody takes the lease before the writes commit. A
// stale token rolls the transaction back (siemsync_check); the current token
// comes back in the error.
type leaseCheck struct {
	token, cur int64
	read       bool
}

func (c *leaseCheck) queue(b *pgx.Batch, name string) {
	b.Queue(`WITH l AS (SELECT token FROM leases WHERE name = $1 FOR SHARE)
		SELECT siemsync_check(coalesce((SELECT token FROM l), 0) = $2, '`+stateFenced+`', coalesce((SELECT token FROM l), 0)::text)`,
		name, c.token).Exec(func(pgconn.CommandTag) error {
		c.cur, c.read = c.token, true
		return nil
	})
}

// err refuses a token that is not the current one, once it was read.
func (c *leaseCheck) err() error {
	if c == nil || !c.read || c.cur == c.token {
		return nil
	}
	return fmt.Errorf("%w (token %d, current %d)", store.ErrFenced, c.token, c.cur)
}

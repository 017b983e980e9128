package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
)

// stmtCacheSize bounds the prepared statements kept per connection: the
// store runs a few dozen distinct statements; the rest are the multi-row
// inserts of ingest, one text per row count.
const stmtCacheSize = 128

// openDB opens a pool of connections to dsn whose statements are prepared
// once per connection and kept (see stmtConn).
func openDB(dsn string) *sql.DB {
	return sql.OpenDB(connector{dsn: dsn})
}

type connector struct{ dsn string }

// sqliteDriver is the instance registered as "sqlite": the one the
// functions of pack.go are registered with.
var sqliteDriver = func() driver.Driver {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic("the sqlite driver is not registered: " + err.Error())
	}
	defer db.Close()
	return db.Driver()
}()

func (c connector) Connect(context.Context) (driver.Conn, error) {
	cn, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newStmtConn(cn), nil
}

func (c connector) Driver() driver.Driver { return sqliteDriver }

// stmtConn is a driver connection that keeps its prepared statements. The
// driver prepares (parses and plans) every statement run through
// QueryContext or ExecContext anew, which costs more than running it for
// the short queries of a sync cycle: a small cycle runs many of them
// and spent a third of its CPU in SQLite's parser. stmtConn implements
// neither, so database/sql prepares every statement through PrepareContext,
// which hands out the kept one and takes it back on Close.
//
// database/sql uses a connection from one goroutine at a time, so no lock
// is needed. A statement still in use (rows of it open) when the same text
// is run again gets a second, uncached preparation.
type stmtConn struct {
	inner driverConn
	lru   *list.List // of *cacheEntry, most recently used first
	bySQL map[string]*list.Element
	stats stmtStats
}

// driverConn is what stmtConn needs of the driver's connection.
type driverConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type stmtStats struct{ hits, misses int }

type cacheEntry struct {
	query   string
	stmt    driver.Stmt
	busy    bool // handed out and not closed yet
	evicted bool // out of the cache: finalize on Close
}

func newStmtConn(cn driver.Conn) driver.Conn {
	inner, ok := cn.(driverConn)
	if !ok {
		return cn // not the driver this was written for: no cache
	}
	return &stmtConn{inner: inner, lru: list.New(), bySQL: map[string]*list.Element{}}
}

func (c *stmtConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *stmtConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if el, ok := c.bySQL[query]; ok {
		e := el.Value.(*cacheEntry)
		if !e.busy {
			c.stats.hits++
			c.lru.MoveToFront(el)
			e.busy = true
			return &cachedStmt{stmt: e.stmt, e: e}, nil
		}
		// In use: a one-off preparation, finalized on Close.
		st, err := c.inner.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		return &cachedStmt{stmt: st}, nil
	}
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stats.misses++
	e := &cacheEntry{query: query, stmt: st, busy: true}
	c.bySQL[query] = c.lru.PushFront(e)
	for c.lru.Len() > stmtCacheSize {
		c.evict(c.lru.Back())
	}
	return &cachedStmt{stmt: st, e: e}, nil
}

// evict takes an entry out of the cache, finalizing its statement now or,
// when in use, on its Close.
func (c *stmtConn) evict(el *list.Element) error {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.bySQL, e.query)
	e.evicted = true
	if e.busy {
		return nil
	}
	return e.stmt.Close()
}

func (c *stmtConn) Close() error {
	var errs []error
	for el := c.lru.Back(); el != nil; el = c.lru.Back() {
		errs = append(errs, c.evict(el))
	}
	return errors.Join(append(errs, c.inner.Close())...)
}

func (c *stmtConn) Begin() (driver.Tx, error) { //nolint:staticcheck // part of driver.Conn
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *stmtConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

func (c *stmtConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *stmtConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *stmtConn) IsValid() bool                          { return c.inner.IsValid() }

// cachedStmt is a statement handed out by stmtConn. Close gives a cached
// one back (unless it was evicted meanwhile) and finalizes a one-off.
type cachedStmt struct {
	stmt driver.Stmt
	e    *cacheEntry // nil for a one-off
}

func (s *cachedStmt) Close() error {
	if s.e == nil || s.e.evicted {
		if s.e != nil {
			s.e.busy = false
		}
		return s.stmt.Close()
	}
	s.e.busy = false
	return nil
}

func (s *cachedStmt) NumInput() int { return s.stmt.NumInput() }

func (s *cachedStmt) Exec(args []driver.Value) (driver.Result, error) { //nolint:staticcheck // part of driver.Stmt
	return s.stmt.Exec(args) //nolint:staticcheck // same
}

func (s *cachedStmt) Query(args []driver.Value) (driver.Rows, error) { //nolint:staticcheck // part of driver.Stmt
	return s.stmt.Query(args) //nolint:staticcheck // same
}

func (s *cachedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *cachedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

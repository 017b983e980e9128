package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/siemsync/siemsync"
)

// Errors an operator has to act on. They come back wrapped in a *DiskError
// that says what to do, so errors.Is works and the message is complete.
var (
	ErrDiskFull = errors.New("database disk is full")
	ErrReadOnly = errors.New("database is read-only")
)

// DiskError is a storage failure that no retry will fix: the disk is full or
// the database cannot be written. Its message names the file and the fix.
type DiskError struct {
	Kind error  // ErrDiskFull or ErrReadOnly
	Fix  string // what the operator should do
	Err  error  // the SQLite error
}

func (e *DiskError) Error() string {
	return fmt.Sprintf("%v: %s (%v)", e.Kind, e.Fix, e.Err)
}

// Unwrap lets errors.Is find both the kind and the SQLite error.
func (e *DiskError) Unwrap() []error { return []error{e.Kind, e.Err} }

// fail wraps err with the operation that failed, turning disk-full and
// read-only SQLite errors into a *DiskError. Input errors (*FieldError) are
// returned as they are: their text is written for the person who sent the
// input, and an operation prefix would only get in the way.
func (db *DB) fail(op string, err error) error {
	var fe *siemsync.FieldError
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s: %w", op, classify(db.path, err))
}

// classify recognises the SQLite result codes an operator must act on.
func classify(path string, err error) error {
	var de *DiskError
	if errors.As(err, &de) {
		return err
	}
	switch sqliteCode(err) & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_FULL:
		return &DiskError{Kind: ErrDiskFull, Err: err,
			Fix: "free space on the file system that holds " + path + " (or move the database to a larger volume)"}
	case sqlite3.SQLITE_READONLY:
		return &DiskError{Kind: ErrReadOnly, Err: err,
			Fix: "make " + path + " and its directory writable by the user siemsync runs as, and check the volume is not mounted read-only"}
	}
	return err
}

// sqliteCode is the extended SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// notFound turns sql.ErrNoRows into siemsync.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return siemsync.ErrNotFound
	}
	return err
}

// conflictError is a *siemsync.FieldError that is also siemsync.ErrConflict,
// so the API can answer 409 and still name the field.
type conflictError struct {
	*siemsync.FieldError
}

func (e *conflictError) Unwrap() []error { return []error{e.FieldError, siemsync.ErrConflict} }

// errNameTaken is the conflict of two integrations with one name in an account.
func errNameTaken() error {
	return &conflictError{&siemsync.FieldError{Field: "name", Msg: "an integration with this name already exists in the account"}}
}

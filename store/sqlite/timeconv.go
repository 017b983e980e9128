package sqlite

import (
	"database/sql"
	"time"
)

// Times are stored as Unix milliseconds: HEC sends millisecond precision,
// and integers compare and index cheaply.

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS stores a zero time as NULL.
func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// timeOf reads a nullable millisecond column; NULL is the zero time.
func timeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// timePtr reads a nullable millisecond column; NULL is nil.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// now is the store clock in UTC at millisecond precision, so what a method
// returns equals what a later read gives back.
func (db *DB) nowMS() time.Time {
	return db.now().UTC().Truncate(time.Millisecond)
}

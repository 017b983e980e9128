package sqlite

import (
	"context"
	"database/sql"
)

// Setting returns a runtime setting, or an error wrapping
// siemsync.ErrNotFound when it was never set.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err != nil {
		return "", db.fail("read setting "+key, notFound(err))
	}
	return v, nil
}

// SetSetting stores a runtime setting, replacing any previous value.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	return db.inTx(ctx, "store setting "+key, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

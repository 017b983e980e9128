package sqlite

import (
	"context"
	"database/sql"

	"github.com/siemsync/siemsync"
)

// SwapAlertState moves the alert state of an integration from one value to
// another and reports whether it did: of two workers that see the same
// failure, only the one whose swap succeeds sends the alert.
func (db *DB) SwapAlertState(ctx context.Context, id, from, to string) (bool, error) {
	var swapped bool
	err := db.inTx(ctx, "swap alert state of integration "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET alert_state = ?1 WHERE id = ?2 AND alert_state = ?3`, to, id, from)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		swapped = n == 1
		return nil
	})
	return swapped, err
}

// SetAlertError records the last failure of an integration's webhook; ""
// clears it.
func (db *DB) SetAlertError(ctx context.Context, id, msg string) error {
	return db.inTx(ctx, "set alert error of integration "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET alert_error = ?1 WHERE id = ?2`, msg, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		return nil
	})
}

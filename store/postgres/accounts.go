package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
)

// ListAccounts returns every account, ordered by id.
func (db *DB) ListAccounts(ctx context.Context) ([]siemsync.Account, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name, host, created_at, siem_enabled FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fail("list accounts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (siemsync.Account, error) { return scanAccount(r) })
	if err != nil {
		return nil, fail("list accounts", err)
	}
	return out, nil
}

// GetAccount returns one account, or an error wrapping siemsync.ErrNotFound.
func (db *DB) GetAccount(ctx context.Context, id string) (siemsync.Account, error) {
	id = siemsync.CanonicalID(id)
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT id, name, host, created_at, siem_enabled FROM accounts WHERE id = $1`, id))
	if err != nil {
		return a, fail("get account "+id, err)
	}
	return a, nil
}

// UpdateAccount sets the account's name and/or host; nil keeps the stored
// value.
func (db *DB) UpdateAccount(ctx context.Context, id string, name, host *string) error {
	id = siemsync.CanonicalID(id)
	for _, f := range []struct {
		field string
		v     *string
	}{{"name", name}, {"host", host}} {
		if f.v != nil {
			if err := siemsync.CheckText(f.field, *f.v); err != nil {
				return err
			}
		}
	}
	tag, err := db.pool.Exec(ctx, `UPDATE accounts SET name = coalesce($1, name), host = coalesce($2, host) WHERE id = $3`,
		name, host, id)
	if err != nil {
		return fail("update account "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return fail("update account "+id, siemsync.ErrNotFound)
	}
	return nil
}

// SetSIEMEnabled switches the SIEM feature of an account.
func (db *DB) SetSIEMEnabled(ctx context.Context, id string, enabled bool) error {
	id = siemsync.CanonicalID(id)
	tag, err := db.pool.Exec(ctx, `UPDATE accounts SET siem_enabled = $1 WHERE id = $2`, enabled, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = siemsync.ErrNotFound
	}
	if err != nil {
		return fail("set SIEM feature of account "+id, err)
	}
	return nil
}

func scanAccount(r pgx.Row) (siemsync.Account, error) {
	var a siemsync.Account
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &a.Host, &created, &a.SIEMEnabled); err != nil {
		return a, err
	}
	a.CreatedAt = fromMS(created)
	return a, nil
}

// ensureAccount creates the account on first sight and returns its num.
func ensureAccount(ctx context.Context, tx pgx.Tx, id string, now int64) (int32, error) {
	id = siemsync.CanonicalID(id)
	// Two statements: an INSERT that waited for a concurrent insert of
	// the same account sees nothing in its own snapshot; the SELECT after
	// it takes a new one.
	if _, err := tx.Exec(ctx, `INSERT INTO accounts (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, now); err != nil {
		return 0, fmt.Errorf("create account %s: %w", id, err)
	}
	var num int32
	if err := tx.QueryRow(ctx, `SELECT num FROM accounts WHERE id = $1`, id).Scan(&num); err != nil {
		return 0, fmt.Errorf("read account %s: %w", id, err)
	}
	return num, nil
}

// Setting returns a runtime setting, or an error wrapping
// siemsync.ErrNotFound when it was never set.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v); err != nil {
		return "", fail("read setting "+key, err)
	}
	return v, nil
}

// SetSetting stores a runtime setting, replacing any previous value.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fail("store setting "+key, err)
	}
	return nil
}

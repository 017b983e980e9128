package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/siemsync/siemsync"
)

// ListAccounts returns every account, ordered by id.
func (db *DB) ListAccounts(ctx context.Context) ([]siemsync.Account, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, host, created_at, siem_enabled FROM accounts ORDER BY id`)
	if err != nil {
		return nil, db.fail("list accounts", err)
	}
	defer rows.Close()
	var out []siemsync.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, db.fail("list accounts", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list accounts", err)
	}
	return out, nil
}

// GetAccount returns one account, or an error wrapping siemsync.ErrNotFound.
func (db *DB) GetAccount(ctx context.Context, id string) (siemsync.Account, error) {
	id = siemsync.CanonicalID(id)
	row := db.r.QueryRowContext(ctx, `SELECT id, name, host, created_at, siem_enabled FROM accounts WHERE id = ?`, id)
	a, err := scanAccount(row)
	if err != nil {
		return a, db.fail("get account "+id, notFound(err))
	}
	return a, nil
}

// UpdateAccount sets the account's name and/or host; a nil pointer keeps
// the stored value. Accounts are created by ingest, so an unknown id is an
// error wrapping siemsync.ErrNotFound.
func (db *DB) UpdateAccount(ctx context.Context, id string, name, host *string) error {
	id = siemsync.CanonicalID(id)
	for _, f := range []struct {
		field string
		v     *string
	}{{"name", name}, {"host", host}} {
		if f.v == nil {
			continue
		}
		if err := siemsync.CheckText(f.field, *f.v); err != nil {
			return err
		}
	}
	return db.inTx(ctx, "update account "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET name = coalesce(?, name), host = coalesce(?, host) WHERE id = ?`,
			name, host, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		return nil
	})
}

// SetSIEMEnabled switches the SIEM feature of an account; an unknown id is
// an error wrapping siemsync.ErrNotFound.
func (db *DB) SetSIEMEnabled(ctx context.Context, id string, enabled bool) error {
	return db.inTx(ctx, "set SIEM feature of account "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET siem_enabled = ? WHERE id = ?`, enabled, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		return nil
	})
}

type scanner interface{ Scan(dest ...any) error }

func scanAccount(s scanner) (siemsync.Account, error) {
	var a siemsync.Account
	var created int64
	if err := s.Scan(&a.ID, &a.Name, &a.Host, &created, &a.SIEMEnabled); err != nil {
		return a, err
	}
	a.CreatedAt = fromMS(created)
	return a, nil
}

// ensureAccount creates the account on first sight and returns its num.
func ensureAccount(ctx context.Context, tx *sql.Tx, id string, now int64) (int64, error) {
	id = siemsync.CanonicalID(id)
	_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, id, now)
	if err != nil {
		return 0, fmt.Errorf("create account %s: %w", id, err)
	}
	var num int64
	if err := tx.QueryRowContext(ctx, `SELECT num FROM accounts WHERE id = ?`, id).Scan(&num); err != nil {
		return 0, fmt.Errorf("read account %s: %w", id, err)
	}
	return num, nil
}

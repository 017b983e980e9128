package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// CreateAccountKey stores a new account key; see store.AccountKeys.
func (db *DB) CreateAccountKey(ctx context.Context, k *store.AccountKey) error {
	now := db.nowMS()
	id := uuid.NewString()
	return db.inTx(ctx, "create key of account "+k.Account, func(tx *sql.Tx) error {
		var exists, taken bool
		err := tx.QueryRowContext(ctx, `SELECT
				EXISTS (SELECT 1 FROM accounts WHERE id = ?1),
				EXISTS (SELECT 1 FROM account_keys WHERE account = ?1 AND name = ?2 AND revoked_at IS NULL)`,
			k.Account, k.Name).Scan(&exists, &taken)
		switch {
		case err != nil:
			return err
		case !exists:
			return siemsync.ErrNotFound
		case taken:
			return &conflictError{&siemsync.FieldError{Field: "name", Msg: "a working key of this account already has this name: choose another, or revoke that key first"}}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO account_keys (id, account, name, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			id, k.Account, k.Name, k.Hash[:], ms(now))
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return fmt.Errorf("a key with this hash exists already: generate a new key")
		}
		if err != nil {
			return err
		}
		k.ID, k.CreatedAt, k.RevokedAt = id, now, nil
		return nil
	})
}

const sqlKeyColumns = `id, account, name, hash, created_at, revoked_at`

func scanKey(s scanner) (store.AccountKey, error) {
	var k store.AccountKey
	var hash []byte
	var created int64
	var revoked sql.NullInt64
	if err := s.Scan(&k.ID, &k.Account, &k.Name, &hash, &created, &revoked); err != nil {
		return k, err
	}
	if len(hash) != len(k.Hash) {
		return k, fmt.Errorf("key %s: stored hash has %d bytes, want %d", k.ID, len(hash), len(k.Hash))
	}
	copy(k.Hash[:], hash)
	k.CreatedAt, k.RevokedAt = fromMS(created), timePtr(revoked)
	return k, nil
}

// ListAccountKeys lists the keys of an account, oldest first.
func (db *DB) ListAccountKeys(ctx context.Context, account string) ([]store.AccountKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlKeyColumns+` FROM account_keys WHERE account = ? ORDER BY created_at, id`, account)
	if err != nil {
		return nil, db.fail("list keys of account "+account, err)
	}
	defer rows.Close()
	var out []store.AccountKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, db.fail("list keys of account "+account, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list keys of account "+account, err)
	}
	return out, nil
}

// RevokeAccountKey revokes a key and ends its sessions in one transaction.
func (db *DB) RevokeAccountKey(ctx context.Context, account, id string) error {
	return db.inTx(ctx, "revoke key "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE account_keys SET revoked_at = ? WHERE id = ? AND account = ? AND revoked_at IS NULL`,
			ms(db.nowMS()), id, account)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE key_id = ?`, id)
		return err
	})
}

// AccountKeyByHash finds the working key with this hash. A reader sees
// every transaction committed before its query starts (WAL), so a
// revocation counts from the next request on.
func (db *DB) AccountKeyByHash(ctx context.Context, hash [32]byte) (store.AccountKey, error) {
	row := db.r.QueryRowContext(ctx, `SELECT `+sqlKeyColumns+` FROM account_keys WHERE hash = ? AND revoked_at IS NULL`, hash[:])
	k, err := scanKey(row)
	if err != nil {
		return k, db.fail("look up account key", notFound(err))
	}
	return k, nil
}

// CreateSession stores a page sign-in and deletes expired ones.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	return db.inTx(ctx, "create session", func(tx *sql.Tx) error {
		now := ms(db.nowMS())
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now); err != nil {
			return err
		}
		var keyID any
		if s.KeyID != "" {
			keyID = s.KeyID
		}
		created := now
		if !s.CreatedAt.IsZero() {
			created = ms(s.CreatedAt)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, key_id, admin, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			s.ID[:], keyID, s.Admin, created, ms(s.Expires))
		return err
	})
}

// GetSession returns a live session; see store.Sessions.
func (db *DB) GetSession(ctx context.Context, id [32]byte) (store.Session, error) {
	s := store.Session{ID: id}
	var keyID, account, keyName sql.NullString
	var created, expires int64
	err := db.r.QueryRowContext(ctx, `SELECT s.key_id, s.admin, s.created_at, s.expires_at, k.account, k.name
		FROM sessions s LEFT JOIN account_keys k ON k.id = s.key_id
		WHERE s.id = ? AND s.expires_at > ? AND (s.key_id IS NULL OR k.revoked_at IS NULL)`,
		id[:], ms(db.nowMS())).Scan(&keyID, &s.Admin, &created, &expires, &account, &keyName)
	if err != nil {
		return s, db.fail("read session", notFound(err))
	}
	s.KeyID, s.Account, s.KeyName = keyID.String, account.String, keyName.String
	s.CreatedAt, s.Expires = fromMS(created), fromMS(expires)
	return s, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, id [32]byte) error {
	return db.inTx(ctx, "delete session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id[:])
		return err
	})
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// CreateAccountKey stores a new account key; see store.AccountKeys.
func (db *DB) CreateAccountKey(ctx context.Context, k *store.AccountKey) error {
	now := db.nowMS()
	id := uuid.NewString()
	return db.inTx(ctx, "create key of account "+k.Account, func(tx pgx.Tx) error {
		var exists, taken bool
		err := tx.QueryRow(ctx, `SELECT
				EXISTS (SELECT 1 FROM accounts WHERE id = $1),
				EXISTS (SELECT 1 FROM account_keys WHERE account = $1 AND name = $2 AND revoked_at IS NULL)`,
			k.Account, k.Name).Scan(&exists, &taken)
		switch {
		case err != nil:
			return err
		case !exists:
			return siemsync.ErrNotFound
		case taken:
			return &conflictError{&siemsync.FieldError{Field: "name", Msg: "a working key of this account already has this name: choose another, or revoke that key first"}}
		}
		_, err = tx.Exec(ctx, `INSERT INTO account_keys (id, account, name, hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, k.Account, k.Name, k.Hash[:], ms(now))
		if pgCode(err) == uniqueViolation {
			return errors.New("a key with this hash exists already: generate a new key")
		}
		if err != nil {
			return err
		}
		k.ID, k.CreatedAt, k.RevokedAt = id, now, nil
		return nil
	})
}

const sqlKeyColumns = `id, account, name, hash, created_at, revoked_at`

func scanKey(r pgx.Row) (store.AccountKey, error) {
	var k store.AccountKey
	var hash []byte
	var created int64
	var revoked *int64
	if err := r.Scan(&k.ID, &k.Account, &k.Name, &hash, &created, &revoked); err != nil {
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
	rows, err := db.pool.Query(ctx, `SELECT `+sqlKeyColumns+` FROM account_keys WHERE account = $1 ORDER BY created_at, id`, account)
	if err != nil {
		return nil, fail("list keys of account "+account, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AccountKey, error) { return scanKey(r) })
	if err != nil {
		return nil, fail("list keys of account "+account, err)
	}
	return out, nil
}

// RevokeAccountKey revokes a key and ends its sessions in one transaction.
func (db *DB) RevokeAccountKey(ctx context.Context, account, id string) error {
	return db.inTx(ctx, "revoke key "+id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE account_keys SET revoked_at = $1 WHERE id = $2 AND account = $3 AND revoked_at IS NULL`,
			ms(db.nowMS()), id, account)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return siemsync.ErrNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE key_id = $1`, id)
		return err
	})
}

// AccountKeyByHash finds the working key with this hash.
func (db *DB) AccountKeyByHash(ctx context.Context, hash [32]byte) (store.AccountKey, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+sqlKeyColumns+` FROM account_keys WHERE hash = $1 AND revoked_at IS NULL`, hash[:]))
	if err != nil {
		return k, fail("look up account key", err)
	}
	return k, nil
}

// CreateSession stores a page sign-in and deletes expired ones.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	return db.inTx(ctx, "create session", func(tx pgx.Tx) error {
		now := ms(db.nowMS())
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now); err != nil {
			return err
		}
		var keyID *string
		if s.KeyID != "" {
			keyID = &s.KeyID
		}
		created := now
		if !s.CreatedAt.IsZero() {
			created = ms(s.CreatedAt)
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id, key_id, admin, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			s.ID[:], keyID, s.Admin, created, ms(s.Expires))
		return err
	})
}

// GetSession returns a live session; see store.Sessions.
func (db *DB) GetSession(ctx context.Context, id [32]byte) (store.Session, error) {
	s := store.Session{ID: id}
	var keyID, account, keyName *string
	var created, expires int64
	err := db.pool.QueryRow(ctx, `SELECT s.key_id, s.admin, s.created_at, s.expires_at, k.account, k.name
		FROM sessions s LEFT JOIN account_keys k ON k.id = s.key_id
		WHERE s.id = $1 AND s.expires_at > $2 AND (s.key_id IS NULL OR k.revoked_at IS NULL)`,
		id[:], ms(db.nowMS())).Scan(&keyID, &s.Admin, &created, &expires, &account, &keyName)
	if err != nil {
		return s, fail("read session", err)
	}
	s.KeyID, s.Account, s.KeyName = deref(keyID), deref(account), deref(keyName)
	s.CreatedAt, s.Expires = fromMS(created), fromMS(expires)
	return s, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, id [32]byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id[:]); err != nil {
		return fail("delete session", err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Every lease method runs in one write transaction. The writer is BEGIN
// IMMEDIATE, so the read that decides and the write that takes happen under
// SQLite's write lock: two processes on one file cannot both see a lease free.

// sqlTakeLease takes the lease of ?1 with the next token. Callers check
// first that no unexpired lease exists.
const sqlTakeLease = `INSERT INTO leases (name, owner, token, expires) VALUES (?1, ?2, 1, ?3)
	ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = token + 1, expires = excluded.expires
	RETURNING token`

// AcquireLease takes the lease of name for owner until now + ttl. It fails
// with an error wrapping store.ErrLeaseHeld while an unexpired lease of the
// name exists, whoever holds it.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (store.Lease, error) {
	l := store.Lease{Name: name, Owner: owner}
	if err := checkLease(name, owner, ttl); err != nil {
		return l, err
	}
	err := db.inTx(ctx, "take lease "+name, func(tx *sql.Tx) error {
		now := db.nowMS()
		var holder string
		var expires int64
		err := tx.QueryRowContext(ctx, `SELECT owner, expires FROM leases WHERE name = ?`, name).Scan(&holder, &expires)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && expires > ms(now) {
			return fmt.Errorf("%w: %s until %s", store.ErrLeaseHeld, holder, fromMS(expires).Format(time.RFC3339))
		}
		l.Expires = now.Add(ttl)
		return tx.QueryRowContext(ctx, sqlTakeLease, name, owner, ms(l.Expires)).Scan(&l.Token)
	})
	return l, err
}

// RenewLease extends l to now + ttl. It fails with store.ErrFenced once
// another lease of the name was taken; a lease that expired but that nobody
// took since is renewed.
func (db *DB) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := checkLease(l.Name, l.Owner, ttl); err != nil {
		return l, err
	}
	err := db.inTx(ctx, "renew lease "+l.Name, func(tx *sql.Tx) error {
		if err := fence(ctx, tx, l.Name, l.Token); err != nil {
			return err
		}
		expires := db.nowMS().Add(ttl)
		_, err := tx.ExecContext(ctx, `UPDATE leases SET expires = ?, owner = ? WHERE name = ?`, ms(expires), l.Owner, l.Name)
		l.Expires = expires
		return err
	})
	return l, err
}

// ReleaseLease gives l back: the name is free at once. The row keeps the
// token, so the next lease of the name gets a greater one.
func (db *DB) ReleaseLease(ctx context.Context, l store.Lease) error {
	return db.inTx(ctx, "release lease "+l.Name, func(tx *sql.Tx) error {
		if err := fence(ctx, tx, l.Name, l.Token); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE leases SET expires = 0 WHERE name = ?`, l.Name)
		return err
	})
}

// LeaseDue leases up to limit enabled integrations of accounts with the
// SIEM feature on that are due and whose lease is free or expired, the longest due first, all in one write
// transaction: two callers (in one process or two) never get the same one.
func (db *DB) LeaseDue(ctx context.Context, owner string, ttl time.Duration, limit int) ([]store.Lease, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := checkLease("due integrations", owner, ttl); err != nil {
		return nil, err
	}
	var out []store.Lease
	err := db.inTx(ctx, "lease due integrations", func(tx *sql.Tx) error {
		now := db.nowMS()
		// An account whose SIEM feature is off has nothing due (SPEC §7.2).
		rows, err := tx.QueryContext(ctx, `SELECT i.id FROM integrations i JOIN accounts a ON a.id = i.account
			LEFT JOIN leases l ON l.name = i.id
			WHERE i.enabled AND a.siem_enabled AND i.next_due_at <= ?1 AND (l.name IS NULL OR l.expires <= ?1)
			ORDER BY i.next_due_at, i.id LIMIT ?2`, ms(now), limit)
		if err != nil {
			return fmt.Errorf("find due integrations: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("find due integrations: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find due integrations: %w", err)
		}
		expires := now.Add(ttl)
		for _, id := range ids {
			l := store.Lease{Name: id, Owner: owner, Expires: expires}
			if err := tx.QueryRowContext(ctx, sqlTakeLease, id, owner, ms(expires)).Scan(&l.Token); err != nil {
				return fmt.Errorf("take lease %s: %w", id, err)
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetNextDue sets when the integration is next due; the zero time means now.
func (db *DB) SetNextDue(ctx context.Context, integration string, at time.Time) error {
	if at.IsZero() {
		at = db.nowMS()
	}
	return db.inTx(ctx, "set next due time of "+integration, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET next_due_at = ? WHERE id = ?`, ms(at), integration)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		return nil
	})
}

// fence refuses a write of a cycle whose lease token is no longer the
// name's current one. A name never leased has token 0.
func fence(ctx context.Context, tx *sql.Tx, name string, token int64) error {
	var cur int64
	err := tx.QueryRowContext(ctx, `SELECT ifnull((SELECT token FROM leases WHERE name = ?), 0)`, name).Scan(&cur)
	if err != nil {
		return fmt.Errorf("check lease: %w", err)
	}
	if cur != token {
		return fmt.Errorf("%w (token %d, current %d)", store.ErrFenced, token, cur)
	}
	return nil
}

func checkLease(name, owner string, ttl time.Duration) error {
	return store.CheckLease(name, owner, ttl)
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync/store"
)

// A lease row is never deleted: releasing expires it, so the name's token
// keeps growing. Expiry is on the database clock.
const sqlAcquire = `INSERT INTO leases (name, owner, token, expires_ms)
	VALUES ($1, $2, 1, siemsync_now_ms() + $3)
	ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = leases.token + 1, expires_ms = excluded.expires_ms
		WHERE leases.expires_ms <= siemsync_now_ms()
	RETURNING token, expires_ms`

// AcquireLease takes the lease of name for ttl, or fails with
// store.ErrLeaseHeld while an unexpired lease of it exists (whoever owns it).
func (db *DB) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (store.Lease, error) {
	l := store.Lease{Name: name, Owner: owner}
	if err := store.CheckLease(name, owner, ttl); err != nil {
		return l, err
	}
	var exp int64
	err := db.pool.QueryRow(ctx, sqlAcquire, name, owner, ttl.Milliseconds()).Scan(&l.Token, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Lease{}, fmt.Errorf("lease %s: %w", name, store.ErrLeaseHeld)
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("lease %s: %w", name, err)
	}
	l.Expires = fromMS(exp)
	return l, nil
}

// RenewLease extends a lease that is still the name's current one (even if
// it expired meanwhile and nobody took it), else fails with store.ErrFenced.
func (db *DB) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := store.CheckLease(l.Name, l.Owner, ttl); err != nil {
		return l, err
	}
	var exp int64
	err := db.pool.QueryRow(ctx, `UPDATE leases SET expires_ms = siemsync_now_ms() + $3, owner = $4
		WHERE name = $1 AND token = $2 RETURNING expires_ms`, l.Name, l.Token, ttl.Milliseconds(), l.Owner).Scan(&exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("renew lease %s: %w", l.Name, store.ErrFenced)
	}
	if err != nil {
		return l, fmt.Errorf("renew lease %s: %w", l.Name, err)
	}
	l.Expires = fromMS(exp)
	return l, nil
}

// ReleaseLease gives a lease back so that the name can be leased at once.
func (db *DB) ReleaseLease(ctx context.Context, l store.Lease) error {
	tag, err := db.pool.Exec(ctx, `UPDATE leases SET expires_ms = 0 WHERE name = $1 AND token = $2`, l.Name, l.Token)
	if err != nil {
		return fmt.Errorf("release lease %s: %w", l.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release lease %s: %w", l.Name, store.ErrFenced)
	}
	return nil
}

// sqlLeaseDue picks due integrations with SKIP LOCKED, so that workers
// asking at once split them, and leases them in the same statement. It
// walks the integrations_due_order index and stops at the limit; the clock
// is read in a sub-select because a bare volatile function cannot bound an
// index scan (every due integration was joined and sorted instead). The
// upsert's WHERE re-checks expiry on the latest row version, so a lease
// taken meanwhile by AcquireLease ("sync now") is not taken twice.
//
// It is planned once per connection and limit, not at every look: the
// limit is written into the text (%d; the scheduler asks for powers of two,
// so a worker has a handful of them), and the plan is generic
// (plan_cache_mode for its transaction). Left to choose, the server planned
// it anew at every look, 1–2 ms, more than running it.
const sqlLeaseDue = `WITH due AS (
		SELECT i.id FROM integrations i JOIN accounts a ON a.id = i.account LEFT JOIN leases l ON l.name = i.id
		WHERE i.enabled AND a.siem_enabled AND i.next_due_at <= (SELECT siemsync_now_ms()) AND (l.name IS NULL OR l.expires_ms <= (SELECT siemsync_now_ms()))
		ORDER BY i.next_due_at, i.id
		LIMIT %d
		FOR UPDATE OF i SKIP LOCKED)
	INSERT INTO leases (name, owner, token, expires_ms)
		SELECT id, $1, 1, siemsync_now_ms() + $2 FROM due
	ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = leases.token + 1, expires_ms = excluded.expires_ms
		WHERE leases.expires_ms <= siemsync_now_ms()
	RETURNING name, token, expires_ms`

// LeaseDue leases up to limit enabled integrations that are due and free.
func (db *DB) LeaseDue(ctx context.Context, owner string, ttl time.Duration, limit int) ([]store.Lease, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := store.CheckLease("due integrations", owner, ttl); err != nil {
		return nil, err
	}
	var out []store.Lease
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
	b.Queue(fmt.Sprintf(sqlLeaseDue, limit), owner, ttl.Milliseconds()).Query(func(rows pgx.Rows) error {
		var l store.Lease
		var exp int64
		_, err := pgx.ForEachRow(rows, []any{&l.Name, &l.Token, &exp}, func() error {
			out = append(out, store.Lease{Name: l.Name, Owner: owner, Token: l.Token, Expires: fromMS(exp)})
			return nil
		})
		return err
	})
	if err := db.inBatchTx(ctx, "lease due integrations", b, nil, durable); err != nil {
		return nil, err
	}
	return out, nil
}

// SetNextDue sets when the integration is next due; the zero time is now
// on the database clock.
func (db *DB) SetNextDue(ctx context.Context, integration string, at time.Time) error {
	var tag, err = db.pool.Exec(ctx, `UPDATE integrations SET next_due_at = coalesce($2, siemsync_now_ms()) WHERE id = $1`,
		integration, nullMS(at))
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("integration: %w", notFound(pgx.ErrNoRows))
	}
	if err != nil {
		return fmt.Errorf("set next due time of %s: %w", integration, err)
	}
	return nil
}

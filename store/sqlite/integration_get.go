package sqlite

import (
	"context"
	"fmt"

	"github.com/siemsync/siemsync/store"

	"github.com/siemsync/siemsync"
)

// GetIntegration returns one integration with its status. withSecrets
// decrypts Token and ClientKeyPEM (for sending and testing); without it
// they stay empty and only TokenSet and ClientKeySet tell whether they are
// stored. An unknown id is an error wrapping siemsync.ErrNotFound.
func (db *DB) GetIntegration(ctx context.Context, id string, withSecrets bool) (*siemsync.Integration, error) {
	op := "get integration " + id
	var r integrationRow
	err := db.r.QueryRowContext(ctx, sqlSelectIntegration+` WHERE i.id = ?`, id).Scan(r.dest()...)
	if err != nil {
		return nil, db.fail(op, notFound(err))
	}
	in := r.integration(db.now())
	if withSecrets {
		if err := store.OpenSecrets(db.cipher, in, r.sealed); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	warnings, err := db.warnings(ctx, id)
	if err != nil {
		return nil, db.fail(op, err)
	}
	in.Status.Warnings = warnings[id]
	return in, nil
}

// ListIntegrations returns the integrations of an account ("" for all),
// ordered by account then name, with status and without secrets.
func (db *DB) ListIntegrations(ctx context.Context, account string) ([]*siemsync.Integration, error) {
	account = siemsync.CanonicalID(account)
	rows, err := db.r.QueryContext(ctx, sqlSelectIntegration+` WHERE ?1 = '' OR i.account = ?1 ORDER BY i.account, i.name`, account)
	if err != nil {
		return nil, db.fail("list integrations", err)
	}
	defer rows.Close()
	now := db.now()
	var out []*siemsync.Integration
	for rows.Next() {
		var r integrationRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, db.fail("list integrations", err)
		}
		out = append(out, r.integration(now))
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list integrations", err)
	}
	rows.Close()
	warnings, err := db.warnings(ctx, "")
	if err != nil {
		return nil, db.fail("list integrations", err)
	}
	for _, in := range out {
		in.Status.Warnings = warnings[in.ID]
	}
	return out, nil
}

// warnings reads the retention misses of one integration ("" for all) as
// status warnings, by integration id.
func (db *DB) warnings(ctx context.Context, id string) (map[string][]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT integration, source, count, from_ms, to_ms FROM retention_misses
		WHERE ?1 = '' OR integration = ?1 ORDER BY integration, source`, id)
	if err != nil {
		return nil, fmt.Errorf("read retention misses: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var integ, source string
		var count, from, to int64
		if err := rows.Scan(&integ, &source, &count, &from, &to); err != nil {
			return nil, fmt.Errorf("read retention misses: %w", err)
		}
		out[integ] = append(out[integ], store.MissWarning(source, count, fromMS(from), fromMS(to)))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read retention misses: %w", err)
	}
	return out, db.gapWarnings(ctx, id, out)
}

// gapWarnings adds the backfill gaps of one integration ("" for all) to out.
func (db *DB) gapWarnings(ctx context.Context, id string, out map[string][]string) error {
	rows, err := db.r.QueryContext(ctx, `SELECT integration, source, since_ms, count, from_ms, to_ms FROM backfill_gaps
		WHERE ?1 = '' OR integration = ?1 ORDER BY integration, source`, id)
	if err != nil {
		return fmt.Errorf("read backfill gaps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var integ, source string
		var since, count, from, to int64
		if err := rows.Scan(&integ, &source, &since, &count, &from, &to); err != nil {
			return fmt.Errorf("read backfill gaps: %w", err)
		}
		out[integ] = append(out[integ], store.GapWarning(source, fromMS(since), count, fromMS(from), fromMS(to)))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read backfill gaps: %w", err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/siemsync/siemsync/store"
	"strings"

	"github.com/google/uuid"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/siemsync/siemsync"
)

// CreateIntegration stores a new integration. Callers validate it first
// (Integration.Validate); the store assigns in.ID (when empty), CreatedAt
// and UpdatedAt, makes it due now (an enabled one starts within seconds), creates the account on first sight, seals Token and
// ClientKeyPEM, and sets the initial checkpoints in the same transaction:
//
//   - normally at the current end of the account's logs, so the
//     integration sends what happens from its creation on;
//   - with BackfillSince, the audit checkpoint is 0 and records up to the
//     current end are sent only if they occurred at or after BackfillSince;
//     the jobs checkpoint is the last job change before BackfillSince.
//
// A name already used in the account is a conflict: the error is a
// *siemsync.FieldError on "name" that also matches siemsync.ErrConflict.
func (db *DB) CreateIntegration(ctx context.Context, in *siemsync.Integration) error {
	if in.ID == "" {
		in.ID = uuid.NewString()
	}
	now := db.nowMS()
	sealed, err := store.SealSecrets(db.cipher, in)
	if err != nil {
		return fmt.Errorf("create integration: %w", err)
	}
	in.Account = siemsync.CanonicalID(in.Account)
	return db.inTx(ctx, "create integration", func(tx *sql.Tx) error {
		num, err := integrationAccount(ctx, tx, in, ms(now))
		if err != nil {
			return err
		}
		var auditEnd, jobsEnd int64
		err = tx.QueryRowContext(ctx, `SELECT
				(SELECT ifnull(max(seq), 0) FROM audit WHERE account_num = ?1),
				(SELECT ifnull(max(seq), 0) FROM jobs WHERE account_num = ?1)`, num).Scan(&auditEnd, &jobsEnd)
		if err != nil {
			return fmt.Errorf("read end of log: %w", err)
		}
		auditCP, jobsCP := auditEnd, jobsEnd
		var since any
		if in.BackfillSince != nil {
			auditCP, since = 0, ms(*in.BackfillSince)
			err := tx.QueryRowContext(ctx, `SELECT ifnull(max(seq), 0) FROM jobs WHERE account_num = ? AND changed_at < ?`,
				num, since).Scan(&jobsCP)
			if err != nil {
				return fmt.Errorf("read backfill start of jobs: %w", err)
			}
		}
		args := append(configArgs(in, sealed), in.ID, in.Account, since, auditEnd, ms(now))
		_, err = tx.ExecContext(ctx, sqlInsertIntegration, args...)
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return errNameTaken()
		}
		if err != nil {
			return fmt.Errorf("insert integration: %w", err)
		}
		if err := saveScope(ctx, tx, in); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO checkpoints (integration, source, seq, updated_at)
			VALUES (?1, 'audit', ?2, ?4), (?1, 'jobs', ?3, ?4)`, in.ID, auditCP, jobsCP, ms(now))
		if err != nil {
			return fmt.Errorf("insert checkpoints: %w", err)
		}
		if in.BackfillSince != nil {
			// Retention may have deleted part of what the backfill asks
			// for before any integration of the account existed.
			_, err = tx.ExecContext(ctx, `INSERT INTO backfill_gaps (integration, source, since_ms, count, from_ms, to_ms)
				SELECT ?1, source, ?3, count, from_ms, to_ms FROM pruned
				WHERE account_num = ?2 AND to_ms >= ?3 AND instr(',' || ?4 || ',', ',' || source || ',') > 0`,
				in.ID, num, since, strings.Join(in.Sources, ","))
			if err != nil {
				return fmt.Errorf("record backfill gaps: %w", err)
			}
		}
		in.CreatedAt, in.UpdatedAt = now, now
		in.TokenSet, in.ClientKeySet, in.NotifyURLSet = sealed.Token != nil, sealed.Key != nil, sealed.Notify != nil
		return nil
	})
}

// integrationAccount returns the num of a new integration's account. An
// unknown account is created only when the caller asked for it.
func integrationAccount(ctx context.Context, tx *sql.Tx, in *siemsync.Integration, now int64) (int64, error) {
	if in.CreateAccount {
		return ensureAccount(ctx, tx, in.Account, now)
	}
	var num int64
	err := tx.QueryRowContext(ctx, `SELECT num FROM accounts WHERE id = ?`, in.Account).Scan(&num)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.UnknownAccount(in.Account)
	}
	if err != nil {
		return 0, fmt.Errorf("read account %s: %w", in.Account, err)
	}
	return num, nil
}

// UpdateIntegration replaces the configuration of an integration: every
// field but the id, account, creation time, backfill, checkpoints and
// status. An empty Token keeps the stored token; an empty ClientKeyPEM
// keeps the stored key, unless ClientCertPEM is empty too, which removes
// the client certificate and its key.
func (db *DB) UpdateIntegration(ctx context.Context, in *siemsync.Integration) error {
	now := db.nowMS()
	sealed, err := store.SealSecrets(db.cipher, in)
	if err != nil {
		return fmt.Errorf("update integration %s: %w", in.ID, err)
	}
	args := append(configArgs(in, sealed), ms(now), in.ID)
	return db.inTx(ctx, "update integration "+in.ID, func(tx *sql.Tx) error {
		if sealed.Token == nil {
			if err := tokenStaysWithHost(ctx, tx, in); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, sqlUpdateIntegration, args...)
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return errNameTaken()
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		in.UpdatedAt = now
		return saveScope(ctx, tx, in)
	})
}

// tokenStaysWithHost refuses an update that keeps the stored token while
// moving the URL to another host: the token was given for the old host,
// and a changed URL (a typo, or someone else's edit) must not carry it
// there.
func tokenStaysWithHost(ctx context.Context, tx *sql.Tx, in *siemsync.Integration) error {
	var oldURL string
	var hasToken bool
	err := tx.QueryRowContext(ctx, `SELECT url, token_enc IS NOT NULL FROM integrations WHERE id = ?`, in.ID).Scan(&oldURL, &hasToken)
	if errors.Is(err, sql.ErrNoRows) {
		return siemsync.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read the stored URL: %w", err)
	}
	return store.TokenStaysWithHost(oldURL, in.URL, hasToken)
}

// SetEnabled turns an integration on or off. A disabled integration keeps
// its checkpoints, so enabling it again resumes where it stopped; enabling
// makes it due at once.
func (db *DB) SetEnabled(ctx context.Context, id string, enabled bool) error {
	return db.inTx(ctx, "set integration "+id+" enabled", func(tx *sql.Tx) error {
		now := ms(db.nowMS())
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET enabled = ?1, updated_at = ?2,
			next_due_at = CASE WHEN ?1 THEN ?2 ELSE next_due_at END WHERE id = ?3`, enabled, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		return nil
	})
}

// LearnBatchBytes records that the destination of an integration refused a
// request as too large, so that later cycles keep requests to n bytes. It
// only ever lowers what was learned.
func (db *DB) LearnBatchBytes(ctx context.Context, id string, n int) error {
	return db.inTx(ctx, "learn batch size of integration "+id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE integrations SET learned_batch_bytes = ?1
			WHERE id = ?2 AND (learned_batch_bytes = 0 OR learned_batch_bytes > ?1)`, n, id)
		return err
	})
}

// DeleteIntegration removes an integration with its checkpoints, accepted
// ranges, runs, set-aside events and lease. A worker still running a cycle
// of it finds its writes refused: the integration is gone.
func (db *DB) DeleteIntegration(ctx context.Context, id string) error {
	return db.inTx(ctx, "delete integration "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM integrations WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return siemsync.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ?`, id); err != nil {
			return fmt.Errorf("delete lease: %w", err)
		}
		return nil
	})
}

// EnabledIntegrationIDs lists the enabled integrations of accounts whose
// SIEM feature is on, by account and name.
func (db *DB) EnabledIntegrationIDs(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT i.id FROM integrations i JOIN accounts a ON a.id = i.account
		WHERE i.enabled AND a.siem_enabled ORDER BY i.account, i.name`)
	if err != nil {
		return nil, db.fail("list enabled integrations", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, db.fail("list enabled integrations", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list enabled integrations", err)
	}
	return ids, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// The configuration columns of integrations, in the order of configArgs.
const configColumns = `name, kind, enabled, sources, url, token_enc, hec_index, sourcetype, source, ack, ack_timeout_ns,
	address, protocol, framing, min_severity, ca_pem, client_cert_pem, client_key_enc, insecure_skip_verify,
	server_name, gzip, max_batch_bytes, max_batch_events, max_in_flight,
	channel, audit_events, job_statuses, job_types, heartbeat, profile, notify_url_enc, notify_host, alert_after_ns`

// next_due_at starts at the database clock: a new integration runs within
// seconds on whichever worker leases it first.
const sqlInsertIntegration = `INSERT INTO integrations (` + configColumns + `,
		id, account, backfill_since, backfill_until, created_at, updated_at, next_due_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
		$24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $38, siemsync_now_ms())`

// A NULL secret ($6, $18, $31) keeps the stored one; clearing the
// certificate ($17 = ”) clears the key, an empty notify_host ($32) the
// webhook.
const sqlUpdateIntegration = `UPDATE integrations SET
		name = $1, kind = $2, enabled = $3, sources = $4, url = $5, token_enc = coalesce($6, token_enc),
		hec_index = $7, sourcetype = $8, source = $9, ack = $10, ack_timeout_ns = $11,
		address = $12, protocol = $13, framing = $14, min_severity = $15, ca_pem = $16, client_cert_pem = $17,
		client_key_enc = CASE WHEN $18::bytea IS NOT NULL THEN $18 WHEN $17 = '' THEN NULL ELSE client_key_enc END,
		insecure_skip_verify = $19, server_name = $20, gzip = $21, max_batch_bytes = $22, max_batch_events = $23,
		max_in_flight = $24, channel = $25, audit_events = $26, job_statuses = $27, job_types = $28, heartbeat = $29,
		profile = $30, notify_url_enc = CASE WHEN $31::bytea IS NOT NULL THEN $31 WHEN $32 = '' THEN NULL ELSE notify_url_enc END,
		notify_host = $32, alert_after_ns = $33,
		learned_batch_bytes = CASE WHEN max_batch_bytes = $22 THEN learned_batch_bytes ELSE 0 END,
		next_due_at = CASE WHEN NOT enabled AND $3 THEN siemsync_now_ms() ELSE next_due_at END,
		updated_at = $34
	WHERE id = $35`

func configArgs(in *siemsync.Integration, sealed store.Sealed) []any {
	notifyHost := in.NotifyHost
	if in.NotifyURL != "" && notifyHost == "" {
		notifyHost = siemsync.NotifyHostOf(in.NotifyURL)
	}
	return []any{
		in.Name, string(in.Kind), in.Enabled, strings.Join(in.Sources, ","), in.URL, nilIfEmpty(sealed.Token),
		in.Index, in.Sourcetype, in.Source, in.Ack, int64(in.AckTimeout),
		in.Address, in.Protocol, in.Framing, in.MinSeverity, in.CAPEM, in.ClientCertPEM, nilIfEmpty(sealed.Key),
		in.InsecureSkipVerify, in.ServerName, in.Gzip, in.MaxBatchBytes, in.MaxBatchEvents, in.MaxInFlight,
		in.Channel, store.JSONList(in.AuditEvents), store.JSONList(in.JobStatuses), store.JSONList(in.JobTypes), in.Heartbeat,
		in.Profile, nilIfEmpty(sealed.Notify), notifyHost, int64(in.AlertAfter),
	}
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateIntegration stores a new integration with its initial checkpoints
// (see store/sqlite for the rules: the current end of the account's logs,
// or a backfill).
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
	return db.inTx(ctx, "create integration", func(tx pgx.Tx) error {
		num, err := integrationAccount(ctx, tx, in, ms(now))
		if err != nil {
			return err
		}
		var auditEnd, jobsEnd int64
		err = tx.QueryRow(ctx, `SELECT
				(SELECT coalesce(max(seq), 0) FROM audit WHERE account_num = $1),
				(SELECT coalesce(max(seq), 0) FROM jobs WHERE account_num = $1)`, num).Scan(&auditEnd, &jobsEnd)
		if err != nil {
			return fmt.Errorf("read end of log: %w", err)
		}
		auditCP, jobsCP := auditEnd, jobsEnd
		var since *int64
		if in.BackfillSince != nil {
			auditCP, since = 0, nullMS(*in.BackfillSince)
			err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM jobs WHERE account_num = $1 AND changed_at < $2`,
				num, *since).Scan(&jobsCP)
			if err != nil {
				return fmt.Errorf("read backfill start of jobs: %w", err)
			}
		}
		args := append(configArgs(in, sealed), in.ID, in.Account, since, auditEnd, ms(now))
		_, err = tx.Exec(ctx, sqlInsertIntegration, args...)
		if pgCode(err) == uniqueViolation {
			return errNameTaken()
		}
		if err != nil {
			return fmt.Errorf("insert integration: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO checkpoints (integration, source, seq, updated_at)
			VALUES ($1, 'audit', $2, $4), ($1, 'jobs', $3, $4)`, in.ID, auditCP, jobsCP, ms(now))
		if err != nil {
			return fmt.Errorf("insert checkpoints: %w", err)
		}
		if since != nil {
			// Retention may have deleted part of what the backfill asks
			// for before any integration of the account existed.
			_, err = tx.Exec(ctx, `INSERT INTO backfill_gaps (integration, source, since_ms, count, from_ms, to_ms)
				SELECT $1, source, $3, count, from_ms, to_ms FROM pruned
				WHERE account_num = $2 AND to_ms >= $3 AND source = ANY($4)`, in.ID, num, *since, in.Sources)
			if err != nil {
				return fmt.Errorf("record backfill gaps: %w", err)
			}
		}
		in.CreatedAt, in.UpdatedAt = now, now
		in.TokenSet, in.ClientKeySet, in.NotifyURLSet = sealed.Token != nil, sealed.Key != nil, sealed.Notify != nil
		return nil
	})
}

// integrationAccount returns the num of a new integration's account,
// creating an unknown account only when the caller asked for it.
func integrationAccount(ctx context.Context, tx pgx.Tx, in *siemsync.Integration, now int64) (int32, error) {
	if in.CreateAccount {
		return ensureAccount(ctx, tx, in.Account, now)
	}
	var num int32
	err := tx.QueryRow(ctx, `SELECT num FROM accounts WHERE id = $1`, in.Account).Scan(&num)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, store.UnknownAccount(in.Account)
	}
	if err != nil {
		return 0, fmt.Errorf("read account %s: %w", in.Account, err)
	}
	return num, nil
}

// UpdateIntegration replaces the configuration of an integration (as
// store/sqlite does).
func (db *DB) UpdateIntegration(ctx context.Context, in *siemsync.Integration) error {
	now := db.nowMS()
	sealed, err := store.SealSecrets(db.cipher, in)
	if err != nil {
		return fmt.Errorf("update integration %s: %w", in.ID, err)
	}
	args := append(configArgs(in, sealed), ms(now), in.ID)
	err = db.inTx(ctx, "update integration "+in.ID, func(tx pgx.Tx) error {
		if sealed.Token == nil {
			var oldURL string
			var hasToken bool
			err := tx.QueryRow(ctx, `SELECT url, token_enc IS NOT NULL FROM integrations WHERE id = $1 FOR UPDATE`, in.ID).Scan(&oldURL, &hasToken)
			if err != nil {
				return err
			}
			if err := store.TokenStaysWithHost(oldURL, in.URL, hasToken); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, sqlUpdateIntegration, args...)
		if pgCode(err) == uniqueViolation {
			return errNameTaken()
		}
		if err == nil && tag.RowsAffected() == 0 {
			err = siemsync.ErrNotFound
		}
		return err
	})
	if err != nil {
		return err
	}
	in.UpdatedAt = now
	return nil
}

// SetEnabled turns an integration on or off; turning it on makes it due now.
func (db *DB) SetEnabled(ctx context.Context, id string, enabled bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE integrations SET enabled = $1, updated_at = $2,
			next_due_at = CASE WHEN $1 THEN siemsync_now_ms() ELSE next_due_at END
		WHERE id = $3`, enabled, ms(db.nowMS()), id)
	if err == nil && tag.RowsAffected() == 0 {
		err = siemsync.ErrNotFound
	}
	if err != nil {
		return fail("set integration "+id+" enabled", err)
	}
	return nil
}

// LearnBatchBytes lowers the learned request size limit of an integration.
func (db *DB) LearnBatchBytes(ctx context.Context, id string, n int) error {
	_, err := db.pool.Exec(ctx, `UPDATE integrations SET learned_batch_bytes = $1
		WHERE id = $2 AND (learned_batch_bytes = 0 OR learned_batch_bytes > $1)`, n, id)
	if err != nil {
		return fail("learn batch size of integration "+id, err)
	}
	return nil
}

// DeleteIntegration removes an integration with its checkpoints, runs,
// set-aside events and lease.
func (db *DB) DeleteIntegration(ctx context.Context, id string) error {
	return db.inTx(ctx, "delete integration "+id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM integrations WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return siemsync.ErrNotFound
		}
		// Its id is never used again, so its token may go.
		_, err = tx.Exec(ctx, `DELETE FROM leases WHERE name = $1`, id)
		return err
	})
}

// EnabledIntegrationIDs lists the enabled integrations of accounts whose
// SIEM feature is on, by account and name.
func (db *DB) EnabledIntegrationIDs(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT i.id FROM integrations i JOIN accounts a ON a.id = i.account
		WHERE i.enabled AND a.siem_enabled ORDER BY i.account, i.name`)
	if err != nil {
		return nil, fail("list enabled integrations", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fail("list enabled integrations", err)
	}
	return ids, nil
}

// sqlIntegrationColumns are the columns of an integration with its status
// (integrationRow.dest) from integrations i.
const sqlIntegrationColumns = configColumns + `,
		i.id, i.account, backfill_since, created_at, updated_at,
		last_complete, last_error, error_message, events_last_cycle,
		(SELECT count(*) FROM set_aside s WHERE s.integration = i.id), learned_batch_bytes, last_worker, filtered_last_cycle,
		alert_state, alert_error`

// sqlSelectIntegration reads an integration with its status.
const sqlSelectIntegration = `SELECT ` + sqlIntegrationColumns + `
	FROM integrations i`

type integrationRow struct {
	in                                 siemsync.Integration
	sources, kind                      string
	ackTimeout, alertAfter             int64
	sealed                             store.Sealed
	since                              *int64
	created, updated                   int64
	lastComplete, lastError            *int64
	auditEvents, jobStatuses, jobTypes string
}

func (r *integrationRow) dest() []any { return r.appendDest(nil) }

// appendDest appends the destinations of sqlIntegrationColumns to dst.
func (r *integrationRow) appendDest(dst []any) []any {
	in := &r.in
	return append(dst,
		&in.Name, &r.kind, &in.Enabled, &r.sources, &in.URL, &r.sealed.Token, &in.Index, &in.Sourcetype, &in.Source,
		&in.Ack, &r.ackTimeout, &in.Address, &in.Protocol, &in.Framing, &in.MinSeverity, &in.CAPEM,
		&in.ClientCertPEM, &r.sealed.Key, &in.InsecureSkipVerify, &in.ServerName, &in.Gzip, &in.MaxBatchBytes,
		&in.MaxBatchEvents, &in.MaxInFlight,
		&in.Channel, &r.auditEvents, &r.jobStatuses, &r.jobTypes, &in.Heartbeat,
		&in.Profile, &r.sealed.Notify, &in.NotifyHost, &r.alertAfter,
		&in.ID, &in.Account, &r.since, &r.created, &r.updated,
		&r.lastComplete, &r.lastError, &in.Status.ErrorMessage, &in.Status.EventsLastCycle, &in.Status.SetAside,
		&in.LearnedBatchBytes, &in.Status.LastWorker, &in.Status.Filtered, &in.Status.Alert, &in.Status.AlertError,
	)
}

func (r *integrationRow) integration(now time.Time) *siemsync.Integration {
	in := r.in
	in.Kind = siemsync.Kind(r.kind)
	if r.sources != "" {
		in.Sources = strings.Split(r.sources, ",")
	}
	in.AckTimeout = siemsync.Duration(r.ackTimeout)
	in.AlertAfter = siemsync.Duration(r.alertAfter)
	in.TokenSet, in.ClientKeySet, in.NotifyURLSet = len(r.sealed.Token) > 0, len(r.sealed.Key) > 0, len(r.sealed.Notify) > 0
	in.BackfillSince = timePtr(r.since)
	in.CreatedAt, in.UpdatedAt = fromMS(r.created), fromMS(r.updated)
	in.Status.LastComplete, in.Status.LastError = timePtr(r.lastComplete), timePtr(r.lastError)
	in.Status.LagSeconds = in.Lag(now).Seconds()
	in.AuditEvents, in.JobStatuses, in.JobTypes = store.ReadList(r.auditEvents), store.ReadList(r.jobStatuses), store.ReadList(r.jobTypes)
	return &in
}

// GetIntegration returns one integration with its status; withSecrets
// opens Token and ClientKeyPEM.
func (db *DB) GetIntegration(ctx context.Context, id string, withSecrets bool) (*siemsync.Integration, error) {
	op := "get integration " + id
	var r integrationRow
	if err := db.pool.QueryRow(ctx, sqlSelectIntegration+` WHERE i.id = $1`, id).Scan(r.dest()...); err != nil {
		return nil, fail(op, err)
	}
	in := r.integration(db.now())
	if withSecrets {
		if err := store.OpenSecrets(db.cipher, in, r.sealed); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	warnings, err := db.warnings(ctx, id)
	if err != nil {
		return nil, fail(op, err)
	}
	in.Status.Warnings = warnings[id]
	return in, nil
}

// ListIntegrations returns the integrations of an account ("" for all),
// ordered by account then name, without secrets.
func (db *DB) ListIntegrations(ctx context.Context, account string) ([]*siemsync.Integration, error) {
	account = siemsync.CanonicalID(account)
	rows, err := db.pool.Query(ctx, sqlSelectIntegration+` WHERE $1 = '' OR i.account = $1 ORDER BY i.account, i.name`, account)
	if err != nil {
		return nil, fail("list integrations", err)
	}
	now := db.now()
	var out []*siemsync.Integration
	var r integrationRow
	_, err = pgx.ForEachRow(rows, r.dest(), func() error {
		out = append(out, r.integration(now))
		r = integrationRow{}
		return nil
	})
	if err != nil {
		return nil, fail("list integrations", err)
	}
	warnings, err := db.warnings(ctx, "")
	if err != nil {
		return nil, fail("list integrations", err)
	}
	for _, in := range out {
		in.Status.Warnings = warnings[in.ID]
	}
	return out, nil
}

// warnings reads the retention misses and backfill gaps of one integration
// ("" for all).
func (db *DB) warnings(ctx context.Context, id string) (map[string][]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT integration, source, count, from_ms, to_ms FROM retention_misses
		WHERE $1 = '' OR integration = $1 ORDER BY integration, source`, id)
	if err != nil {
		return nil, fmt.Errorf("read retention misses: %w", err)
	}
	out := map[string][]string{}
	var integ, source string
	var count, from, to int64
	_, err = pgx.ForEachRow(rows, []any{&integ, &source, &count, &from, &to}, func() error {
		out[integ] = append(out[integ], store.MissWarning(source, count, fromMS(from), fromMS(to)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read retention misses: %w", err)
	}
	rows, err = db.pool.Query(ctx, `SELECT integration, source, since_ms, count, from_ms, to_ms FROM backfill_gaps
		WHERE $1 = '' OR integration = $1 ORDER BY integration, source`, id)
	if err != nil {
		return nil, fmt.Errorf("read backfill gaps: %w", err)
	}
	var since int64
	_, err = pgx.ForEachRow(rows, []any{&integ, &source, &since, &count, &from, &to}, func() error {
		out[integ] = append(out[integ], store.GapWarning(source, fromMS(since), count, fromMS(from), fromMS(to)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read backfill gaps: %w", err)
	}
	return out, nil
}

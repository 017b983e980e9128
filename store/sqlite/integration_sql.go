package sqlite

import (
	"database/sql"
	"strings"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// The configuration columns of integrations, in the order of configArgs.
// The statements below number their parameters against this order.
const configColumns = `name, kind, enabled, sources, url, token_enc, hec_index, sourcetype, source, ack, ack_timeout_ns,
	address, protocol, framing, min_severity, ca_pem, client_cert_pem, client_key_enc, insecure_skip_verify,
	server_name, gzip, max_batch_bytes, max_batch_events, max_in_flight, profile, notify_url_enc, notify_host, alert_after_ns`

const sqlInsertIntegration = `INSERT INTO integrations (` + configColumns + `,
		id, account, backfill_since, backfill_until, created_at, updated_at, next_due_at)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,
		?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?33, ?33)`

// A NULL secret (?6, ?18, ?26) keeps the stored one; a client key goes with
// its certificate, so clearing the certificate (?17 = ”) clears the key,
// and a webhook with its host, so an empty notify_host (?27) clears it.
const sqlUpdateIntegration = `UPDATE integrations SET
		name = ?1, kind = ?2, enabled = ?3, sources = ?4, url = ?5, token_enc = coalesce(?6, token_enc),
		hec_index = ?7, sourcetype = ?8, source = ?9, ack = ?10, ack_timeout_ns = ?11,
		address = ?12, protocol = ?13, framing = ?14, min_severity = ?15, ca_pem = ?16, client_cert_pem = ?17,
		client_key_enc = CASE WHEN ?18 IS NOT NULL THEN ?18 WHEN ?17 = '' THEN NULL ELSE client_key_enc END,
		insecure_skip_verify = ?19, server_name = ?20, gzip = ?21, max_batch_bytes = ?22, max_batch_events = ?23,
		max_in_flight = ?24,
		learned_batch_bytes = CASE WHEN max_batch_bytes = ?22 THEN learned_batch_bytes ELSE 0 END,
		profile = ?25, notify_url_enc = CASE WHEN ?26 IS NOT NULL THEN ?26 WHEN ?27 = '' THEN NULL ELSE notify_url_enc END,
		notify_host = ?27, alert_after_ns = ?28,
		updated_at = ?29
	WHERE id = ?30`

// configArgs are the values of configColumns, with the sealed secrets.
// notify_host is in.NotifyHost as ApplyDefaults set it; "" clears the
// webhook.
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
		in.Profile, nilIfEmpty(sealed.Notify), notifyHost, int64(in.AlertAfter),
	}
}

func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// sqlSelectIntegration reads an integration with its status. The set-aside
// count comes from a correlated count over set_aside's index.
const sqlSelectIntegration = `SELECT ` + configColumns + `,
		i.id, i.account, backfill_since, created_at, updated_at,
		last_complete, last_error, error_message, events_last_cycle,
		(SELECT count(*) FROM set_aside s WHERE s.integration = i.id), learned_batch_bytes, last_worker,
		alert_state, alert_error,
		` + scopeColumns + `
	FROM integrations i`

// integrationRow is the scan target of sqlSelectIntegration.
type integrationRow struct {
	in                      siemsync.Integration
	sources                 string
	kind                    string
	ackTimeout, alertAfter  int64
	sealed                  store.Sealed
	since                   sql.NullInt64
	created, updated        int64
	lastComplete, lastError sql.NullInt64
	scope                   scopeRow
}

func (r *integrationRow) dest() []any {
	in := &r.in
	return append([]any{
		&in.Name, &r.kind, &in.Enabled, &r.sources, &in.URL, &r.sealed.Token, &in.Index, &in.Sourcetype, &in.Source,
		&in.Ack, &r.ackTimeout, &in.Address, &in.Protocol, &in.Framing, &in.MinSeverity, &in.CAPEM,
		&in.ClientCertPEM, &r.sealed.Key, &in.InsecureSkipVerify, &in.ServerName, &in.Gzip, &in.MaxBatchBytes,
		&in.MaxBatchEvents, &in.MaxInFlight, &in.Profile, &r.sealed.Notify, &in.NotifyHost, &r.alertAfter,
		&in.ID, &in.Account, &r.since, &r.created, &r.updated,
		&r.lastComplete, &r.lastError, &in.Status.ErrorMessage, &in.Status.EventsLastCycle, &in.Status.SetAside,
		&in.LearnedBatchBytes, &in.Status.LastWorker, &in.Status.Alert, &in.Status.AlertError,
	}, r.scopeDest()...)
}

// integration finishes the scanned row; lag is measured against now.
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
	r.finishScope(&in)
	return &in
}

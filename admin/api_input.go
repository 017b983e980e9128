package admin

import (
	"encoding/json"
	"time"

	"github.com/siemsync/siemsync"
)

// IntegrationPatch is the one description of a change to an integration that
// the API (the body of POST and PATCH), the page and the command line share:
// the CLI fills it from the flags it was given and calls Apply.
type IntegrationPatch = integrationInput

// Apply copies the fields set onto in; create says whether in is new.
func (b *integrationInput) Apply(in *siemsync.Integration, create bool, now time.Time) error {
	return b.apply(in, create, now)
}

// integrationInput is the body of POST and PATCH /integrations/{id}. Every
// field is a pointer so that PATCH changes only what the client sent.
// token and client_key_pem are write-only. Durations and times are read as
// strings so that a bad value is reported against its field.
type integrationInput struct {
	Account            *string   `json:"account"`
	Name               *string   `json:"name"`
	Kind               *string   `json:"kind"`
	Enabled            *bool     `json:"enabled"`
	Sources            *[]string `json:"sources"`
	URL                *string   `json:"url"`
	Token              *string   `json:"token"`
	Index              *string   `json:"index"`
	Sourcetype         *string   `json:"sourcetype"`
	Source             *string   `json:"source"`
	Ack                *bool     `json:"ack"`
	AckTimeout         *string   `json:"ack_timeout"`
	Address            *string   `json:"address"`
	Protocol           *string   `json:"protocol"`
	Framing            *string   `json:"framing"`
	MinSeverity        *int      `json:"min_severity"`
	Channel            *string   `json:"channel"`
	AuditEvents        *[]string `json:"audit_events"`
	JobStatuses        *[]string `json:"job_statuses"`
	JobTypes           *[]string `json:"job_types"`
	Heartbeat          *bool     `json:"heartbeat"`
	CAPEM              *string   `json:"ca_pem"`
	ClientCertPEM      *string   `json:"client_cert_pem"`
	ClientKeyPEM       *string   `json:"client_key_pem"`
	InsecureSkipVerify *bool     `json:"insecure_skip_verify"`
	ServerName         *string   `json:"server_name"`
	Gzip               *bool     `json:"gzip"`
	MaxBatchBytes      *int      `json:"max_batch_bytes"`
	MaxBatchEvents     *int      `json:"max_batch_events"`
	MaxInFlight        *int      `json:"max_in_flight"`
	BackfillSince      *string   `json:"backfill_since"`
	// CreateAccount (create only) makes the account when it does not
	// exist; without it an unknown account is refused.
	CreateAccount *bool   `json:"create_account"`
	Profile       *string `json:"profile"`
	NotifyURL     *string `json:"notify_url"`
	AlertAfter    *string `json:"alert_after"`

	// Read-only fields of the response, refused in a request with a
	// message rather than as unknown fields.
	ID           json.RawMessage `json:"id"`
	TokenSet     json.RawMessage `json:"token_set"`
	ClientKeySet json.RawMessage `json:"client_key_set"`
	NotifyURLSet json.RawMessage `json:"notify_url_set"`
	NotifyHost   json.RawMessage `json:"notify_host"`
	CreatedAt    json.RawMessage `json:"created_at"`
	UpdatedAt    json.RawMessage `json:"updated_at"`
	Status       json.RawMessage `json:"status"`
}

func (b *integrationInput) readOnly() error {
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{"id", b.ID}, {"token_set", b.TokenSet}, {"client_key_set", b.ClientKeySet},
		{"notify_url_set", b.NotifyURLSet}, {"notify_host", b.NotifyHost},
		{"created_at", b.CreatedAt}, {"updated_at", b.UpdatedAt}, {"status", b.Status}} {
		if len(f.v) > 0 {
			return siemsync.Invalid(f.name, "is read-only: leave it out of the request")
		}
	}
	return nil
}

// apply copies the fields the client sent onto in. create says whether in is
// new: account and backfill_since can only be set then.
func (b *integrationInput) apply(in *siemsync.Integration, create bool, now time.Time) error {
	if err := b.readOnly(); err != nil {
		return err
	}
	if b.Account != nil {
		account := siemsync.CanonicalID(*b.Account)
		if !create {
			if err := siemsync.CheckAccountChange(in.Account, account); err != nil {
				return err
			}
		} else {
			in.Account = account
		}
	}
	if b.CreateAccount != nil {
		if !create {
			return siemsync.Invalid("create_account", "can only be given when the integration is created")
		}
		in.CreateAccount = *b.CreateAccount
	}
	if b.Kind != nil {
		if !create {
			if err := siemsync.CheckKindChange(in.Kind, siemsync.Kind(*b.Kind)); err != nil {
				return err
			}
		}
		in.Kind = siemsync.Kind(*b.Kind)
	}
	if b.Sources != nil {
		in.Sources = *b.Sources
	}
	setStr(&in.Name, b.Name)
	setBool(&in.Enabled, b.Enabled)
	setStr(&in.URL, b.URL)
	setStr(&in.Index, b.Index)
	setStr(&in.Sourcetype, b.Sourcetype)
	setStr(&in.Source, b.Source)
	setBool(&in.Ack, b.Ack)
	setStr(&in.Address, b.Address)
	setStr(&in.Protocol, b.Protocol)
	setStr(&in.Framing, b.Framing)
	setInt(&in.MinSeverity, b.MinSeverity)
	setStr(&in.Channel, b.Channel)
	setList(&in.AuditEvents, b.AuditEvents)
	setList(&in.JobStatuses, b.JobStatuses)
	setList(&in.JobTypes, b.JobTypes)
	setBool(&in.Heartbeat, b.Heartbeat)
	setStr(&in.CAPEM, b.CAPEM)
	setBool(&in.InsecureSkipVerify, b.InsecureSkipVerify)
	setStr(&in.ServerName, b.ServerName)
	setBool(&in.Gzip, b.Gzip)
	setInt(&in.MaxBatchBytes, b.MaxBatchBytes)
	setInt(&in.MaxBatchEvents, b.MaxBatchEvents)
	setInt(&in.MaxInFlight, b.MaxInFlight)
	setStr(&in.Profile, b.Profile)
	if b.NotifyURL != nil { // "" removes the webhook
		in.NotifyURL, in.NotifyURLSet = *b.NotifyURL, *b.NotifyURL != ""
	}
	if b.AlertAfter != nil {
		d, err := parseDuration("alert_after", *b.AlertAfter)
		if err != nil {
			return err
		}
		in.AlertAfter = d
	}
	if b.Token != nil && *b.Token != "" { // "" keeps the stored token
		in.Token = *b.Token
	}
	if b.ClientCertPEM != nil {
		in.ClientCertPEM = *b.ClientCertPEM
		if in.ClientCertPEM == "" { // removing the certificate removes its key
			in.ClientKeyPEM, in.ClientKeySet = "", false
		}
	}
	if b.ClientKeyPEM != nil && *b.ClientKeyPEM != "" {
		in.ClientKeyPEM = *b.ClientKeyPEM
	}
	if b.AckTimeout != nil {
		d, err := parseDuration("ack_timeout", *b.AckTimeout)
		if err != nil {
			return err
		}
		in.AckTimeout = d
	}
	if b.BackfillSince != nil {
		if !create {
			return siemsync.ErrBackfillOnCreate
		}
		t, err := parseBackfill(*b.BackfillSince, now)
		if err != nil {
			return err
		}
		in.BackfillSince = t
	}
	return nil
}

func setStr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setList(dst *[]string, v *[]string) {
	if v != nil {
		*dst = *v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func parseDuration(field, v string) (siemsync.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, siemsync.Invalid(field, `must be a duration such as "30s" or "5m"`)
	}
	return siemsync.Duration(d), nil
}

func parseBackfill(v string, now time.Time) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, siemsync.Invalid("backfill_since", "must be an RFC 3339 time, e.g. 2025-11-01T00:00:00Z")
	}
	if t.After(now) {
		return nil, siemsync.Invalid("backfill_since", "is in the future: history can only be sent from a past time")
	}
	t = t.UTC()
	return &t, nil
}

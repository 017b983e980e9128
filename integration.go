package siemsync

import (
	"time"
)

// Kind is the type of destination of an integration.
type Kind string

// Integration kinds.
const (
	KindHEC    Kind = "splunk_hec"
	KindSyslog Kind = "syslog_cef"
)

// Data sources an integration can send.
const (
	SourceAudit = "audit"
	SourceJobs  = "jobs"
)

// Defaults for sending. They are documented in the README.
const (
	DefaultMaxBatchBytes  = 4 << 20 // uncompressed body bytes per request
	DefaultMaxBatchEvents = 10000
	DefaultAckTimeout     = 5 * time.Minute
	DefaultSourcetype     = "_json"
	DefaultAuditSource    = "siemsync:audit"
	DefaultJobSource      = "siemsync:job"
	HeartbeatSource       = "siemsync:heartbeat"
	DefaultSyslogFraming  = "octet"
	DefaultSyslogTLSPort  = "6514"
	DefaultSyslogTCPPort  = "601"
	// DefaultMaxInFlight is how many requests a HEC integration keeps in
	// flight; syslog keeps one (order on a connection is the order sent).
	DefaultMaxInFlight = 4
	MaxMaxInFlight     = 32
	DefaultAlertAfter  = 30 * time.Minute
)

// Profiles: the shape of the events an integration sends.
const (
	ProfileSiemsync = "siemsync" // the fields of SPEC §3 (default)
	ProfileOCSF     = "ocsf"     // OCSF API Activity and Scheduled Job Activity (HEC only)
)

// Alert states of Status.Alert.
const (
	AlertOK     = ""
	AlertFiring = "firing"
)

// Integration is one customer-configured destination. Token and ClientKeyPEM
// are secrets: they are only ever filled in when the integration is loaded
// for sending or testing, carry `json:"-"`, and are stored encrypted.
type Integration struct {
	ID      string   `json:"id"`
	Account string   `json:"account"`
	Name    string   `json:"name"`
	Kind    Kind     `json:"kind"`
	Enabled bool     `json:"enabled"`
	Sources []string `json:"sources"`
	// CreateAccount asks a create to make the account when it does not
	// exist yet (API "create_account", CLI --create-account); without it
	// an unknown account is refused, so a mistyped id is not a new,
	// silently empty account. It is part of the request, never stored.
	CreateAccount bool `json:"-"`

	// Splunk HEC.
	URL        string   `json:"url,omitempty"`
	Token      string   `json:"-"`
	TokenSet   bool     `json:"token_set"`
	Index      string   `json:"index,omitempty"`
	Sourcetype string   `json:"sourcetype,omitempty"`
	Source     string   `json:"source,omitempty"`
	Ack        bool     `json:"ack"`
	AckTimeout Duration `json:"ack_timeout,omitempty"`
	// Channel is the X-Splunk-Request-Channel (a GUID): sent on every
	// request when set; the raw endpoint always needs one (generated once
	// and stored when not given); ack mode uses it too.
	Channel string `json:"channel,omitempty"`

	// Syslog CEF.
	Address  string `json:"address,omitempty"`
	Protocol string `json:"protocol,omitempty"` // tcp or tls
	Framing  string `json:"framing,omitempty"`  // octet or lf

	// Filters (both kinds, SPEC §8.2). Empty lists keep everything.
	AuditEvents []string `json:"audit_events,omitempty"` // glob patterns on the audit event, e.g. "Sign in*"
	JobStatuses []string `json:"job_statuses,omitempty"` // job statuses to send
	JobTypes    []string `json:"job_types,omitempty"`    // job types to send
	MinSeverity int      `json:"min_severity"`           // lowest CEF severity sent (0–10)

	// Heartbeat ends every cycle with one heartbeat event (SPEC §8.3).
	Heartbeat bool `json:"heartbeat"`

	// TLS, for both kinds.
	CAPEM              string `json:"ca_pem,omitempty"`
	ClientCertPEM      string `json:"client_cert_pem,omitempty"`
	ClientKeyPEM       string `json:"-"`
	ClientKeySet       bool   `json:"client_key_set"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
	ServerName         string `json:"server_name,omitempty"`

	// Sending.
	Gzip           bool `json:"gzip"`
	MaxBatchBytes  int  `json:"max_batch_bytes"`
	MaxBatchEvents int  `json:"max_batch_events"`
	// MaxInFlight is how many requests a cycle keeps in flight at once.
	MaxInFlight int `json:"max_in_flight"`
	// LearnedBatchBytes is the request size a 413 taught siemsync; batches
	// stay below it. 0 when nothing was learned; cleared when MaxBatchBytes
	// changes. Read-only.
	LearnedBatchBytes int `json:"learned_batch_bytes,omitempty"`

	// Profile is ProfileSiemsync or ProfileOCSF.
	Profile string `json:"profile"`

	// Alerts. NotifyURL is a webhook (Slack's carry their secret in the
	// path), so it is a secret like the token: stored encrypted, filled in
	// only for sending, never returned; NotifyHost is shown instead.
	NotifyURL    string   `json:"-"`
	NotifyURLSet bool     `json:"notify_url_set"`
	NotifyHost   string   `json:"notify_host,omitempty"`
	AlertAfter   Duration `json:"alert_after"`

	BackfillSince *time.Time `json:"backfill_since,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`

	Status Status `json:"status"`

	// normErr is what ApplyDefaults found reading the destination forms;
	// Validate reports it.
	normErr error
}

// Lag is how far delivery is behind at now: the time since the last
// successful cycle, or since creation when none succeeded yet. The
// status, the lag metric and the alerts all measure it this way.
func (in *Integration) Lag(now time.Time) time.Duration {
	since := in.CreatedAt
	if in.Status.LastComplete != nil {
		since = *in.Status.LastComplete
	}
	return max(0, now.Sub(since))
}

// HasSource reports whether the integration sends the given data source.
func (in *Integration) HasSource(s string) bool {
	for _, x := range in.Sources {
		if x == s {
			return true
		}
	}
	return false
}

// ApplyDefaults reads the HEC destination forms (see normalizeHEC) and
// fills unset sending options with their defaults. A destination it cannot
// read is reported by Validate.
func (in *Integration) ApplyDefaults() {
	in.normErr = nil
	if in.Kind == KindHEC {
		in.normErr = in.normalizeHEC()
	}
	if in.MaxBatchBytes == 0 {
		in.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if in.MaxBatchEvents == 0 {
		in.MaxBatchEvents = DefaultMaxBatchEvents
	}
	if in.Profile == "" {
		in.Profile = ProfileSiemsync
	}
	if in.AlertAfter == 0 {
		in.AlertAfter = Duration(DefaultAlertAfter)
	}
	switch { // the host shown for the webhook follows the URL
	case in.NotifyURL != "":
		in.NotifyHost, in.NotifyURLSet = NotifyHostOf(in.NotifyURL), true
	case !in.NotifyURLSet:
		in.NotifyHost = ""
	}
	switch {
	case in.Kind == KindSyslog:
		// Order on one connection is the order sent: one at a time.
		in.MaxInFlight = 1
	case in.MaxInFlight == 0:
		in.MaxInFlight = DefaultMaxInFlight
	}
	if in.Kind == KindHEC {
		if in.Sourcetype == "" {
			in.Sourcetype = DefaultSourcetype
		}
		if in.AckTimeout == 0 {
			in.AckTimeout = Duration(DefaultAckTimeout)
		}
	}
	if in.Kind == KindSyslog {
		if in.Framing == "" {
			in.Framing = DefaultSyslogFraming
		}
		if in.Protocol == "" {
			in.Protocol = "tls"
		}
	}
}

// Status is the read-only delivery state of an integration, shown to admins.
type Status struct {
	LastComplete    *time.Time `json:"last_complete"`     // end of the last successful cycle
	LastError       *time.Time `json:"last_error"`        // time of the last failed cycle; nil once a cycle succeeds
	ErrorMessage    string     `json:"error_message"`     // what to fix; cleared on success
	LagSeconds      float64    `json:"lag_seconds"`       // now - LastComplete (or since creation when never complete)
	EventsLastCycle int64      `json:"events_last_cycle"` // events delivered by the last cycle
	Filtered        int64      `json:"filtered"`          // records the last cycle's filters kept from the destination
	SetAside        int64      `json:"set_aside"`         // events set aside and not yet retried or dropped
	LastWorker      string     `json:"last_worker"`       // the worker (lease owner) that ran the last finished cycle
	Warnings        []string   `json:"warnings,omitempty"`
	// Alert is AlertFiring between the failure alert and the recovery
	// alert; AlertError is the last failure of the webhook itself.
	Alert      string `json:"alert,omitempty"`
	AlertError string `json:"alert_error,omitempty"`
}

// Preview is what an integration would send next: the exact wire bytes of
// its next Events events (HEC lines or syslog frames). More says that
// further events are waiting; UploadTime is the upload time the events
// carry (a real cycle stamps its own).
type Preview struct {
	Body       []byte
	Events     int
	More       bool
	UploadTime time.Time
}

// Step is one stage of a Test connection: URL, DNS, TCP, TLS, health, token.
type Step struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// Duration is a time.Duration that reads and writes as "30s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON reads a Go duration string such as "30s" or "5m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return &FieldError{Msg: `must be a duration string such as "30s"`}
	}
	v, err := time.ParseDuration(string(b[1 : len(b)-1]))
	if err != nil {
		return &FieldError{Msg: `must be a duration string such as "30s"`}
	}
	*d = Duration(v)
	return nil
}

// NewIntegration returns a new integration with the defaults that the CLI,
// the API and the page share: enabled, both sources, gzip on. The kind's own
// defaults come from ApplyDefaults once the kind is known.
func NewIntegration() *Integration {
	return &Integration{Enabled: true, Gzip: true, Sources: []string{SourceAudit, SourceJobs}}
}

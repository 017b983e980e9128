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
	DefaultSyslogFraming  = "octet"
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

	// Splunk HEC.
	URL        string   `json:"url,omitempty"`
	Token      string   `json:"-"`
	TokenSet   bool     `json:"token_set"`
	Index      string   `json:"index,omitempty"`
	Sourcetype string   `json:"sourcetype,omitempty"`
	Source     string   `json:"source,omitempty"`
	Ack        bool     `json:"ack"`
	AckTimeout Duration `json:"ack_timeout,omitempty"`

	// Syslog CEF.
	Address     string `json:"address,omitempty"`
	Protocol    string `json:"protocol,omitempty"` // tcp or tls
	Framing     string `json:"framing,omitempty"`  // octet or lf
	MinSeverity int    `json:"min_severity,omitempty"`

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
	// LearnedBatchBytes is the request size a 413 taught siemsync; batches
	// stay below it. 0 when nothing was learned; cleared when MaxBatchBytes
	// changes. Read-only.
	LearnedBatchBytes int `json:"learned_batch_bytes,omitempty"`

	BackfillSince *time.Time `json:"backfill_since,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`

	Status Status `json:"status"`
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

// ApplyDefaults fills unset sending options with their defaults.
func (in *Integration) ApplyDefaults() {
	if in.MaxBatchBytes == 0 {
		in.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if in.MaxBatchEvents == 0 {
		in.MaxBatchEvents = DefaultMaxBatchEvents
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
	SetAside        int64      `json:"set_aside"`         // events set aside and not yet retried or dropped
	Warnings        []string   `json:"warnings,omitempty"`
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

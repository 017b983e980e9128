package siemsync

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on sending options.
const (
	MinBatchBytes  = 1 << 10
	MaxBatchBytes  = 512 << 20
	MaxBatchEvents = 1000000
)

// ValidUUID reports whether s is a UUID in its canonical textual form.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// CanonicalID returns an account (or other) UUID in its one stored form,
// lower case, so that an id typed in upper case names the same account.
// Other text is returned as it is, for validation to refuse.
func CanonicalID(s string) string {
	if ValidUUID(s) {
		return strings.ToLower(s)
	}
	return s
}

// CheckText refuses control characters (and the bidirectional overrides
// that reorder what a terminal or page shows) in a one-line text field:
// list and show print names as they are, and an escape sequence there
// would be run by the operator's terminal.
func CheckText(field, s string) error {
	for i, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return Invalid(field, "must not contain control characters: character %d is %U; use printable text on one line", utf8.RuneCountInString(s[:i])+1, r)
		}
	}
	return nil
}

func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// Validate checks an integration as a create or update would store it
// (defaults applied). It returns the first problem as a *FieldError whose
// Field is the JSON name of the field.
func (in *Integration) Validate() error {
	if in.normErr != nil {
		return in.normErr
	}
	if !ValidUUID(in.Account) {
		return Invalid("account", "must be the account's UUID, e.g. 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90")
	}
	if strings.TrimSpace(in.Name) == "" {
		return Invalid("name", "is required")
	}
	for _, f := range []struct{ name, v string }{{"name", in.Name}, {"index", in.Index}, {"sourcetype", in.Sourcetype},
		{"source", in.Source}, {"url", in.URL}, {"address", in.Address}, {"server_name", in.ServerName}} {
		if err := CheckText(f.name, f.v); err != nil {
			return err
		}
	}
	if len(in.Name) > 200 {
		return Invalid("name", "must be at most 200 characters")
	}
	if len(in.Sources) == 0 {
		return Invalid("sources", "choose at least one of audit, jobs")
	}
	seen := map[string]bool{}
	for _, s := range in.Sources {
		if s != SourceAudit && s != SourceJobs {
			return Invalid("sources", "unknown source %q: use audit, jobs or both", s)
		}
		if seen[s] {
			return Invalid("sources", "source %q listed twice", s)
		}
		seen[s] = true
	}
	if in.MaxBatchBytes < MinBatchBytes || in.MaxBatchBytes > MaxBatchBytes {
		return Invalid("max_batch_bytes", "must be between %d and %d", MinBatchBytes, MaxBatchBytes)
	}
	if in.MaxBatchEvents < 1 || in.MaxBatchEvents > MaxBatchEvents {
		return Invalid("max_batch_events", "must be between 1 and %d", MaxBatchEvents)
	}
	if in.MaxInFlight < 1 || in.MaxInFlight > MaxMaxInFlight {
		return Invalid("max_in_flight", "must be between 1 and %d", MaxMaxInFlight)
	}
	if err := in.validateAlerts(); err != nil {
		return err
	}
	if err := in.validateFilters(); err != nil {
		return err
	}
	switch in.Kind {
	case KindHEC:
		if err := in.validateHEC(); err != nil {
			return err
		}
	case KindSyslog:
		if err := in.validateSyslog(); err != nil {
			return err
		}
	default:
		return Invalid("kind", "must be splunk_hec or syslog_cef")
	}
	return in.validateTLS()
}

func (in *Integration) validateHEC() error {
	if in.URL == "" {
		return Invalid("url", "is required: the HEC URL, e.g. https://splunk.example.com:8088")
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Invalid("url", "must be an http:// or https:// URL, e.g. https://splunk.example.com:8088")
	}
	if u.User != nil {
		return Invalid("url", "must not contain credentials: put the HEC token in the token field")
	}
	if u.Query().Has("token") {
		return Invalid("url", "must not carry the token in the query string: put it in the token field")
	}
	if !in.TokenSet && in.Token == "" {
		return Invalid("token", "is required: the HEC token from Splunk (Settings > Data inputs > HTTP Event Collector)")
	}
	if strings.ContainsAny(in.Token, " \t\r\n") {
		return Invalid("token", "must not contain spaces or line breaks")
	}
	if len(in.Token) > 1024 {
		return Invalid("token", "must be at most 1024 characters: paste the HEC token alone")
	}
	if in.Channel != "" && !ValidUUID(strings.ToLower(in.Channel)) {
		return Invalid("channel", "must be a GUID such as 0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10 (Splunk's channel format)")
	}
	for _, f := range []struct{ name, v string }{{"index", in.Index}, {"sourcetype", in.Sourcetype}, {"source", in.Source}} {
		if len(f.v) > 1024 || strings.ContainsAny(f.v, "\r\n") {
			return Invalid(f.name, "must be one line of at most 1024 characters")
		}
	}
	if in.Ack && (in.AckTimeout.D() < 1e9 || in.AckTimeout.D() > 3600e9) {
		return Invalid("ack_timeout", "must be between 1s and 1h")
	}
	return nil
}

// Limits of the alert settings.
const (
	MinAlertAfter   = time.Second
	MaxAlertAfter   = 30 * 24 * time.Hour
	MaxNotifyURLLen = 2048
)

func (in *Integration) validateAlerts() error {
	switch in.Profile {
	case ProfileSiemsync:
	case ProfileOCSF:
		if in.Kind == KindSyslog {
			return Invalid("profile", "ocsf applies to splunk_hec integrations: syslog_cef sends CEF, which has its own fixed fields; use siemsync")
		}
	default:
		return Invalid("profile", "must be siemsync (the default) or ocsf")
	}
	if d := in.AlertAfter.D(); d < MinAlertAfter || d > MaxAlertAfter {
		return Invalid("alert_after", "must be between 1s and 720h (30 days), e.g. 30m")
	}
	if in.NotifyURL == "" {
		return nil
	}
	if len(in.NotifyURL) > MaxNotifyURLLen || strings.ContainsAny(in.NotifyURL, " \t\r\n") {
		return Invalid("notify_url", "must be one URL of at most %d characters", MaxNotifyURLLen)
	}
	u, err := url.Parse(in.NotifyURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Invalid("notify_url", "must be an http:// or https:// webhook URL, e.g. https://hooks.slack.com/services/…")
	}
	if u.User != nil {
		return Invalid("notify_url", "must not contain user:password@; put a token in the path or query as the webhook expects")
	}
	return nil
}

// NotifyHostOf is the host[:port] of a webhook URL, shown instead of the
// URL itself.
func NotifyHostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func (in *Integration) validateSyslog() error {
	if in.Protocol != "tcp" && in.Protocol != "tls" {
		return Invalid("protocol", "must be tcp or tls")
	}
	if in.Framing != "octet" && in.Framing != "lf" {
		return Invalid("framing", "must be octet (RFC 5425/6587 octet counting) or lf")
	}
	if in.Address == "" {
		return Invalid("address", "is required: host:port of the syslog server, e.g. siem.example.com:6514")
	}
	if _, _, err := SyslogHostPort(in.Address, in.Protocol); err != nil {
		return err
	}
	return nil
}

// SyslogHostPort splits a syslog address into host and port; an address
// without a port gets the protocol's default, 6514 for tls and 601 for tcp.
func SyslogHostPort(addr, protocol string) (host, port string, err error) {
	addr = strings.TrimSpace(addr)
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		// No port (or not host:port at all): a bare name, IPv4 address,
		// or IPv6 address with or without brackets.
		host, port = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), DefaultSyslogTCPPort
		if protocol != "tcp" {
			port = DefaultSyslogTLSPort
		}
		if strings.ContainsAny(host, "[]/ @?#") || strings.Count(host, ":") == 1 {
			return "", "", Invalid("address", "must be host or host:port, e.g. siem.example.com:6514")
		}
	}
	if host == "" {
		return "", "", Invalid("address", "has no host: use host or host:port, e.g. siem.example.com:6514")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", "", Invalid("address", "port must be a number from 1 to 65535")
	}
	return host, port, nil
}

// Bounds of the filter lists.
const (
	maxFilterEntries = 100
	maxFilterLen     = 256
)

func (in *Integration) validateFilters() error {
	if in.MinSeverity < 0 || in.MinSeverity > 10 {
		return Invalid("min_severity", "must be a CEF severity from 0 to 10")
	}
	lists := []struct {
		name string
		v    []string
	}{{"audit_events", in.AuditEvents}, {"job_statuses", in.JobStatuses}, {"job_types", in.JobTypes}}
	for _, l := range lists {
		if len(l.v) > maxFilterEntries {
			return Invalid(l.name, "may list at most %d entries", maxFilterEntries)
		}
		for i, v := range l.v {
			if strings.TrimSpace(v) == "" || len(v) > maxFilterLen || strings.ContainsAny(v, "\r\n\x00") {
				return Invalid(l.name, "entry %d must be one non-empty line of at most %d characters", i+1, maxFilterLen)
			}
		}
	}
	for i, p := range in.AuditEvents {
		if !validGlob(p) {
			return Invalid("audit_events", "entry %d (%q) ends in a lone backslash: write \\\\ for a literal backslash, \\* for a literal *", i+1, p)
		}
	}
	for _, s := range in.JobStatuses {
		if !slices.Contains(JobStatuses, s) {
			return Invalid("job_statuses", "unknown status %q: use %s", s, strings.Join(JobStatuses, ", "))
		}
	}
	return nil
}

func (in *Integration) validateTLS() error {
	if in.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(in.CAPEM)) {
			return Invalid("ca_pem", "is not a PEM certificate: paste the CA certificate starting with -----BEGIN CERTIFICATE-----")
		}
	}
	hasCert, hasKey := in.ClientCertPEM != "", in.ClientKeyPEM != "" || in.ClientKeySet
	if hasCert != hasKey {
		if hasCert {
			return Invalid("client_key_pem", "is required with a client certificate")
		}
		return Invalid("client_cert_pem", "is required with a client key")
	}
	if in.ClientCertPEM != "" {
		if b, _ := pem.Decode([]byte(in.ClientCertPEM)); b == nil || b.Type != "CERTIFICATE" {
			return Invalid("client_cert_pem", "is not a PEM certificate")
		}
	}
	if in.ClientCertPEM != "" && in.ClientKeyPEM != "" {
		if _, err := tls.X509KeyPair([]byte(in.ClientCertPEM), []byte(in.ClientKeyPEM)); err != nil {
			return Invalid("client_key_pem", "does not match the client certificate or is not a PEM private key")
		}
	}
	return nil
}

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// What an update cannot change, refused with the same words by the CLI, the
// API and the page.

// CheckKindChange refuses a new kind: another destination kind is another
// destination, so it is a new integration with its own start (now, or its
// backfill time) and no secrets of the old kind left behind.
func CheckKindChange(from, to Kind) error {
	if from == to {
		return nil
	}
	return Invalid("kind", "cannot change from %s to %s: add a new %s integration (it starts now or from its backfill time) and delete this one", from, to, to)
}

// CheckAccountChange refuses moving an integration to another account.
func CheckAccountChange(from, to string) error {
	if strings.EqualFold(from, to) {
		return nil
	}
	return Invalid("account", "cannot change: create the integration again in the other account")
}

// ErrBackfillOnCreate refuses a backfill time on an update.
var ErrBackfillOnCreate = Invalid("backfill_since", "can only be set when the integration is created")

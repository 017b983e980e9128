package siemsync

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

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

// Validate checks an integration as a create or update would store it
// (defaults applied). It returns the first problem as a *FieldError whose
// Field is the JSON name of the field.
func (in *Integration) Validate() error {
	if !ValidUUID(in.Account) {
		return Invalid("account", "must be the account's UUID, e.g. 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90")
	}
	if strings.TrimSpace(in.Name) == "" {
		return Invalid("name", "is required")
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
	host, port, err := net.SplitHostPort(in.Address)
	if err != nil || host == "" {
		return Invalid("address", "must be host:port, e.g. siem.example.com:6514")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return Invalid("address", "port must be a number from 1 to 65535")
	}
	if in.MinSeverity < 0 || in.MinSeverity > 10 {
		return Invalid("min_severity", "must be a CEF severity from 0 to 10")
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

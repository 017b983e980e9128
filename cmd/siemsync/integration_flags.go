package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
)

// integrationFlags are the settings of add and update. On update only the
// flags given change the integration.
type integrationFlags struct {
	account, name, kind, url, token, tokenFile, sources      string
	index, sourcetype, source, address, protocol, framing    string
	caFile, clientCert, clientKey, serverName, backfillSince string
	channel, auditEvents, jobStatuses, jobTypes              string
	profile, notifyURL                                       string
	gzip, ack, insecure, disabled, heartbeat, createAccount  bool
	maxBatchBytes, maxBatchEvents, minSeverity, maxInFlight  int
	ackTimeout, alertAfter                                   time.Duration
}

// register adds the flags of add, or of update (create false): update
// leaves out what cannot change after creation.
func (f *integrationFlags) register(fs *pflag.FlagSet, create bool) {
	def := siemsync.NewIntegration() // the API's and the page's defaults too
	fs.StringVar(&f.account, "account", "", "account `UUID` (required)")
	fs.StringVar(&f.kind, "kind", "", "splunk_hec or syslog_cef (required)")
	fs.StringVar(&f.backfillSince, "backfill-since", "", "also send history from this RFC 3339 `time` (default: from now on)")
	if create {
		fs.BoolVar(&f.disabled, "disabled", !def.Enabled, "create the integration disabled")
		fs.BoolVar(&f.createAccount, "create-account", false, "make the account if siemsync has no record of it yet")
	} else {
		// Fixed at creation: accepted only to refuse a change with the
		// words the API and the page use, so not listed in help.
		for _, name := range []string{"account", "kind", "backfill-since"} {
			fs.MarkHidden(name)
		}
	}
	fs.StringVar(&f.name, "name", "", "name, unique within the account")
	fs.StringVar(&f.sources, "sources", strings.Join(def.Sources, ","), "data sources: audit, jobs or audit,jobs")
	fs.StringVar(&f.url, "url", "", "HEC URL, e.g. https://splunk.example.com:8088 (means /services/collector/event)")
	fs.StringVar(&f.token, "token", "", "HEC token (prefer --token-file or SIEMSYNC_HEC_TOKEN: command lines are visible to other users)")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the HEC token from `FILE` (- for stdin)")
	fs.StringVar(&f.index, "index", "", "Splunk index (default: the token's default index)")
	fs.StringVar(&f.sourcetype, "sourcetype", "", "sourcetype (default _json)")
	fs.StringVar(&f.source, "source", "", "source (default siemsync:audit / siemsync:job)")
	fs.BoolVar(&f.gzip, "gzip", def.Gzip, "gzip request bodies")
	fs.IntVar(&f.maxBatchBytes, "max-batch-bytes", siemsync.DefaultMaxBatchBytes, "largest request body, uncompressed")
	fs.IntVar(&f.maxBatchEvents, "max-batch-events", siemsync.DefaultMaxBatchEvents, "most events per request")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "requests kept in flight at once (default 4 for HEC, 1 for syslog)")
	fs.BoolVar(&f.ack, "ack", false, "use indexer acknowledgement (Splunk Enterprise useACK)")
	fs.DurationVar(&f.ackTimeout, "ack-timeout", siemsync.DefaultAckTimeout, "resend a batch not acknowledged within this time")
	fs.StringVar(&f.address, "address", "", "syslog server host:port (601 for tcp, 6514 for tls)")
	fs.StringVar(&f.protocol, "protocol", "tls", "syslog transport: tcp or tls")
	fs.StringVar(&f.framing, "framing", "octet", "syslog framing: octet (RFC 5425/6587) or lf")
	fs.StringVar(&f.channel, "channel", "", "HEC request channel `GUID` (generated for the raw endpoint when not given)")
	fs.IntVar(&f.minSeverity, "min-severity", 0, "send only events with CEF severity >= N (0-10; audit 3, jobs by status), both kinds")
	fs.StringVar(&f.auditEvents, "audit-events", "", "send only audit events matching these comma-separated patterns, e.g. 'Sign in*,Export*' (empty: all)")
	fs.StringVar(&f.jobStatuses, "job-statuses", "", "send only jobs with these comma-separated statuses (empty: all)")
	fs.StringVar(&f.jobTypes, "job-types", "", "send only jobs of these comma-separated types (empty: all)")
	fs.BoolVar(&f.heartbeat, "heartbeat", false, "end every cycle with a heartbeat event (window, counts, checkpoints)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `FILE` of the CA that signed the server's certificate")
	fs.StringVar(&f.clientCert, "client-cert", "", "PEM `FILE` of the client certificate (mTLS)")
	fs.StringVar(&f.clientKey, "client-key", "", "PEM `FILE` of the client private key (mTLS)")
	fs.StringVar(&f.serverName, "server-name", "", "expect this name in the server certificate instead of the URL's host")
	fs.BoolVar(&f.insecure, "insecure-skip-verify", false, "do not verify the server certificate (shown as a warning)")
	fs.StringVar(&f.profile, "profile", siemsync.ProfileSiemsync, "event fields: siemsync or ocsf (OCSF API Activity / Scheduled Job Activity; splunk_hec only)")
	fs.StringVar(&f.notifyURL, "notify-url", "", "webhook `URL` told once when the integration fails for --alert-after and once when it recovers (\"\" removes it)")
	fs.DurationVar(&f.alertAfter, "alert-after", siemsync.DefaultAlertAfter, "alert when the integration has not delivered for this long")
}

// patch describes the flags that were given as the integration patch the API
// and the page use, reading the files they name. kind is the integration's
// kind (the one given, or the stored one on update): SIEMSYNC_HEC_TOKEN is a
// HEC integration's token when no --token or --token-file is given.
func (f *integrationFlags) patch(set map[string]bool, kind siemsync.Kind, stdin io.Reader, getenv env) (*admin.IntegrationPatch, error) {
	var p admin.IntegrationPatch
	given(set, "account", f.account, &p.Account)
	given(set, "name", f.name, &p.Name)
	given(set, "kind", f.kind, &p.Kind)
	given(set, "url", f.url, &p.URL)
	given(set, "index", f.index, &p.Index)
	given(set, "sourcetype", f.sourcetype, &p.Sourcetype)
	given(set, "source", f.source, &p.Source)
	given(set, "address", f.address, &p.Address)
	given(set, "protocol", f.protocol, &p.Protocol)
	given(set, "framing", f.framing, &p.Framing)
	given(set, "server-name", f.serverName, &p.ServerName)
	given(set, "backfill-since", f.backfillSince, &p.BackfillSince)
	given(set, "ack-timeout", f.ackTimeout.String(), &p.AckTimeout)
	given(set, "gzip", f.gzip, &p.Gzip)
	given(set, "ack", f.ack, &p.Ack)
	given(set, "insecure-skip-verify", f.insecure, &p.InsecureSkipVerify)
	given(set, "disabled", !f.disabled, &p.Enabled)
	given(set, "max-batch-bytes", f.maxBatchBytes, &p.MaxBatchBytes)
	given(set, "max-batch-events", f.maxBatchEvents, &p.MaxBatchEvents)
	given(set, "min-severity", f.minSeverity, &p.MinSeverity)
	given(set, "max-in-flight", f.maxInFlight, &p.MaxInFlight)
	given(set, "channel", f.channel, &p.Channel)
	given(set, "audit-events", csv(f.auditEvents), &p.AuditEvents)
	given(set, "job-statuses", csv(f.jobStatuses), &p.JobStatuses)
	given(set, "job-types", csv(f.jobTypes), &p.JobTypes)
	given(set, "heartbeat", f.heartbeat, &p.Heartbeat)
	given(set, "create-account", f.createAccount, &p.CreateAccount)
	given(set, "profile", f.profile, &p.Profile)
	given(set, "notify-url", f.notifyURL, &p.NotifyURL)
	given(set, "alert-after", f.alertAfter.String(), &p.AlertAfter)
	given(set, "sources", csv(f.sources), &p.Sources)
	token, err := f.hecToken(set, kind, stdin, getenv)
	if err != nil {
		return nil, err
	}
	if token != "" { // "" keeps the stored token, as in the API
		p.Token = &token
	}
	for _, x := range []struct {
		flag, path string
		dst        **string
	}{{"ca-file", f.caFile, &p.CAPEM}, {"client-cert", f.clientCert, &p.ClientCertPEM}, {"client-key", f.clientKey, &p.ClientKeyPEM}} {
		if !set[x.flag] {
			continue
		}
		var pem []byte
		if x.path != "" {
			if pem, err = os.ReadFile(x.path); err != nil {
				return nil, fmt.Errorf("--%s: %w", x.flag, err)
			}
		}
		given(set, x.flag, string(pem), x.dst)
	}
	return &p, nil
}

// given points *dst at v when the flag name was given.
func given[T any](set map[string]bool, name string, v T, dst **T) {
	if set[name] {
		*dst = &v
	}
}

// hecToken is the HEC token given by --token, --token-file or, for a HEC
// integration, SIEMSYNC_HEC_TOKEN; "" when none.
func (f *integrationFlags) hecToken(set map[string]bool, kind siemsync.Kind, stdin io.Reader, getenv env) (string, error) {
	switch {
	case set["token"] && set["token-file"]:
		return "", usagef("give --token or --token-file, not both")
	case set["token"]:
		return f.token, nil
	case set["token-file"]:
		b, err := readInput(f.tokenFile, stdin)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	case kind == siemsync.KindHEC:
		return getenv("SIEMSYNC_HEC_TOKEN"), nil
	}
	return "", nil
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(stdin, 1<<20))
	}
	return os.ReadFile(path)
}

// flagError words a field error in terms of the command-line flag.
func flagError(err error) error {
	fe, ok := err.(*siemsync.FieldError)
	if !ok || fe.Field == "" {
		return err
	}
	name := map[string]string{"ca_pem": "ca-file", "client_cert_pem": "client-cert", "client_key_pem": "client-key",
		"insecure_skip_verify": "insecure-skip-verify"}[fe.Field]
	if name == "" {
		name = strings.ReplaceAll(fe.Field, "_", "-")
	}
	return fmt.Errorf("--%s: %s", name, fe.Msg)
}

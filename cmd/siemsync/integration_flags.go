package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/siemsync/siemsync"
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

func (f *integrationFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.account, "account", "", "account `UUID`")
	fs.StringVar(&f.name, "name", "", "name, unique within the account")
	fs.StringVar(&f.kind, "kind", "", "splunk_hec or syslog_cef")
	fs.StringVar(&f.sources, "sources", "audit,jobs", "data sources: audit, jobs or audit,jobs")
	fs.StringVar(&f.url, "url", "", "HEC URL, e.g. https://splunk.example.com:8088 (means /services/collector/event)")
	fs.StringVar(&f.token, "token", "", "HEC token (prefer --token-file or SIEMSYNC_HEC_TOKEN: command lines are visible to other users)")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the HEC token from `FILE` (- for stdin)")
	fs.StringVar(&f.index, "index", "", "Splunk index (default: the token's default index)")
	fs.StringVar(&f.sourcetype, "sourcetype", "", "sourcetype (default _json)")
	fs.StringVar(&f.source, "source", "", "source (default siemsync:audit / siemsync:job)")
	fs.BoolVar(&f.gzip, "gzip", true, "gzip request bodies")
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
	fs.BoolVar(&f.disabled, "disabled", false, "create the integration disabled")
	fs.StringVar(&f.backfillSince, "backfill-since", "", "on create: also send history from this RFC 3339 time")
	fs.BoolVar(&f.createAccount, "create-account", false, "on create: make the account if siemsync has no record of it yet")
	fs.StringVar(&f.profile, "profile", siemsync.ProfileSiemsync, "event fields: siemsync or ocsf (OCSF API Activity / Scheduled Job Activity; splunk_hec only)")
	fs.StringVar(&f.notifyURL, "notify-url", "", "webhook `URL` told once when the integration fails for --alert-after and once when it recovers (\"\" removes it)")
	fs.DurationVar(&f.alertAfter, "alert-after", siemsync.DefaultAlertAfter, "alert when the integration has not delivered for this long")
}

// apply copies the flags that were given (all of them when every is true)
// onto in, reading the files they name.
func (f *integrationFlags) apply(in *siemsync.Integration, set map[string]bool, every bool, stdin io.Reader, getenv env) error {
	has := func(name string) bool { return every || set[name] }
	str := map[string]struct {
		dst *string
		v   string
	}{
		"account": {&in.Account, f.account}, "name": {&in.Name, f.name}, "url": {&in.URL, f.url},
		"index": {&in.Index, f.index}, "sourcetype": {&in.Sourcetype, f.sourcetype}, "source": {&in.Source, f.source},
		"address": {&in.Address, f.address}, "protocol": {&in.Protocol, f.protocol}, "framing": {&in.Framing, f.framing},
		"server-name": {&in.ServerName, f.serverName}, "channel": {&in.Channel, f.channel},
		"profile": {&in.Profile, f.profile},
	}
	for name, s := range str {
		if has(name) {
			*s.dst = s.v
		}
	}
	in.Account = siemsync.CanonicalID(in.Account)
	if has("create-account") {
		in.CreateAccount = f.createAccount
	}
	if has("kind") {
		in.Kind = siemsync.Kind(f.kind)
	}
	if has("sources") {
		in.Sources = csv(f.sources)
	}
	if has("gzip") {
		in.Gzip = f.gzip
	}
	if has("ack") {
		in.Ack = f.ack
	}
	if has("ack-timeout") {
		in.AckTimeout = siemsync.Duration(f.ackTimeout)
	}
	if has("insecure-skip-verify") {
		in.InsecureSkipVerify = f.insecure
	}
	if has("max-batch-bytes") {
		in.MaxBatchBytes = f.maxBatchBytes
	}
	if has("max-batch-events") {
		in.MaxBatchEvents = f.maxBatchEvents
	}
	if has("max-in-flight") {
		in.MaxInFlight = f.maxInFlight
	}
	if has("min-severity") {
		in.MinSeverity = f.minSeverity
	}
	if has("notify-url") {
		in.NotifyURL, in.NotifyURLSet = f.notifyURL, f.notifyURL != ""
	}
	if has("alert-after") {
		in.AlertAfter = siemsync.Duration(f.alertAfter)
	}
	lists := map[string]struct {
		dst *[]string
		v   string
	}{"audit-events": {&in.AuditEvents, f.auditEvents}, "job-statuses": {&in.JobStatuses, f.jobStatuses}, "job-types": {&in.JobTypes, f.jobTypes}}
	for name, l := range lists {
		if has(name) {
			*l.dst = csv(l.v)
		}
	}
	if has("heartbeat") {
		in.Heartbeat = f.heartbeat
	}
	if err := f.applySecrets(in, set, stdin, getenv); err != nil {
		return err
	}
	return f.applyFiles(in, set)
}

func (f *integrationFlags) applySecrets(in *siemsync.Integration, set map[string]bool, stdin io.Reader, getenv env) error {
	switch {
	case set["token"] && set["token-file"]:
		return usagef("give --token or --token-file, not both")
	case set["token"]:
		in.Token = f.token
	case set["token-file"]:
		b, err := readInput(f.tokenFile, stdin)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		in.Token = strings.TrimSpace(string(b))
	case getenv("SIEMSYNC_HEC_TOKEN") != "" && in.Kind == siemsync.KindHEC:
		in.Token = getenv("SIEMSYNC_HEC_TOKEN")
	}
	return nil
}

func (f *integrationFlags) applyFiles(in *siemsync.Integration, set map[string]bool) error {
	files := []struct {
		flag, path string
		dst        *string
	}{{"ca-file", f.caFile, &in.CAPEM}, {"client-cert", f.clientCert, &in.ClientCertPEM}, {"client-key", f.clientKey, &in.ClientKeyPEM}}
	for _, x := range files {
		if !set[x.flag] {
			continue
		}
		if x.path == "" {
			*x.dst = ""
			continue
		}
		b, err := os.ReadFile(x.path)
		if err != nil {
			return fmt.Errorf("--%s: %w", x.flag, err)
		}
		*x.dst = string(b)
	}
	if set["backfill-since"] && f.backfillSince != "" {
		t, err := time.Parse(time.RFC3339, f.backfillSince)
		if err != nil {
			return usagef("--backfill-since: %q is not an RFC 3339 time such as 2026-11-01T00:00:00Z", f.backfillSince)
		}
		t = t.UTC()
		in.BackfillSince = &t
	}
	return nil
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(stdin, 1<<20))
	}
	return os.ReadFile(path)
}

func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set
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

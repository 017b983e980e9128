package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/siemsync/siemsync"
)

// integrationFlags are the settings of add and update. On update only the
// flags given change the integration.
type integrationFlags struct {
	account, name, kind, url, token, tokenFile, sources      string
	index, sourcetype, source, address, protocol, framing    string
	caFile, clientCert, clientKey, serverName, backfillSince string
	gzip, ack, insecure, disabled                            bool
	maxBatchBytes, maxBatchEvents, minSeverity               int
	ackTimeout                                               time.Duration
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
	fs.BoolVar(&f.ack, "ack", false, "use indexer acknowledgement (Splunk Enterprise useACK)")
	fs.DurationVar(&f.ackTimeout, "ack-timeout", siemsync.DefaultAckTimeout, "resend a batch not acknowledged within this time")
	fs.StringVar(&f.address, "address", "", "syslog server host:port (601 for tcp, 6514 for tls)")
	fs.StringVar(&f.protocol, "protocol", "tls", "syslog transport: tcp or tls")
	fs.StringVar(&f.framing, "framing", "octet", "syslog framing: octet (RFC 5425/6587) or lf")
	fs.IntVar(&f.minSeverity, "min-severity", 0, "send only events with CEF severity >= N (0-10)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `FILE` of the CA that signed the server's certificate")
	fs.StringVar(&f.clientCert, "client-cert", "", "PEM `FILE` of the client certificate (mTLS)")
	fs.StringVar(&f.clientKey, "client-key", "", "PEM `FILE` of the client private key (mTLS)")
	fs.StringVar(&f.serverName, "server-name", "", "expect this name in the server certificate instead of the URL's host")
	fs.BoolVar(&f.insecure, "insecure-skip-verify", false, "do not verify the server certificate (shown as a warning)")
}

// apply copies the flags that were given (all of them when every is true)
// onto in, reading the files they name.
func (f *integrationFlags) apply(in *siemsync.Integration, set map[string]bool, every bool, stdin io.Reader, getenv env) error {
	if !every {
		if err := f.fixed(in, set); err != nil {
			return err
		}
	}
	has := func(name string) bool { return every || set[name] }
	str := map[string]struct {
		dst *string
		v   string
	}{
		"account": {&in.Account, f.account}, "name": {&in.Name, f.name}, "url": {&in.URL, f.url},
		"index": {&in.Index, f.index}, "sourcetype": {&in.Sourcetype, f.sourcetype}, "source": {&in.Source, f.source},
		"address": {&in.Address, f.address}, "protocol": {&in.Protocol, f.protocol}, "framing": {&in.Framing, f.framing},
		"server-name": {&in.ServerName, f.serverName},
	}
	for name, s := range str {
		if has(name) {
			*s.dst = s.v
		}
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
	if has("min-severity") {
		in.MinSeverity = f.minSeverity
	}
	if err := f.applySecrets(in, set, stdin, getenv); err != nil {
		return err
	}
	return f.applyFiles(in, set)
}

// fixed refuses, on update, a change of what is fixed at creation.
func (f *integrationFlags) fixed(in *siemsync.Integration, set map[string]bool) error {
	var err error
	switch {
	case set["kind"]:
		err = siemsync.CheckKindChange(in.Kind, siemsync.Kind(f.kind))
	case set["account"]:
		err = siemsync.CheckAccountChange(in.Account, f.account)
	case set["backfill-since"]:
		err = siemsync.ErrBackfillOnCreate
	}
	if err != nil {
		return flagError(err)
	}
	// Unchanged: nothing to apply (an account in another case stays as stored).
	delete(set, "kind")
	delete(set, "account")
	delete(set, "backfill-since")
	return nil
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

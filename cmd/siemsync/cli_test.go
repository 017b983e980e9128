package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parsed is what a command line resolved to: the command, its positional
// arguments and the value of every flag (given or default).
type parsed struct {
	path  string
	args  []string
	flags map[string]string
}

// parseOnly runs the real command tree on args with every command's RunE
// replaced by a recorder, so that only parsing and argument checks run.
func parseOnly(t *testing.T, args []string, environ map[string]string) (parsed, int, string) {
	t.Helper()
	var got parsed
	var stdout, stderr bytes.Buffer
	a := &app{env: func(k string) string { return environ[k] }, stdout: &stdout, stderr: &stderr}
	root := newRoot(a)
	var stub func(c *cobra.Command)
	stub = func(c *cobra.Command) {
		if c.RunE != nil && !c.HasSubCommands() {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				got = parsed{path: cmd.CommandPath(), args: args, flags: map[string]string{}}
				cmd.Flags().VisitAll(func(f *pflag.Flag) { got.flags[f.Name] = f.Value.String() })
				return nil
			}
		}
		for _, s := range c.Commands() {
			stub(s)
		}
	}
	stub(root)
	root.SetArgs(subcommandFirst(root, longDashes(args, flagNames(root, nil))))
	err := root.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = 1
		if _, ok := err.(*usageError); ok {
			code = 2
		}
		stderr.WriteString(err.Error())
	}
	return got, code, stdout.String() + stderr.String()
}

// TestCLISpellings proves that the spellings the flag-package CLI documented
// and accepted still parse to the same thing: global flags before or after
// the command, flags before or after positional arguments, --flag=value and
// --flag value, Go's single-dash long flags, and every environment variable.
func TestCLISpellings(t *testing.T) {
	const id = "6f1c0d3e-0000-4000-8000-000000000001"
	cases := []struct {
		name string
		args []string
		env  map[string]string
		path string
		pos  []string
		want map[string]string
	}{
		{"global before command", []string{"--db", "x.db", "sync", "--once"}, nil,
			"siemsync sync", nil, map[string]string{"db": "x.db", "once": "true"}},
		{"global after command", []string{"sync", "--once", "--db", "x.db"}, nil,
			"siemsync sync", nil, map[string]string{"db": "x.db", "once": "true"}},
		{"global with =", []string{"sync", "--db=x.db", "--once=true"}, nil,
			"siemsync sync", nil, map[string]string{"db": "x.db", "once": "true"}},
		{"go flag single dash", []string{"-db", "x.db", "sync", "-once", "-integration=" + id}, nil,
			"siemsync sync", nil, map[string]string{"db": "x.db", "once": "true", "integration": id}},
		{"env defaults", []string{"sync", "--once"}, map[string]string{
			"SIEMSYNC_DB": "/var/lib/s.db", "SIEMSYNC_LOG_FORMAT": "console", "SIEMSYNC_LOG_LEVEL": "warn",
			"SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS": "true", "SIEMSYNC_HOST_NAME": "eu-1", "SIEMSYNC_CONCURRENCY": "7",
			"SIEMSYNC_RETRY_BUDGET": "1s", "SIEMSYNC_CYCLE_TIMEOUT": "2m0s", "SIEMSYNC_REQUEST_TIMEOUT": "5s",
			"SIEMSYNC_MAX_EVENT_BYTES": "8000"},
			"siemsync sync", nil, map[string]string{"db": "/var/lib/s.db", "log-format": "console", "log-level": "warn",
				"allow-private-destinations": "true", "host-name": "eu-1", "concurrency": "7", "retry-budget": "1s",
				"cycle-timeout": "2m0s", "request-timeout": "5s", "max-event-bytes": "8000"}},
		{"flag beats env", []string{"--db", "flag.db", "prune", "--retention", "1h"},
			map[string]string{"SIEMSYNC_DB": "env.db", "SIEMSYNC_RETENTION": "2h"},
			"siemsync prune", nil, map[string]string{"db": "flag.db", "retention": "1h0m0s"}},
		{"serve env", []string{"serve"}, map[string]string{
			"SIEMSYNC_LISTEN": "0.0.0.0:9000", "SIEMSYNC_SCHEDULE": "@every 1m",
			"SIEMSYNC_RETENTION": "24h0m0s", "SIEMSYNC_SHUTDOWN_GRACE": "5s", "SIEMSYNC_SECURE_COOKIES": "true"},
			"siemsync serve", nil, map[string]string{"listen": "0.0.0.0:9000", "schedule": "@every 1m",
				"retention": "24h0m0s", "shutdown-grace": "5s", "secure-cookies": "true"}},
		{"serve flags", []string{"serve", "--listen=127.0.0.1:1", "--schedule", "*/5 * * * *", "--concurrency", "3"}, nil,
			"siemsync serve", nil, map[string]string{"listen": "127.0.0.1:1", "schedule": "*/5 * * * *", "concurrency": "3"}},
		{"flag after positional", []string{"integrations", "show", id, "--json"}, nil,
			"siemsync integrations show", []string{id}, map[string]string{"json": "true"}},
		{"flag before positional", []string{"integrations", "show", "--json", id}, nil,
			"siemsync integrations show", []string{id}, map[string]string{"json": "true"}},
		{"flag between group and command", []string{"integrations", "--json", "show", id}, nil,
			"siemsync integrations show", []string{id}, map[string]string{"json": "true"}},
		{"flags with values between group and command", []string{"--db", "x.db", "integrations", "--account", id, "list"}, nil,
			"siemsync integrations list", nil, map[string]string{"db": "x.db", "account": id}},
		{"global between group and command", []string{"integrations", "--db", "x.db", "list", "--account", id}, nil,
			"siemsync integrations list", nil, map[string]string{"db": "x.db", "account": id}},
		{"add", []string{"integrations", "add", "--account", id, "--name", "Splunk Cloud", "--kind", "splunk_hec",
			"--url", "https://h:8088", "--token-file", "-", "--sources", "audit", "--gzip=false", "--backfill-since", "2026-01-01T00:00:00Z",
			"--max-batch-bytes", "1048576", "--ack", "--ack-timeout", "1m", "--disabled"}, nil,
			"siemsync integrations add", nil, map[string]string{"account": id, "name": "Splunk Cloud", "kind": "splunk_hec",
				"url": "https://h:8088", "token-file": "-", "sources": "audit", "gzip": "false",
				"backfill-since": "2026-01-01T00:00:00Z", "max-batch-bytes": "1048576", "ack": "true", "ack-timeout": "1m0s", "disabled": "true"}},
		{"add syslog", []string{"integrations", "add", "--account", id, "--name", "q", "--kind", "syslog_cef", "--address", "h:6514",
			"--protocol", "tcp", "--framing", "lf", "--min-severity", "5", "--ca-file", "ca.pem", "--client-cert", "c.pem",
			"--client-key", "k.pem", "--server-name", "n", "--insecure-skip-verify"}, nil,
			"siemsync integrations add", nil, map[string]string{"address": "h:6514", "protocol": "tcp", "framing": "lf",
				"min-severity": "5", "ca-file": "ca.pem", "client-cert": "c.pem", "client-key": "k.pem", "server-name": "n",
				"insecure-skip-verify": "true"}},
		{"update", []string{"integrations", "update", id, "--index", "security", "--token", "t"}, nil,
			"siemsync integrations update", []string{id}, map[string]string{"index": "security", "token": "t"}},
		{"test", []string{"integrations", "test", id, "--send-test-event", "--timeout=5s", "--json"}, nil,
			"siemsync integrations test", []string{id}, map[string]string{"send-test-event": "true", "timeout": "5s", "json": "true"}},
		{"enable", []string{"integrations", "enable", id}, nil, "siemsync integrations enable", []string{id}, nil},
		{"disable", []string{"integrations", "disable", id}, nil, "siemsync integrations disable", []string{id}, nil},
		{"delete", []string{"integrations", "delete", id}, nil, "siemsync integrations delete", []string{id}, nil},
		{"ingest stdin", []string{"ingest", "audit", "-"}, nil, "siemsync ingest", []string{"audit", "-"}, nil},
		{"ingest global after", []string{"ingest", "jobs", "f.ndjson", "--db", "x.db"}, nil,
			"siemsync ingest", []string{"jobs", "f.ndjson"}, map[string]string{"db": "x.db"}},
		{"accounts list", []string{"accounts", "list", "--json"}, nil, "siemsync accounts list", nil, map[string]string{"json": "true"}},
		{"accounts update", []string{"accounts", "update", id, "--name", "Acme", "--host", "eu-1"}, nil,
			"siemsync accounts update", []string{id}, map[string]string{"name": "Acme", "host": "eu-1"}},
		{"setaside list", []string{"setaside", "list", id, "--json"}, nil, "siemsync setaside list", []string{id}, map[string]string{"json": "true"}},
		{"setaside retry", []string{"setaside", "retry", id}, nil, "siemsync setaside retry", []string{id}, nil},
		{"setaside drop", []string{"setaside", "drop", id, "3", "4"}, nil, "siemsync setaside drop", []string{id, "3", "4"}, nil},
		{"setaside drop all", []string{"setaside", "drop", id, "--all"}, nil, "siemsync setaside drop", []string{id}, map[string]string{"all": "true"}},
		{"demo ignores db", []string{"demo", "--db", "ignored.db", "--keep", "--every", "1s", "--listen", "127.0.0.1:0"}, nil,
			"siemsync demo", nil, map[string]string{"keep": "true", "every": "1s", "listen": "127.0.0.1:0"}},
		{"hec-receiver", []string{"hec-receiver", "--listen", "127.0.0.1:8088", "--token", "T", "--ack", "--out", "r.ndjson"}, nil,
			"siemsync hec-receiver", nil, map[string]string{"listen": "127.0.0.1:8088", "token": "T", "ack": "true", "out": "r.ndjson"}},
		{"bench", []string{"bench", "--integrations", "10", "--per-integration", "3", "--hec-latency", "100ms", "--json", "--quiet"}, nil,
			"siemsync bench", nil, map[string]string{"integrations": "10", "per-integration": "3", "hec-latency": "100ms", "json": "true", "quiet": "true"}},
		{"cef and worker globals", []string{"--cef-vendor", "Acme", "sync", "--once", "--cef-product=Backup", "--worker-id", "w1", "--lease-ttl", "90s"},
			map[string]string{"SIEMSYNC_CEF_VERSION": "2.1"}, "siemsync sync", nil,
			map[string]string{"cef-vendor": "Acme", "cef-product": "Backup", "cef-version": "2.1", "worker-id": "w1", "lease-ttl": "1m30s"}},
		{"worker env", []string{"serve"}, map[string]string{"SIEMSYNC_WORKER_ID": "w2", "SIEMSYNC_LEASE_TTL": "2m0s", "SIEMSYNC_EGRESS_ADDRESSES": "203.0.113.16/28"},
			"siemsync serve", nil, map[string]string{"worker-id": "w2", "lease-ttl": "2m0s", "egress-addresses": "203.0.113.16/28"}},
		{"accounts update siem", []string{"accounts", "update", id, "--siem=false"}, nil,
			"siemsync accounts update", []string{id}, map[string]string{"siem": "false"}},
		{"accounts keys add", []string{"accounts", "keys", "add", id, "--name", "ci", "--json"}, nil,
			"siemsync accounts keys add", []string{id}, map[string]string{"name": "ci", "json": "true"}},
		{"accounts keys list", []string{"accounts", "keys", "list", id}, nil, "siemsync accounts keys list", []string{id}, nil},
		{"accounts keys revoke", []string{"accounts", "keys", "revoke", id, "7"}, nil, "siemsync accounts keys revoke", []string{id, "7"}, nil},
		{"filters and heartbeat", []string{"integrations", "update", id, "--audit-events", "Sign in*,Export*", "--job-statuses=unsuccessful",
			"--job-types", "backup", "--heartbeat", "--channel", id, "--max-in-flight", "2", "--min-severity", "4"}, nil,
			"siemsync integrations update", []string{id}, map[string]string{"audit-events": "Sign in*,Export*", "job-statuses": "unsuccessful",
				"job-types": "backup", "heartbeat": "true", "channel": id, "max-in-flight": "2", "min-severity": "4"}},
		{"everything after -- is positional", []string{"ingest", "audit", "--", "--json"}, nil,
			"siemsync ingest", []string{"audit", "--json"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, code, out := parseOnly(t, c.args, c.env)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, out)
			}
			if got.path != c.path || strings.Join(got.args, "|") != strings.Join(c.pos, "|") {
				t.Errorf("ran %q with %q, want %q with %q", got.path, got.args, c.path, c.pos)
			}
			for k, v := range c.want {
				if got.flags[k] != v {
					t.Errorf("--%s = %q, want %q", k, got.flags[k], v)
				}
			}
		})
	}
}

// TestCLIMistakes: a wrong command line is a usage error (exit 2) that says
// what is wrong, never a help page with exit 0.
func TestCLIMistakes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"integrations"}, "usage: siemsync integrations add|list|show|update|enable|disable|delete|test"},
		{[]string{"integrations", "bogus"}, `unknown integrations command "bogus"`},
		{[]string{"integrations", "update", "x", "--disabled"}, "unknown flag: --disabled"},
		{[]string{"integrations", "show"}, "usage: siemsync integrations show ID"},
		{[]string{"ingest", "audit"}, "usage: siemsync ingest audit|jobs FILE|-"},
		{[]string{"sync", "--once", "--concurrency", "many"}, `invalid argument "many"`},
		{[]string{"accounts", "list", "extra"}, "usage: siemsync accounts list"},
	} {
		_, code, out := parseOnly(t, c.args, nil)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("%q: exit %d, output %q; want exit 2 saying %q", c.args, code, out, c.want)
		}
	}
}

// TestCLIHelp: each command's help lists its own flags, its arguments and an
// example, and the global flags apart; flags a command does not use are not
// listed.
func TestCLIHelp(t *testing.T) {
	for _, c := range []struct {
		args          []string
		want, wantNot []string
	}{
		{[]string{"integrations", "update", "-h"},
			[]string{"update ID [flags]", "Examples:", "--index", "--token-file", "Global Flags:", "--db path", "(env SIEMSYNC_DB)"},
			[]string{"--account", "--kind", "--backfill-since", "--disabled"}},
		{[]string{"integrations", "add", "--help"},
			[]string{"--account UUID", "--kind", "--backfill-since", "Examples:"}, nil},
		{[]string{"demo", "-h"}, []string{"--keep", "--listen", "Examples:"}, []string{"--db", "--allow-private-destinations"}},
		{[]string{"hec-receiver", "-h"}, []string{"--listen", "--allow-private-destinations (or"}, []string{"--db"}},
		{[]string{"serve", "-h"}, []string{"--listen", "(env SIEMSYNC_LISTEN)", "Global Flags:", "--db"}, []string{" -listen ", "secret-admin-token"}},
		{[]string{"help"}, []string{"SIEMSYNC_SECRET_KEY", "completion", "serve", "sync"}, nil},
		{nil, []string{"Available Commands:"}, nil},
	} {
		_, code, out := parseOnly(t, c.args, map[string]string{"SIEMSYNC_ADMIN_TOKEN": "secret-admin-token"})
		if code != 0 {
			t.Errorf("%q: exit %d", c.args, code)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q: help lacks %q:\n%s", c.args, w, out)
			}
		}
		for _, w := range c.wantNot {
			if strings.Contains(out, w) {
				t.Errorf("%q: help lists %q:\n%s", c.args, w, out)
			}
		}
	}
}

// TestCompletion: the completion scripts are generated for every shell.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"completion", sh}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
		if code != 0 || !strings.Contains(stdout.String(), "siemsync") || stdout.Len() < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %s", sh, code, stdout.Len(), stderr.String())
		}
	}
}

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globals are the flags every command takes, before or after its name.
type globals struct {
	db           string
	create       bool
	logFormat    string
	logLevel     string
	allowPrivate bool
	hostName     string
	// CEF header of syslog destinations, for the deployment (e.g. the
	// SaaS product's name); "" takes the sink's defaults.
	cefVendor, cefProduct, cefVersion string
}

// addGlobals registers the global flags as persistent flags of the root
// command, with their defaults taken from the environment.
func (g *globals) addGlobals(fs *pflag.FlagSet, e env) {
	fs.StringVar(&g.db, "db", e.str("SIEMSYNC_DB", "siemsync.db"), "SQLite database `path`, or a PostgreSQL URL postgres://user@host/db (PG* variables fill the rest) (env SIEMSYNC_DB)")
	fs.BoolVar(&g.create, "create", e.boolean("SIEMSYNC_CREATE", false),
		"create the database if it does not exist (serve and ingest always may) (env SIEMSYNC_CREATE)")
	fs.StringVar(&g.logFormat, "log-format", e.str("SIEMSYNC_LOG_FORMAT", "json"), "log `format`: json or console (env SIEMSYNC_LOG_FORMAT)")
	fs.StringVar(&g.logLevel, "log-level", e.str("SIEMSYNC_LOG_LEVEL", "info"), "log `level`: debug, info, warn, error (env SIEMSYNC_LOG_LEVEL)")
	fs.BoolVar(&g.allowPrivate, "allow-private-destinations", e.boolean("SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS", false),
		"allow destinations on loopback, private, link-local and metadata addresses (env SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS)")
	fs.StringVar(&g.hostName, "host-name", e.str("SIEMSYNC_HOST_NAME", defaultHostName()), "host `name` sent for accounts that have none (env SIEMSYNC_HOST_NAME)")
	fs.StringVar(&g.cefVendor, "cef-vendor", e.str("SIEMSYNC_CEF_VENDOR", ""), "CEF Device Vendor of syslog destinations (default siemsync; env SIEMSYNC_CEF_VENDOR)")
	fs.StringVar(&g.cefProduct, "cef-product", e.str("SIEMSYNC_CEF_PRODUCT", ""), "CEF Device Product of syslog destinations, e.g. your product's name (default siemsync; env SIEMSYNC_CEF_PRODUCT)")
	fs.StringVar(&g.cefVersion, "cef-version", e.str("SIEMSYNC_CEF_VERSION", ""), "CEF Device Version of syslog destinations (default: siemsync's version; env SIEMSYNC_CEF_VERSION)")
}

// usageError is a mistake on the command line: main prints it with a hint
// and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// env reads the environment; tests pass their own.
type env func(string) string

func (e env) str(name, def string) string {
	if v := e(name); v != "" {
		return v
	}
	return def
}

func (e env) boolean(name string, def bool) bool {
	if v, err := strconv.ParseBool(e(name)); err == nil {
		return v
	}
	return def
}

func (e env) integer(name string, def int) int {
	if v, err := strconv.Atoi(e(name)); err == nil {
		return v
	}
	return def
}

func (e env) duration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(e(name)); err == nil {
		return v
	}
	return def
}

func defaultHostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "siemsync"
	}
	return h
}

// nArgs checks that a command got exactly n positional arguments.
func nArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("usage: %s", cmd.UseLine())
		}
		return nil
	}
}

// minArgs checks that a command got at least n positional arguments.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("usage: %s", cmd.UseLine())
		}
		return nil
	}
}

// group is a command that only holds subcommands: run without one (or with
// an unknown one) it is a usage error, not a help page with exit 0.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use + " COMMAND", Short: short, Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			names := make([]string, 0, len(subs))
			for _, s := range subs {
				names = append(names, s.Name())
			}
			if len(args) > 0 {
				return usagef("unknown %s command %q: use %s", use, args[0], strings.Join(names, ", "))
			}
			return usagef("usage: siemsync %s %s", use, strings.Join(names, "|"))
		},
	}
	c.AddCommand(subs...)
	return c
}

// ignoresGlobals hides global flags that a command does not use from its
// help: a hidden local flag of the same name shadows the global one, so
// giving it is still accepted (and ignored), as it was.
func ignoresGlobals(c *cobra.Command, names ...string) *cobra.Command {
	root := &cobra.Command{}
	var g globals
	g.addGlobals(root.Flags(), func(string) string { return "" })
	for _, n := range names {
		f := *root.Flags().Lookup(n)
		f.Hidden = true
		c.Flags().AddFlag(&f)
	}
	return c
}

// noStore marks a command that does not use --db or --create.
func noStore(c *cobra.Command) *cobra.Command { return ignoresGlobals(c, "db", "create") }

// changed returns the names of the flags given on the command line.
func changed(fs *pflag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(fl *pflag.Flag) { set[fl.Name] = true })
	return set
}

// longDashes rewrites Go flag package spellings (-db, -once=true) into
// --db, --once=true for every long flag name the CLI knows, so that scripts
// written for the flag-package CLI keep working. Everything after "--" is left
// alone, and so is "-" (stdin).
func longDashes(args []string, known map[string]bool) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if known[name] {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// flagNames lists every long flag name in the command tree.
func flagNames(c *cobra.Command, into map[string]bool) map[string]bool {
	if into == nil {
		into = map[string]bool{}
	}
	visit := func(f *pflag.Flag) {
		if len(f.Name) > 1 {
			into[f.Name] = true
		}
	}
	c.Flags().VisitAll(visit)
	c.PersistentFlags().VisitAll(visit)
	for _, s := range c.Commands() {
		flagNames(s, into)
	}
	return into
}

func csv(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// subcommandFirst moves a subcommand's name before the flags given between
// it and its group (`integrations --json show ID` becomes `integrations show
// --json ID`), which the flag-package CLI accepted. Whether a flag takes a
// value is looked up in every flag of the group's subtree.
func subcommandFirst(root *cobra.Command, args []string) []string {
	out := append([]string(nil), args...)
	cmd, at := root, 0 // at: where the next subcommand name belongs
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue(cmd, name) {
				i++
			}
			continue
		}
		sub := findSub(cmd, a)
		if sub == nil {
			break
		}
		copy(out[at+1:i+1], out[at:i])
		out[at] = a
		cmd, at = sub, at+1
	}
	return out
}

func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, s := range c.Commands() {
		if s.Name() == name || s.HasAlias(name) {
			return s
		}
	}
	return nil
}

// takesValue says whether a flag of c's subtree (or an inherited one) needs a
// value: a bool flag does not.
func takesValue(c *cobra.Command, name string) bool {
	var f *pflag.Flag
	var look func(*cobra.Command)
	look = func(c *cobra.Command) {
		if f == nil {
			f = c.Flags().Lookup(name)
		}
		for _, s := range c.Commands() {
			look(s)
		}
	}
	look(c)
	if f == nil {
		f = c.InheritedFlags().Lookup(name)
	}
	return f != nil && f.NoOptDefVal == ""
}

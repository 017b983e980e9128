package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// globals are the flags every command takes, before or after its name.
type globals struct {
	db           string
	logFormat    string
	logLevel     string
	allowPrivate bool
	hostName     string
	// CEF header of syslog destinations, for the deployment (e.g. the
	// SaaS product's name); "" takes the sink's defaults.
	cefVendor, cefProduct, cefVersion string
	init                              bool // defaults taken from the environment
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

// addGlobals registers the global flags on fs. The first call takes their
// defaults from the environment; later ones (a command's own flag set) start
// from what the leading flags already set.
func (g *globals) addGlobals(fs *flag.FlagSet, e env) {
	if !g.init {
		g.db = e.str("SIEMSYNC_DB", "siemsync.db")
		g.logFormat = e.str("SIEMSYNC_LOG_FORMAT", "json")
		g.logLevel = e.str("SIEMSYNC_LOG_LEVEL", "info")
		g.allowPrivate = e.boolean("SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS", false)
		g.hostName = e.str("SIEMSYNC_HOST_NAME", defaultHostName())
		g.cefVendor = e.str("SIEMSYNC_CEF_VENDOR", "")
		g.cefProduct = e.str("SIEMSYNC_CEF_PRODUCT", "")
		g.cefVersion = e.str("SIEMSYNC_CEF_VERSION", "")
		g.init = true
	}
	fs.StringVar(&g.db, "db", g.db, "SQLite database `path`, or a PostgreSQL URL postgres://user@host/db (PG* variables fill the rest) (env SIEMSYNC_DB)")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "log format: json or console (env SIEMSYNC_LOG_FORMAT)")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log level: debug, info, warn, error (env SIEMSYNC_LOG_LEVEL)")
	fs.BoolVar(&g.allowPrivate, "allow-private-destinations", g.allowPrivate,
		"allow destinations on loopback, private, link-local and metadata addresses (env SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS)")
	fs.StringVar(&g.hostName, "host-name", g.hostName, "host name sent for accounts that have none (env SIEMSYNC_HOST_NAME)")
	fs.StringVar(&g.cefVendor, "cef-vendor", g.cefVendor, "CEF Device Vendor of syslog destinations (default siemsync; env SIEMSYNC_CEF_VENDOR)")
	fs.StringVar(&g.cefProduct, "cef-product", g.cefProduct, "CEF Device Product of syslog destinations, e.g. your product's name (default siemsync; env SIEMSYNC_CEF_PRODUCT)")
	fs.StringVar(&g.cefVersion, "cef-version", g.cefVersion, "CEF Device Version of syslog destinations (default: siemsync's version; env SIEMSYNC_CEF_VERSION)")
}

// newFlagSet returns a flag set for one command that also knows the globals.
func newFlagSet(name string, g *globals, e env, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.addGlobals(fs, e)
	return fs
}

// parse parses flags that may come before, between or after the positional
// arguments (`show ID --json` and `show --json ID`), and returns the
// positional arguments in order. Everything after "--" is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		// Parse stops at the first positional argument, or consumes "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, nil
}

// splitCommand separates the leading global flags from the command name and
// its arguments: `siemsync --db x.db sync --once`.
func splitCommand(args []string, g *globals, e env, stderr io.Writer) (cmd string, rest []string, err error) {
	fs := flag.NewFlagSet("siemsync", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.addGlobals(fs, e)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "help", nil, nil
		}
		return "", nil, &usageError{err.Error()}
	}
	rest = fs.Args()
	if len(rest) == 0 {
		return "help", nil, nil
	}
	return rest[0], rest[1:], nil
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

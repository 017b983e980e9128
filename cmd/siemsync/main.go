// Command siemsync is the periodic SIEM sync worker: it sends each account's
// audit log and job progress to the Splunk HEC and syslog CEF destinations
// its admins configured. Run `siemsync help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `siemsync — periodic SIEM sync worker (Splunk HEC, syslog CEF)

Usage: siemsync [global flags] COMMAND [flags] [args]

Commands:
  serve                      scheduler + admin page + REST API until SIGINT/SIGTERM
  sync --once [--integration ID]
                             one cycle for every enabled integration (or one), then exit
  ingest audit|jobs FILE|-   load NDJSON records into the store (all or nothing)
  integrations add|list|show|update|enable|disable|delete|test
  accounts list|update|keys  accounts, their SIEM feature (--siem) and API keys
  setaside list|retry|drop   events a destination rejected
  prune                      apply the retention now
  demo                       everything on one machine: store, HEC receiver, activity, admin page
  hec-receiver               a local HEC-compatible receiver (development tool)
  bench                      measure the pipeline

Global flags (before or after the command):
  --db PATH                  SQLite database (env SIEMSYNC_DB, default siemsync.db)
  --log-format json|console  (env SIEMSYNC_LOG_FORMAT, default json)
  --log-level LEVEL          (env SIEMSYNC_LOG_LEVEL, default info)
  --allow-private-destinations
                             allow loopback/private/link-local destinations (env SIEMSYNC_ALLOW_PRIVATE_DESTINATIONS)
  --host-name NAME           host for accounts without one (env SIEMSYNC_HOST_NAME, default: this machine)

Run 'siemsync COMMAND -h' for a command's flags.
`

type command func(ctx context.Context, a *app, args []string) error

var commands = map[string]command{
	"serve":        cmdServe,
	"sync":         cmdSync,
	"ingest":       cmdIngest,
	"integrations": cmdIntegrations,
	"accounts":     cmdAccounts,
	"setaside":     cmdSetAside,
	"prune":        cmdPrune,
	"demo":         cmdDemo,
	"hec-receiver": cmdReceiver,
	"bench":        cmdBench,
}

func main() {
	privateUmask()
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// errSilent fails a command whose output already said why (e.g. a failed
// connection test or a sync summary with failures): exit 1, print nothing more.
var errSilent = errors.New("failed")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{env: env(getenv), stdin: stdin, stdout: stdout, stderr: stderr}
	name, rest, err := splitCommand(args, &a.g, a.env, stderr)
	if err == nil && (name == "help" || name == "-h" || name == "--help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands[name]
	if err == nil && !ok {
		err = usagef("unknown command %q", name)
	}
	if err == nil {
		err = cmd(ctx, a, rest)
	}
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errSilent):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "siemsync: %v\nRun 'siemsync help' for usage.\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "siemsync: %v\n", err)
		return 1
	}
}

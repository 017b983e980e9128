// Command siemsync is the periodic SIEM sync worker: it sends each account's
// audit log and job progress to the Splunk HEC and syslog CEF destinations
// its admins configured. Run `siemsync help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/internal/version"
	"github.com/siemsync/siemsync/sink/hec"
)

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

// run parses args, runs the command and returns the exit code: 0 done,
// 1 failed, 2 a mistake on the command line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{env: env(getenv), stdin: stdin, stdout: stdout, stderr: stderr,
		transports: hec.NewTransports(hec.TransportOptions{})}
	defer a.transports.Close()
	root := newRoot(a)
	root.SetArgs(subcommandFirst(root, longDashes(args, flagNames(root, nil))))
	err := root.ExecuteContext(ctx)
	var ue *usageError
	switch {
	case err == nil:
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

const rootLong = `siemsync sends each account's audit log and job progress to the Splunk HEC and
syslog CEF destinations its admins configured, every few minutes, exactly once.

Environment (besides each flag's own variable, shown next to it):
  SIEMSYNC_SECRET_KEY   base64 32-byte key that encrypts stored secrets (default: a key
                        file beside the database, created on first use)
  SIEMSYNC_HEC_TOKEN    HEC token for 'integrations add/update' when no --token is given
  GOGC                  Go's collector target (siemsync's default is 50)`

// newRoot builds the command tree. A new command is a newXCmd(a) function in
// its own file, added to the list below; its flags are registered on its own
// cobra.Command, and the globals (a.g) are there for every command.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:     "siemsync",
		Short:   "periodic SIEM sync worker (Splunk HEC, syslog CEF)",
		Long:    rootLong,
		Version: version.String(),
		Example: `  siemsync demo                              # everything on one machine, open the printed URL
  siemsync --db /var/lib/siemsync/siemsync.db serve
  siemsync sync --once --json                # one cycle from cron
  siemsync completion bash > /etc/bash_completion.d/siemsync`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			return nil
		},
		RunE:              func(cmd *cobra.Command, args []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return a.setup() },
		SilenceErrors:     true,
		SilenceUsage:      true,
	}
	// Before the completion command, which keeps the writer it is built with.
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetVersionTemplate("siemsync {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	a.g.addGlobals(root.PersistentFlags(), a.env)
	root.AddCommand(
		newServeCmd(a),
		newSyncCmd(a),
		newIngestCmd(a),
		newIntegrationsCmd(a),
		newAccountsCmd(a),
		newSetAsideCmd(a),
		newPruneCmd(a),
		newDemoCmd(a),
		newReceiverCmd(a),
		newBenchCmd(a),
	)
	// completion writes scripts, it needs no store.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			for _, s := range c.Commands() {
				noStore(s)
			}
		}
	}
	return root
}

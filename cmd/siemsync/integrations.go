package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

func newIntegrationsCmd(a *app) *cobra.Command {
	return group("integrations", "add, list, show, update, enable, disable, delete, test, preview, replay integrations",
		newIntegrationsAddCmd(a), newIntegrationsListCmd(a), newIntegrationsShowCmd(a), newIntegrationsUpdateCmd(a),
		newIntegrationsToggleCmd(a, true), newIntegrationsToggleCmd(a, false), newIntegrationsDeleteCmd(a),
		newIntegrationsTestCmd(a), newIntegrationsPreviewCmd(a), newIntegrationsReplayCmd(a))
}

func newIntegrationsAddCmd(a *app) *cobra.Command {
	var f integrationFlags
	c := &cobra.Command{
		Use:   "add --account UUID --name NAME --kind splunk_hec|syslog_cef [flags]",
		Short: "create an integration and print its id",
		Example: `  siemsync integrations add --account 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90 --name "Splunk Cloud" \
    --kind splunk_hec --url https://http-inputs-acme.splunkcloud.com --token-file hec.token
  siemsync integrations add --account 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90 --name QRadar --kind syslog_cef \
    --address qradar.example.com:6514 --ca-file ca.pem --sources audit`,
		Args: nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return integrationsAdd(cmd.Context(), a, &f, changed(cmd.Flags()))
		},
	}
	f.register(c.Flags(), true)
	return c
}

func newIntegrationsUpdateCmd(a *app) *cobra.Command {
	var f integrationFlags
	c := &cobra.Command{
		Use:   "update ID [flags]",
		Short: "change the flags given, keep the rest",
		Long: `Change the settings given as flags and keep the rest. The account, kind and
backfill start are fixed at creation (delete and add again to change them); use
enable/disable for the toggle.`,
		Example: `  siemsync integrations update 6f1c… --index security --max-batch-bytes 1048576
  siemsync integrations update 6f1c… --token-file new.token`,
		Args: nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return integrationsUpdate(cmd.Context(), a, args[0], &f, changed(cmd.Flags()))
		},
	}
	f.register(c.Flags(), false)
	return c
}

func integrationsAdd(ctx context.Context, a *app, f *integrationFlags, set map[string]bool) error {
	p, err := f.patch(set, siemsync.Kind(f.kind), a.stdin, a.env)
	if err != nil {
		return err
	}
	in := siemsync.NewIntegration() // the API's and the page's defaults
	if err := p.Apply(in, true, time.Now()); err != nil {
		return flagError(err)
	}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
		return flagError(err)
	}
	db, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateIntegration(ctx, in); err != nil {
		return flagError(err)
	}
	a.recordIntegration(ctx, db, audittrail.IntegrationCreated, in, nil)
	fmt.Fprintln(a.stdout, in.ID)
	return nil
}

func integrationsUpdate(ctx context.Context, a *app, id string, f *integrationFlags, set map[string]bool) error {
	db, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := db.GetIntegration(ctx, id, false)
	if err != nil {
		return fmt.Errorf("integration %s: %w", id, err)
	}
	p, err := f.patch(set, in.Kind, a.stdin, a.env)
	if err != nil {
		return err
	}
	before := *in
	// Apply refuses a change of what is fixed at creation (account, kind,
	// backfill start) with the API's words.
	if err := p.Apply(in, false, time.Now()); err != nil {
		return flagError(err)
	}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
		return flagError(err)
	}
	if err := db.UpdateIntegration(ctx, in); err != nil {
		return flagError(err)
	}
	if fields := audittrail.ChangedFields(&before, in); len(fields) > 0 {
		a.recordIntegration(ctx, db, audittrail.IntegrationUpdated, in, fields)
	}
	fmt.Fprintf(a.stdout, "updated %s\n", in.ID)
	return nil
}

func newIntegrationsListCmd(a *app) *cobra.Command {
	var account string
	var asJSON bool
	c := &cobra.Command{
		Use:     "list [--account UUID] [--json]",
		Short:   "list integrations with their last status",
		Example: "  siemsync integrations list --account 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90 --json",
		Args:    nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return integrationsList(cmd.Context(), a, account, asJSON)
		},
	}
	c.Flags().StringVar(&account, "account", "", "only this account's integrations")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func integrationsList(ctx context.Context, a *app, account string, asJSON bool) error {
	db, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.ListIntegrations(ctx, account)
	if err != nil {
		return err
	}
	if asJSON {
		if list == nil {
			list = []*siemsync.Integration{}
		}
		return writeJSON(a.stdout, list)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tNAME\tKIND\tENABLED\tLAST COMPLETE\tSTATUS")
	for _, in := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\n", in.ID, in.Account, in.Name, in.Kind, in.Enabled,
			fmtTime(in.Status.LastComplete), statusWord(in))
	}
	return tw.Flush()
}

func statusWord(in *siemsync.Integration) string {
	switch {
	case in.Status.LastError != nil:
		return "error: " + in.Status.ErrorMessage
	case in.Status.LastComplete == nil:
		return "not synced yet"
	}
	return "ok"
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// idCmd is a command that takes one integration id: run gets it with the
// store open.
func idCmd(a *app, use, short, example string, run func(ctx context.Context, db store.Backend, id string) error) *cobra.Command {
	return storeCmd(a, &cobra.Command{Use: use + " ID", Short: short, Example: example, Args: nArgs(1)},
		func(ctx context.Context, db store.Backend, args []string) error { return run(ctx, db, args[0]) })
}

func newIntegrationsShowCmd(a *app) *cobra.Command {
	var asJSON bool
	c := idCmd(a, "show", "settings and status of one integration", "  siemsync integrations show 6f1c… --json",
		func(ctx context.Context, db store.Backend, id string) error {
			in, err := db.GetIntegration(ctx, id, false)
			if err != nil {
				return fmt.Errorf("integration %s: %w", id, err)
			}
			in.Status.Warnings = append(in.Status.Warnings, in.ConfigWarnings(time.Now())...)
			if asJSON {
				return writeJSON(a.stdout, in)
			}
			return printIntegration(a.stdout, in)
		})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printIntegration(w io.Writer, in *siemsync.Integration) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
	row("id", in.ID)
	row("account", in.Account)
	row("name", in.Name)
	row("kind", in.Kind)
	row("enabled", in.Enabled)
	row("sources", strings.Join(in.Sources, ","))
	if in.Kind == siemsync.KindHEC {
		row("url", in.URL)
		row("token", map[bool]string{true: "set (hidden)", false: "not set"}[in.TokenSet])
		row("index", or(in.Index, "(token default)"))
		row("sourcetype", in.Sourcetype)
		row("gzip", in.Gzip)
		row("ack", in.Ack)
		row("profile", in.Profile)
		if in.Channel != "" {
			row("channel", in.Channel)
		}
	} else {
		row("address", in.Address)
		row("protocol", in.Protocol)
		row("framing", in.Framing)
	}
	row("audit events", or(strings.Join(in.AuditEvents, ","), "all"))
	row("job statuses", or(strings.Join(in.JobStatuses, ","), "all"))
	row("job types", or(strings.Join(in.JobTypes, ","), "all"))
	row("min severity", in.MinSeverity)
	row("heartbeat", in.Heartbeat)
	row("max batch", fmt.Sprintf("%d bytes, %d events", in.MaxBatchBytes, in.MaxBatchEvents))
	if in.LearnedBatchBytes > 0 {
		row("learned batch", fmt.Sprintf("%d bytes (the destination refused larger requests with 413)", in.LearnedBatchBytes))
	}
	row("alert webhook", or(in.NotifyHost, "-"))
	row("alert after", in.AlertAfter.D().String())
	if in.Status.Alert != "" {
		row("alert", in.Status.Alert)
	}
	if in.Status.AlertError != "" {
		row("alert error", in.Status.AlertError)
	}
	row("last complete", fmtTime(in.Status.LastComplete))
	row("last error", fmtTime(in.Status.LastError))
	row("error message", or(in.Status.ErrorMessage, "-"))
	row("lag", (time.Duration(in.Status.LagSeconds) * time.Second).String())
	row("events last cycle", in.Status.EventsLastCycle)
	row("set aside", in.Status.SetAside)
	row("filtered last cycle", in.Status.Filtered)
	for _, warn := range in.Status.Warnings {
		row("warning", warn)
	}
	return tw.Flush()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newIntegrationsToggleCmd(a *app, enabled bool) *cobra.Command {
	name := map[bool]string{true: "enable", false: "disable"}[enabled]
	return idCmd(a, name, name+" an integration's syncing", "  siemsync integrations "+name+" 6f1c…",
		func(ctx context.Context, db store.Backend, id string) error {
			in, err := db.GetIntegration(ctx, id, false)
			if err == nil {
				err = db.SetEnabled(ctx, id, enabled)
			}
			if err != nil {
				return fmt.Errorf("integration %s: %w", id, err)
			}
			if in.Enabled != enabled {
				ev := audittrail.IntegrationDisabled
				if enabled {
					ev = audittrail.IntegrationEnabled
				}
				a.recordIntegration(ctx, db, ev, in, nil)
			}
			fmt.Fprintf(a.stdout, "%sd %s\n", name, id)
			return nil
		})
}

func newIntegrationsDeleteCmd(a *app) *cobra.Command {
	return idCmd(a, "delete", "delete an integration, its checkpoints and set-aside events", "  siemsync integrations delete 6f1c…",
		func(ctx context.Context, db store.Backend, id string) error {
			in, err := db.GetIntegration(ctx, id, false)
			if err == nil {
				err = db.DeleteIntegration(ctx, id)
			}
			if err != nil {
				return fmt.Errorf("integration %s: %w", id, err)
			}
			a.recordIntegration(ctx, db, audittrail.IntegrationDeleted, in, nil)
			fmt.Fprintf(a.stdout, "deleted %s\n", id)
			return nil
		})
}

func newIntegrationsTestCmd(a *app) *cobra.Command {
	var send, asJSON bool
	var timeout time.Duration
	c := idCmd(a, "test", "Test connection: DNS, connect, TLS, authenticate (and optionally send one event)",
		"  siemsync integrations test 6f1c… --send-test-event",
		func(ctx context.Context, db store.Backend, id string) error {
			return integrationsTest(ctx, a, db, id, send, asJSON, timeout)
		})
	c.Flags().BoolVar(&send, "send-test-event", false, "also send one visible test event")
	c.Flags().BoolVar(&asJSON, "json", false, "print the steps as JSON")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	return c
}

func integrationsTest(ctx context.Context, a *app, db store.Backend, id string, send, asJSON bool, timeout time.Duration) error {
	in, err := db.GetIntegration(ctx, id, true)
	if err != nil {
		return fmt.Errorf("integration %s: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	steps := a.tester(sinkConfig{requestTimeout: timeout}, db)(ctx, in, send)
	ok := stepsOK(steps)
	a.record(context.WithoutCancel(ctx), db, audittrail.Change{Account: in.Account, Event: audittrail.IntegrationTested,
		Integration: in, Extra: map[string]any{"ok": ok, "test_event": send}})
	if asJSON {
		if err := writeJSON(a.stdout, map[string]any{"ok": ok, "steps": steps}); err != nil {
			return err
		}
	} else {
		for _, s := range steps {
			mark := "ok  "
			if !s.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(a.stdout, "%s %-7s %s\n", mark, s.Name, s.Message)
		}
	}
	if !ok {
		return errSilent
	}
	return nil
}

func stepsOK(steps []siemsync.Step) bool {
	for _, s := range steps {
		if !s.OK {
			return false
		}
	}
	return len(steps) > 0
}

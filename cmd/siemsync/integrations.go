package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

func cmdIntegrations(ctx context.Context, a *app, args []string) error {
	sub, rest := "", args
	for i, x := range args {
		if !strings.HasPrefix(x, "-") {
			sub, rest = x, append(append([]string{}, args[:i]...), args[i+1:]...)
			break
		}
	}
	switch sub {
	case "add":
		return integrationsAdd(ctx, a, rest)
	case "update":
		return integrationsUpdate(ctx, a, rest)
	case "list":
		return integrationsList(ctx, a, rest)
	case "show":
		return integrationsShow(ctx, a, rest)
	case "enable", "disable":
		return integrationsToggle(ctx, a, rest, sub == "enable")
	case "delete":
		return integrationsDelete(ctx, a, rest)
	case "test":
		return integrationsTest(ctx, a, rest)
	case "preview":
		return integrationsPreview(ctx, a, rest)
	case "replay":
		return integrationsReplay(ctx, a, rest)
	}
	return usagef("usage: siemsync integrations add|list|show|update|enable|disable|delete|test|preview|replay")
}

func integrationsAdd(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet("integrations add", &a.g, a.env, a.stderr)
	var f integrationFlags
	f.register(fs)
	_, err := a.args(fs, args, 0, "siemsync integrations add --account A --name N --kind splunk_hec|syslog_cef ...")
	if err != nil {
		return err
	}
	set := setFlags(fs)
	in := &siemsync.Integration{Enabled: !f.disabled}
	if err := f.apply(in, set, true, a.stdin, a.env); err != nil {
		return err
	}
	if in.Kind != siemsync.KindSyslog {
		in.Protocol, in.Framing = "", ""
	}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
		return flagError(err)
	}
	db, err := a.openStore(ctx)
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

func integrationsUpdate(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet("integrations update", &a.g, a.env, a.stderr)
	var f integrationFlags
	f.register(fs)
	pos, err := a.args(fs, args, 1, "siemsync integrations update ID [flags]")
	if err != nil {
		return err
	}
	set := setFlags(fs)
	for _, fixed := range []string{"account", "kind", "backfill-since", "disabled", "create-account"} {
		if set[fixed] {
			return usagef("--%s cannot be changed by update (use enable/disable for the toggle; delete and add for the rest)", fixed)
		}
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := db.GetIntegration(ctx, pos[0], false)
	if err != nil {
		return fmt.Errorf("integration %s: %w", pos[0], err)
	}
	before := *in
	if err := f.apply(in, set, false, a.stdin, a.env); err != nil {
		return err
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

func integrationsList(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet("integrations list", &a.g, a.env, a.stderr)
	account := fs.String("account", "", "only this account's integrations")
	asJSON := fs.Bool("json", false, "print JSON")
	_, db, err := a.open(ctx, fs, args, 0, "siemsync integrations list [--account A] [--json]")
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.ListIntegrations(ctx, *account)
	if err != nil {
		return err
	}
	if *asJSON {
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

// oneID parses a command that takes one integration id.
// oneID parses a command that takes one integration id and opens the store.
func oneID(ctx context.Context, a *app, name string, args []string, extra func(*flag.FlagSet)) (string, store.Backend, error) {
	fs := newFlagSet("integrations "+name, &a.g, a.env, a.stderr)
	if extra != nil {
		extra(fs)
	}
	pos, db, err := a.open(ctx, fs, args, 1, "siemsync integrations "+name+" ID")
	if err != nil {
		return "", nil, err
	}
	return pos[0], db, nil
}

func integrationsShow(ctx context.Context, a *app, args []string) error {
	var asJSON bool
	id, db, err := oneID(ctx, a, "show", args, func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") })
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := db.GetIntegration(ctx, id, false)
	if err != nil {
		return fmt.Errorf("integration %s: %w", id, err)
	}
	in.Status.Warnings = append(in.Status.Warnings, in.ConfigWarnings(time.Now())...)
	if asJSON {
		return writeJSON(a.stdout, in)
	}
	return printIntegration(a.stdout, in)
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

func integrationsToggle(ctx context.Context, a *app, args []string, enabled bool) error {
	name := map[bool]string{true: "enable", false: "disable"}[enabled]
	id, db, err := oneID(ctx, a, name, args, nil)
	if err != nil {
		return err
	}
	defer db.Close()
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
}

func integrationsDelete(ctx context.Context, a *app, args []string) error {
	id, db, err := oneID(ctx, a, "delete", args, nil)
	if err != nil {
		return err
	}
	defer db.Close()
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
}

func integrationsTest(ctx context.Context, a *app, args []string) error {
	var send, asJSON bool
	var timeout time.Duration
	id, db, err := oneID(ctx, a, "test", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&send, "send-test-event", false, "also send one visible test event")
		fs.BoolVar(&asJSON, "json", false, "print the steps as JSON")
		fs.DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	})
	if err != nil {
		return err
	}
	defer db.Close()
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

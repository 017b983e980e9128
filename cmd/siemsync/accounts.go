package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

// storeCmd is a command that runs with the store open.
func storeCmd(a *app, c *cobra.Command, run func(ctx context.Context, db store.Backend, args []string) error) *cobra.Command {
	c.RunE = func(cmd *cobra.Command, args []string) error {
		db, err := a.openStore(cmd.Context(), false)
		if err != nil {
			return err
		}
		defer db.Close()
		return run(cmd.Context(), db, args)
	}
	return c
}

func newAccountsCmd(a *app) *cobra.Command {
	return group("accounts", "list accounts, set their name, host and SIEM feature, manage their API keys",
		newAccountsListCmd(a), newAccountsUpdateCmd(a), newAccountKeysCmd(a))
}

func newAccountKeysCmd(a *app) *cobra.Command {
	keysCmd := func(use, short, example string, n int, flags func(*cobra.Command, *string, *bool)) *cobra.Command {
		var name string
		var asJSON bool
		c := storeCmd(a, &cobra.Command{Use: use, Short: short, Example: example, Args: nArgs(n)},
			func(ctx context.Context, db store.Backend, args []string) error {
				return a.accountKeys(ctx, db, append([]string{strings.Fields(use)[0]}, args...), name, asJSON)
			})
		if flags != nil {
			flags(c, &name, &asJSON)
		}
		return c
	}
	return group("keys", "an account's API keys (self-service): add, list, revoke",
		keysCmd("add ACCOUNT --name N [--json]", "create a key; it is printed once, only its hash is stored",
			"  siemsync accounts keys add 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90 --name ci", 1,
			func(c *cobra.Command, name *string, asJSON *bool) {
				c.Flags().StringVar(name, "name", "", "the key's name")
				c.Flags().BoolVar(asJSON, "json", false, "print JSON")
			}),
		keysCmd("list ACCOUNT [--json]", "list an account's keys",
			"  siemsync accounts keys list 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90", 1,
			func(c *cobra.Command, _ *string, asJSON *bool) {
				c.Flags().BoolVar(asJSON, "json", false, "print JSON")
			}),
		keysCmd("revoke ACCOUNT ID", "revoke a key", "  siemsync accounts keys revoke 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90 7", 2, nil),
	)
}

func newAccountsListCmd(a *app) *cobra.Command {
	var asJSON bool
	c := storeCmd(a, &cobra.Command{
		Use: "list [--json]", Short: "list accounts (they appear on first ingest or integration)",
		Example: "  siemsync accounts list --json", Args: nArgs(0),
	}, func(ctx context.Context, db store.Backend, _ []string) error {
		list, err := db.ListAccounts(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			if list == nil {
				list = []siemsync.Account{}
			}
			return writeJSON(a.stdout, list)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tNAME\tHOST\tSIEM\tCREATED")
		for _, acc := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", acc.ID, or(acc.Name, "-"), or(acc.Host, "("+a.g.hostName+")"),
				map[bool]string{true: "on", false: "off"}[acc.SIEMEnabled], acc.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newAccountsUpdateCmd(a *app) *cobra.Command {
	var name, host string
	var siem bool
	c := &cobra.Command{
		Use: "update ACCOUNT [--name N] [--host H] [--siem=true|false]", Short: "set an account's display name, host and SIEM feature",
		Example: "  siemsync accounts update 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90 --name \"Acme Corp\" --host eu-1.example.net\n" +
			"  siemsync accounts update 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90 --siem=false",
		Args: nArgs(1),
	}
	run := func(ctx context.Context, db store.Backend, args []string) error {
		set := changed(c.Flags())
		var np, hp *string
		if set["name"] {
			np = &name
		}
		if set["host"] {
			hp = &host
		}
		if np == nil && hp == nil && !set["siem"] {
			return usagef("accounts update: give --name, --host and/or --siem")
		}
		if np != nil || hp != nil {
			if err := db.UpdateAccount(ctx, args[0], np, hp); err != nil {
				return fmt.Errorf("account %s: %w", args[0], err)
			}
		}
		if set["siem"] {
			if err := a.setSIEM(ctx, db, args[0], siem); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.stdout, "updated %s\n", args[0])
		return nil
	}
	storeCmd(a, c, run)
	c.Flags().StringVar(&name, "name", "", "account display name")
	c.Flags().StringVar(&host, "host", "", "host name of the environment where the account lives; empty: the server's --host-name")
	c.Flags().BoolVar(&siem, "siem", true, "the SIEM feature of the account: false stops its integrations and keeps their checkpoints")
	return c
}

func newSetAsideCmd(a *app) *cobra.Command {
	return group("setaside", "events a destination rejected: list, retry, drop",
		newSetAsideListCmd(a), newSetAsideRetryCmd(a), newSetAsideDropCmd(a))
}

// setAsideCmd is a setaside command on one integration, which must exist.
func setAsideCmd(a *app, c *cobra.Command, run func(ctx context.Context, db store.Backend, in *siemsync.Integration, args []string) error) *cobra.Command {
	return storeCmd(a, c, func(ctx context.Context, db store.Backend, args []string) error {
		in, err := db.GetIntegration(ctx, args[0], false)
		if err != nil {
			return fmt.Errorf("integration %s: %w", args[0], err)
		}
		return run(ctx, db, in, args[1:])
	})
}

func newSetAsideListCmd(a *app) *cobra.Command {
	var asJSON bool
	c := setAsideCmd(a, &cobra.Command{
		Use: "list ID [--json]", Short: "list an integration's set-aside events",
		Example: "  siemsync setaside list 6f1c… --json", Args: nArgs(1),
	}, func(ctx context.Context, db store.Backend, in *siemsync.Integration, _ []string) error {
		list, err := db.ListSetAside(ctx, in.ID)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(a.stdout, list)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSOURCE\tSEQ\tEVENT ID\tSET ASIDE\tREASON")
		for _, s := range list {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.Source, s.Seq, s.EventID, s.CreatedAt.UTC().Format(time.RFC3339), s.Reason)
		}
		return tw.Flush()
	})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newSetAsideRetryCmd(a *app) *cobra.Command {
	var f syncFlags
	c := setAsideCmd(a, &cobra.Command{
		Use: "retry ID", Short: "send an integration's set-aside events again",
		Example: "  siemsync setaside retry 6f1c…", Args: nArgs(1),
	}, func(ctx context.Context, db store.Backend, in *siemsync.Integration, _ []string) error {
		delivered, remaining, err := a.newSyncer(db, f, nil, nil).RetrySetAside(ctx, in.ID)
		fmt.Fprintf(a.stdout, "%d delivered, %d still set aside\n", delivered, remaining)
		if err == nil {
			a.record(ctx, db, audittrail.Change{Account: in.Account, Event: audittrail.SetAsideRetried, Integration: in,
				Extra: map[string]any{"delivered": delivered, "remaining": remaining}})
		}
		return err
	})
	a.addSyncFlags(c.Flags(), &f)
	return c
}

func newSetAsideDropCmd(a *app) *cobra.Command {
	var all bool
	c := setAsideCmd(a, &cobra.Command{
		Use: "drop ID [EVENT ...|--all]", Short: "forget set-aside events (they are not sent)",
		Example: "  siemsync setaside drop 6f1c… 17 18\n  siemsync setaside drop 6f1c… --all", Args: minArgs(1),
	}, func(ctx context.Context, db store.Backend, in *siemsync.Integration, events []string) error {
		id := in.ID
		var ids []int64
		if all {
			list, err := db.ListSetAside(ctx, id)
			if err != nil {
				return err
			}
			for _, s := range list {
				ids = append(ids, s.ID)
			}
		}
		for _, p := range events {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return usagef("setaside drop: %q is not a set-aside id (see 'siemsync setaside list %s')", p, id)
			}
			ids = append(ids, n)
		}
		if len(ids) == 0 {
			return usagef("setaside drop: name the set-aside ids to drop, or --all")
		}
		n, err := db.DeleteSetAside(ctx, id, ids)
		if err != nil {
			return err
		}
		if n > 0 {
			a.record(ctx, db, audittrail.Change{Account: in.Account, Event: audittrail.SetAsideDropped, Integration: in,
				Extra: map[string]any{"dropped": n}})
		}
		fmt.Fprintf(a.stdout, "%d dropped\n", n)
		return nil
	})
	c.Flags().BoolVar(&all, "all", false, "drop every set-aside event of the integration")
	return c
}

func newPruneCmd(a *app) *cobra.Command {
	var retention time.Duration
	c := storeCmd(a, &cobra.Command{
		Use: "prune [--retention 720h]", Short: "apply the retention now",
		Example: "  siemsync prune --retention 168h", Args: nArgs(0),
	}, func(ctx context.Context, db store.Backend, _ []string) error {
		res, err := db.Prune(ctx, time.Now().Add(-retention))
		if err != nil {
			return err
		}
		return writeJSON(a.stdout, res)
	})
	c.Flags().DurationVar(&retention, "retention", a.env.duration("SIEMSYNC_RETENTION", defaultRetention), "remove records older than this (env SIEMSYNC_RETENTION)")
	return c
}

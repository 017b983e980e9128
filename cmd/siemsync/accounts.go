package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
)

func cmdAccounts(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return usagef("usage: siemsync accounts list [--json] | accounts update ACCOUNT [--name N] [--host H] [--siem=true|false] | accounts keys add|list|revoke")
	}
	fs := newFlagSet("accounts", &a.g, a.env, a.stderr)
	asJSON := fs.Bool("json", false, "print JSON (list, keys list, keys add)")
	name := fs.String("name", "", "account display name (update); key name (keys add)")
	host := fs.String("host", "", "host name of the environment where the account lives (update); empty: the server's --host-name")
	siem := fs.Bool("siem", true, "the SIEM feature of the account (update): false stops its integrations and keeps their checkpoints")
	pos, err := a.args(fs, args, -1, "")
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("usage: siemsync accounts list|update")
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch pos[0] {
	case "keys":
		return a.accountKeys(ctx, db, pos[1:], *name, *asJSON)
	case "list":
		list, err := db.ListAccounts(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
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
	case "update":
		if len(pos) != 2 {
			return usagef("usage: siemsync accounts update ACCOUNT [--name N] [--host H]")
		}
		pos[1] = siemsync.CanonicalID(pos[1])
		set := setFlags(fs)
		var np, hp *string
		if set["name"] {
			np = name
		}
		if set["host"] {
			hp = host
		}
		if np == nil && hp == nil && !set["siem"] {
			return usagef("accounts update: give --name, --host and/or --siem")
		}
		if np != nil || hp != nil {
			if err := db.UpdateAccount(ctx, pos[1], np, hp); err != nil {
				return fmt.Errorf("account %s: %w", pos[1], err)
			}
		}
		if set["siem"] {
			if err := a.setSIEM(ctx, db, pos[1], *siem); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.stdout, "updated %s\n", pos[1])
		return nil
	}
	return usagef("unknown accounts command %q: use list, update or keys", pos[0])
}

func cmdSetAside(ctx context.Context, a *app, args []string) error {
	const use = "siemsync setaside list ID | setaside retry ID | setaside drop ID [EVENT ...|--all]"
	fs := newFlagSet("setaside", &a.g, a.env, a.stderr)
	asJSON := fs.Bool("json", false, "print JSON (list)")
	all := fs.Bool("all", false, "drop every set-aside event of the integration")
	var f syncFlags
	a.addSyncFlags(fs, &f)
	pos, err := a.args(fs, args, -1, "")
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("usage: %s", use)
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	id := pos[1]
	in, err := db.GetIntegration(ctx, id, false)
	if err != nil {
		return fmt.Errorf("integration %s: %w", id, err)
	}
	switch pos[0] {
	case "list":
		list, err := db.ListSetAside(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(a.stdout, list)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSOURCE\tSEQ\tEVENT ID\tSET ASIDE\tREASON")
		for _, s := range list {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.Source, s.Seq, s.EventID, s.CreatedAt.UTC().Format(time.RFC3339), s.Reason)
		}
		return tw.Flush()
	case "retry":
		delivered, remaining, err := a.newSyncer(db, f, nil, nil).RetrySetAside(ctx, id)
		fmt.Fprintf(a.stdout, "%d delivered, %d still set aside\n", delivered, remaining)
		if err == nil {
			a.record(ctx, db, audittrail.Change{Account: in.Account, Event: audittrail.SetAsideRetried, Integration: in,
				Extra: map[string]any{"delivered": delivered, "remaining": remaining}})
		}
		return err
	case "drop":
		var ids []int64
		if *all {
			list, err := db.ListSetAside(ctx, id)
			if err != nil {
				return err
			}
			for _, s := range list {
				ids = append(ids, s.ID)
			}
		}
		for _, p := range pos[2:] {
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
	}
	return usagef("usage: %s", use)
}

func cmdPrune(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet("prune", &a.g, a.env, a.stderr)
	retention := fs.Duration("retention", a.env.duration("SIEMSYNC_RETENTION", defaultRetention), "remove records older than this (env SIEMSYNC_RETENTION)")
	_, db, err := a.open(ctx, fs, args, 0, "siemsync prune [--retention 720h]")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Prune(ctx, time.Now().Add(-*retention))
	if err != nil {
		return err
	}
	return writeJSON(a.stdout, res)
}

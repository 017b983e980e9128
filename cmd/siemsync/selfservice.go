package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

// record puts a change made on the command line in the account's audit
// trail (SPEC §7.3), as the admin. The change is made already: a failure
// to record it is reported, not fatal.
func (a *app) record(ctx context.Context, db store.Backend, c audittrail.Change) {
	if !a.auditTrail() {
		return
	}
	err := audittrail.New(ingester{db}, nil).Record(ctx, audittrail.Actor{User: audittrail.Admin}, c)
	if err != nil {
		a.log.Error().Err(err).Str("account", c.Account).Str("event", c.Event).Msg("audit trail: the change was made but could not be recorded")
	}
}

// auditTrail is SIEMSYNC_AUDIT_TRAIL (default true): false leaves siemsync's
// own changes out of the accounts' audit logs, for a host product that
// records them itself.
func (a *app) auditTrail() bool { return a.env.boolean("SIEMSYNC_AUDIT_TRAIL", true) }

// recordIntegration records a change of one integration.
func (a *app) recordIntegration(ctx context.Context, db store.Backend, event string, in *siemsync.Integration, fields []string) {
	a.record(ctx, db, audittrail.Change{Account: in.Account, Event: event, Integration: in, Fields: fields})
}

// accountKeys runs `accounts keys add ACCOUNT --name N`, `keys list
// ACCOUNT [--json]` and `keys revoke ACCOUNT ID`.
func (a *app) accountKeys(ctx context.Context, db store.Backend, pos []string, name string, asJSON bool) error {
	const use = "siemsync accounts keys add ACCOUNT --name N | keys list ACCOUNT [--json] | keys revoke ACCOUNT ID"
	if len(pos) < 2 || !siemsync.ValidUUID(pos[1]) {
		return usagef("usage: %s", use)
	}
	account := pos[1]
	switch {
	case pos[0] == "add" && len(pos) == 2:
		if err := admin.ValidKeyName(name); err != nil {
			return usagef("accounts keys add: --%v", err)
		}
		key, hash, err := admin.NewAccountKey()
		if err != nil {
			return err
		}
		k := store.AccountKey{Account: account, Name: name, Hash: hash}
		if err := db.CreateAccountKey(ctx, &k); err != nil {
			return fmt.Errorf("account %s: %w", account, err)
		}
		a.record(ctx, db, audittrail.Change{Account: account, Event: audittrail.KeyCreated, Key: &k})
		if asJSON {
			return writeJSON(a.stdout, map[string]any{"id": k.ID, "name": k.Name, "key": key, "created_at": k.CreatedAt})
		}
		fmt.Fprintf(a.stderr, "key %s created; it is shown once, only its hash is stored:\n", k.ID)
		fmt.Fprintln(a.stdout, key)
		return nil
	case pos[0] == "list" && len(pos) == 2:
		list, err := db.ListAccountKeys(ctx, account)
		if err != nil {
			return err
		}
		if asJSON {
			if list == nil {
				list = []store.AccountKey{}
			}
			return writeJSON(a.stdout, list)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREVOKED")
		for _, k := range list {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case pos[0] == "revoke" && len(pos) == 3:
		list, err := db.ListAccountKeys(ctx, account)
		if err != nil {
			return err
		}
		if err := db.RevokeAccountKey(ctx, account, pos[2]); err != nil {
			return fmt.Errorf("key %s of account %s: %w", pos[2], account, err)
		}
		for i := range list {
			if list[i].ID == pos[2] {
				a.record(ctx, db, audittrail.Change{Account: account, Event: audittrail.KeyRevoked, Key: &list[i]})
			}
		}
		fmt.Fprintf(a.stdout, "revoked %s\n", pos[2])
		return nil
	}
	return usagef("usage: %s", use)
}

// setSIEM switches the SIEM feature of an account and records it.
func (a *app) setSIEM(ctx context.Context, db store.Backend, account string, on bool) error {
	acc, err := db.GetAccount(ctx, account)
	if err != nil {
		return fmt.Errorf("account %s: %w", account, err)
	}
	if err := db.SetSIEMEnabled(ctx, account, on); err != nil {
		return fmt.Errorf("account %s: %w", account, err)
	}
	if acc.SIEMEnabled != on {
		ev := audittrail.FeatureDisabled
		if on {
			ev = audittrail.FeatureEnabled
		}
		a.record(ctx, db, audittrail.Change{Account: account, Event: ev})
	}
	return nil
}

package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/sync"
)

func newIntegrationsPreviewCmd(a *app) *cobra.Command {
	var limit int
	var f syncFlags
	c := idCmd(a, "preview", "print the exact bytes the next events would be sent as; nothing is sent",
		"  siemsync integrations preview 6f1c… --limit 5",
		func(ctx context.Context, db store.Backend, id string) error {
			return integrationsPreview(ctx, a, db, id, limit, f)
		})
	c.Flags().IntVar(&limit, "limit", 10, fmt.Sprintf("preview the next N events (1-%d)", sync.MaxPreviewEvents))
	a.addSyncFlags(c.Flags(), &f)
	return c
}

// integrationsPreview writes the exact bytes the integration would send
// next to stdout (HEC lines or syslog frames), and a summary to stderr.
// Nothing is sent and no checkpoint moves.
func integrationsPreview(ctx context.Context, a *app, db store.Backend, id string, limit int, f syncFlags) error {
	in, err := db.GetIntegration(ctx, id, true)
	if err != nil {
		return fmt.Errorf("integration %s: %w", id, err)
	}
	p, err := a.newSyncer(db, f, nil, nil).Preview(ctx, in, true, limit)
	if err != nil {
		return flagError(err)
	}
	if _, err := a.stdout.Write(p.Body); err != nil {
		return err
	}
	more := ""
	if p.More {
		more = "; more are waiting"
	}
	fmt.Fprintf(a.stderr, "preview: %d events from the checkpoint%s; nothing was sent\n", p.Events, more)
	return nil
}

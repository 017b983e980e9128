package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/siemsync/siemsync/sync"
)

// integrationsPreview writes the exact bytes the integration would send
// next to stdout (HEC lines or syslog frames), and a summary to stderr.
// Nothing is sent and no checkpoint moves.
func integrationsPreview(ctx context.Context, a *app, args []string) error {
	var limit int
	var f syncFlags
	id, db, err := oneID(ctx, a, "preview", args, func(fs *flag.FlagSet) {
		fs.IntVar(&limit, "limit", 10, fmt.Sprintf("preview the next N events (1-%d)", sync.MaxPreviewEvents))
		a.addSyncFlags(fs, &f)
	})
	if err != nil {
		return err
	}
	defer db.Close()
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

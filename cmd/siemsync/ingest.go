package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/store"
)

func cmdIngest(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet("ingest", &a.g, a.env, a.stderr)
	const use = "siemsync ingest audit|jobs FILE|-"
	pos, err := a.args(fs, args, 2, use)
	if err != nil {
		return err
	}
	kind, path := pos[0], pos[1]
	var load func(context.Context, store.Ingester, io.Reader, ingest.Options) (store.IngestResult, error)
	switch kind {
	case "audit":
		load = ingest.Audit
	case "jobs":
		load = ingest.Jobs
	default:
		return usagef("usage: %s (not %q)", use, kind)
	}
	var r io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := load(ctx, db, r, ingest.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was stored)", path, err)
	}
	fmt.Fprintf(a.stdout, "%d stored (%d read, %d duplicates)\n", res.Stored, res.Lines, res.Duplicates)
	return nil
}

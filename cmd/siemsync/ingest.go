package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/store"
)

func newIngestCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ingest audit|jobs FILE|-",
		Short: "load NDJSON records into the store (all or nothing)",
		Long: `Load NDJSON records into the store: one JSON object per line, as described by
schema/audit.schema.json and schema/job.schema.json. Either every line is
stored or none is; an error names the line and the field.`,
		Example: `  siemsync ingest audit examples/audit.ndjson
  export-jobs | siemsync ingest jobs -`,
		Args:      nArgs(2),
		ValidArgs: []string{"audit", "jobs"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.ingest(cmd.Context(), cmd.UseLine(), args[0], args[1])
		},
	}
}

func (a *app) ingest(ctx context.Context, use, kind, path string) error {
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
	db, err := a.openStore(ctx, true)
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

package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/siemsync/siemsync/store"
)

// An open ingest holds the one writer connection, and reads must go on
// meanwhile: a sync cycle reads pages while a big file is being loaded.
func TestReadsDuringIngest(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := f.create(t, hecIntegration(acctA, "r"))
	f.ingestAudit(t, audit(acctA, "committed", 1))

	ing, err := f.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer ing.Rollback()
	pending := audit(acctA, "pending", 2)
	if _, err := ing.Audit(&pending); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	page, err := f.db.AuditPage(ctx, store.AuditQuery{Account: acctA, Limit: 10}, nil)
	if err != nil {
		t.Fatalf("read during ingest: %v", err)
	}
	if len(page) != 1 || page[0].ID != "committed" {
		t.Errorf("page during ingest = %v, want only the committed record", ids(page))
	}
	if _, err := f.db.GetIntegration(ctx, in.ID, false); err != nil {
		t.Errorf("GetIntegration during ingest: %v", err)
	}
	if _, err := f.db.Checkpoints(ctx, in.ID); err != nil {
		t.Errorf("Checkpoints during ingest: %v", err)
	}

	// A write waits for the ingest (one writer), and gives up with its context.
	short, cancel2 := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel2()
	if err := f.db.SetSetting(short, "k", "v"); err == nil {
		t.Error("a write went through while an ingest held the writer")
	}
	if err := ing.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetSetting(t.Context(), "k", "v"); err != nil {
		t.Errorf("write after the ingest: %v", err)
	}
}

package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Retention drops the partitions of whole days before the cutoff, deletes
// rows only in the day the cutoff falls into, counts what an integration
// had not delivered, and forgets the dropped ids (so the ids table does not
// grow forever).
func TestPruneDropsDayPartitions(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	const acct = "00000000-0000-4000-8000-0000000000aa"
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	var recs []siemsync.Audit
	for d := range 4 { // days -10 … -7, 5 records each, at 06:00 and 18:00
		for i := range 5 {
			h := 6
			if i >= 3 {
				h = 18
			}
			recs = append(recs, siemsync.Audit{ID: fmt.Sprintf("d%d-%d", d, i), Account: acct,
				Time: day.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour), Event: "e"})
		}
	}
	in := &siemsync.Integration{Account: acct, Name: "n", Kind: siemsync.KindHEC, Enabled: true,
		Sources: []string{siemsync.SourceAudit}, URL: "https://hec.example.com", CreateAccount: true}
	if err := db.CreateIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := tx.AuditBatch(recs); err != nil || n != len(recs) {
		t.Fatalf("ingest: %d, %v", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	parts := func() int {
		var n int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := parts()
	// Cut at noon of day -8: days -10 and -9 go whole, day -8 loses its
	// 06:00 records, day -7 stays.
	res, err := db.Prune(ctx, day.AddDate(0, 0, 2).Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.PruneResult{Audit: 13, Missed: 13}); res.Audit != want.Audit || res.Missed != want.Missed {
		t.Errorf("prune = %+v, want audit %d missed %d", res, want.Audit, want.Missed)
	}
	if got := parts(); got != before-2 {
		t.Errorf("%d partitions after prune, want %d (two days dropped)", got, before-2)
	}
	var ids int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_ids`).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if ids != 7 {
		t.Errorf("%d ids kept, want the 7 records' left", ids)
	}
	page, err := db.AuditPage(ctx, store.AuditQuery{Account: acct, Limit: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 7 || page[0].ID != "d2-3" {
		t.Errorf("left: %d records starting %v, want 7 from d2-3", len(page), page)
	}
	got, err := db.GetIntegration(ctx, in.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Warnings) != 1 {
		t.Errorf("warnings %q, want one retention warning", got.Status.Warnings)
	}
	// A pruned id may be ingested again, as on SQLite.
	tx, err = db.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if ok, err := tx.Audit(&siemsync.Audit{ID: "d0-0", Account: acct, Time: time.Now(), Event: "e"}); err != nil || !ok {
		t.Errorf("re-ingest of a pruned id: stored %v, %v", ok, err)
	}
}

// Records far from today share a partition per year instead of one per day.
func TestOddTimesShareYearPartitions(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	var recs []siemsync.Audit
	for i := range 50 {
		recs = append(recs, siemsync.Audit{ID: fmt.Sprint(i), Account: "00000000-0000-4000-8000-0000000000aa",
			Time: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i), Event: "e"})
	}
	tx, err := db.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if n, err := tx.AuditBatch(recs); err != nil || n != 50 {
		t.Fatalf("ingest: %d, %v", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_partitions WHERE lo_ms < $1`,
		time.Date(2003, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d partitions for 50 weeks of 2001, want 1", n)
	}
}

// One ingest transaction stores records of a day whose partition another
// connection makes after the transaction already wrote to another day.
func TestNewPartitionWithinOneIngest(t *testing.T) {
	db := open(t)
	tx, err := db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i, day := range []time.Time{time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), time.Date(2026, 2, 3, 4, 0, 0, 0, time.UTC)} {
		a := siemsync.Audit{ID: fmt.Sprint(i), Account: "00000000-0000-4000-8000-0000000000aa", Time: day, Event: "e"}
		if ok, err := tx.Audit(&a); err != nil || !ok {
			t.Fatalf("record of %s: stored %v, %v", day, ok, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
	"github.com/siemsync/siemsync/store/storetest"
)

// TestAuditPagePlan: a page of an account with a large backlog on days
// that were loaded but never analyzed reads each partition's index in seq
// order and merges them, stopping after the page; it never fetches and
// sorts the account's whole backlog.
func TestAuditPagePlan(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	recs := realisticAudit(t, 30_000)
	// Three days, so the page merges three partitions.
	for i := range recs {
		recs[i].Time = recs[i].Time.Add(-time.Duration(i%3) * 24 * time.Hour)
	}
	in, err := db.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += 256 {
		if _, err := in.AuditBatch(recs[i:min(len(recs), i+256)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	plan := explainPage(t, db.PagesPool(), recs[0].Account)
	if strings.Contains(plan, "Sort  (") || !strings.Contains(plan, "Merge Append") || !strings.Contains(plan, "Limit") {
		t.Fatalf("the page plan sorts or does not merge the partitions' indexes:\n%s", plan)
	}
	// BeginCycle reads the first page on the main pool, with the same
	// settings for its transaction only.
	integ := storetest.HECIntegration(recs[0].Account, "plan")
	integ.BackfillSince = &recs[0].Time
	if err := db.CreateIntegration(ctx, integ); err != nil {
		t.Fatal(err)
	}
	first := explainFirstPage(t, db, integ.ID)
	if strings.Contains(first, "Sort  (") || !strings.Contains(first, "Merge Append") {
		t.Fatalf("the first page plan sorts or does not merge the partitions' indexes:\n%s", first)
	}
	dst, err := db.AuditPage(ctx, store.AuditQuery{Account: recs[0].Account, Limit: 1000}, nil)
	if err != nil || len(dst) != 1000 || dst[0].Seq >= dst[999].Seq {
		t.Fatalf("page: %d records, err %v", len(dst), err)
	}
}

func explainFirstPage(t *testing.T, db *postgres.DB, integration string) string {
	t.Helper()
	tx, err := db.Pool().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context())
	for name, v := range postgres.PlanPage {
		if _, err := tx.Exec(t.Context(), `SELECT set_config($1, $2, true)`, name, v); err != nil {
			t.Fatal(err)
		}
	}
	return explain(t, tx.Query, postgres.SQLFirstAuditPage, integration, 1000)
}

func explainPage(t *testing.T, pool *pgxpool.Pool, account string) string {
	t.Helper()
	return explain(t, pool.Query, postgres.SQLAuditPage, account, 0, 1000)
}

// explain returns the plan of sql as query (a pool's or a transaction's)
// makes it.
func explain(t *testing.T, query func(context.Context, string, ...any) (pgx.Rows, error), sql string, args ...any) string {
	t.Helper()
	rows, err := query(t.Context(), "EXPLAIN "+sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

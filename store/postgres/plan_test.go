package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
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
	dst, err := db.AuditPage(ctx, store.AuditQuery{Account: recs[0].Account, Limit: 1000}, nil)
	if err != nil || len(dst) != 1000 || dst[0].Seq >= dst[999].Seq {
		t.Fatalf("page: %d records, err %v", len(dst), err)
	}
}

func explainPage(t *testing.T, pool *pgxpool.Pool, account string) string {
	t.Helper()
	rows, err := pool.Query(t.Context(), "EXPLAIN "+postgres.SQLAuditPage, account, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

package postgres_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
)

// ndjson is audit records of account ingestAcctA, one a line, with the
// given ids, a millisecond apart.
func ndjson(ids []string) []byte {
	var b bytes.Buffer
	t0 := time.Date(2026, 11, 21, 15, 4, 5, 0, time.UTC)
	for i, id := range ids {
		fmt.Fprintf(&b, `{"id":%q,"time":%q,"account":%q,"event":"e"}`+"\n",
			id, t0.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), ingestAcctA)
	}
	return b.Bytes()
}

// auditIDs reads back the ids of an account in seq order.
func auditIDs(t *testing.T, db *postgres.DB, acct string) []string {
	t.Helper()
	var got []string
	var page []siemsync.Audit
	var after int64
	for {
		var err error
		page, err = db.AuditPage(t.Context(), store.AuditQuery{Account: acct, After: after, Limit: 1000}, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return got
		}
		for _, r := range page {
			got = append(got, r.ID)
			after = r.Seq
		}
	}
}

// Ingest hands the store batches of thousands of records, whose ids
// PostgreSQL checks in one COPY. A copy of an id inside one batch, a copy
// of an id of an earlier batch, a retried input and an input half retried
// are each stored once, in input order.
func TestIngestBigBatches(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	var ids, want []string
	for i := range 3*4096 + 100 {
		id := fmt.Sprintf("id-%d", i)
		switch {
		case i == 10, i == 4095: // a copy inside the first batch
			id = "id-3"
		case i == 5000, i == 3*4096+50: // copies of the first batch's
			id = "id-20"
		default:
			want = append(want, id)
		}
		ids = append(ids, id)
	}
	res, err := ingest.Audit(ctx, db, bytes.NewReader(ndjson(ids)), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != len(want) || res.Duplicates != 4 {
		t.Errorf("first ingest: %+v, want %d stored and 4 duplicates", res, len(want))
	}
	// A retried input has nothing new.
	res, err = ingest.Audit(ctx, db, bytes.NewReader(ndjson(ids)), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 0 || res.Duplicates != len(ids) {
		t.Errorf("retried ingest: %+v, want nothing stored", res)
	}
	// Half retried: the second half of the input and as many new records.
	half := slices.Clone(ids[len(ids)/2:])
	for i := range 5000 {
		id := fmt.Sprintf("new-%d", i)
		half = append(half, id)
		want = append(want, id)
	}
	res, err = ingest.Audit(ctx, db, bytes.NewReader(ndjson(half)), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 5000 {
		t.Errorf("half retried ingest: %+v, want 5000 stored", res)
	}
	if got := auditIDs(t, db, ingestAcctA); !slices.Equal(got, want) {
		t.Errorf("%d records, want %d in input order (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
}

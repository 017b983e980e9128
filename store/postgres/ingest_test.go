package postgres_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
)

const (
	ingestAcctA = "00000000-0000-4000-8000-00000000000a"
	ingestAcctB = "00000000-0000-4000-8000-00000000000b"
)

// Ingest keeps fresh records pending and copies them a block at a time, so
// one ingest spans several flushes. The count AuditBatch returns must be
// exact at once, duplicates must be caught whether their first copy is
// pending, flushed in this ingest or committed before, and the records of
// an account must come back in input order.
func TestIngestCountsAndOrderAcrossFlushes(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	rec := func(acct string, id int) siemsync.Audit {
		return siemsync.Audit{ID: fmt.Sprintf("id-%d", id), Account: acct, Time: now.Add(time.Duration(id) * time.Millisecond), Event: "e"}
	}
	// Committed before: ids 0..99 of account A.
	var before []siemsync.Audit
	for i := range 100 {
		before = append(before, rec(ingestAcctA, i))
	}
	if n := ingestBatches(t, db, before); !slices.Equal(n, []int{100}) {
		t.Fatalf("first ingest stored %v, want [100]", n)
	}

	const batches, size = 12, 1000 // 12,000 records: several blocks of 4096
	var all [][]siemsync.Audit
	var want []int
	wantIDs := map[string][]string{}
	next := 1000
	for b := range batches {
		var recs []siemsync.Audit
		fresh := 0
		for i := range size {
			acct := ingestAcctA
			if i%3 == 0 {
				acct = ingestAcctB
			}
			switch {
			case i < 5: // committed by the first ingest (account A) or new (B)
				r := rec(acct, i)
				recs = append(recs, r)
				if acct == ingestAcctB && b == 0 {
					fresh++
					wantIDs[acct] = append(wantIDs[acct], r.ID)
				}
			case i < 10 && b > 0: // the previous batch's, likely still pending
				recs = append(recs, all[b-1][size-1-i+5])
			case i < 15 && b > 4: // the first batch's, flushed by now
				recs = append(recs, all[0][500+i])
			default:
				r := rec(acct, next)
				next++
				recs = append(recs, r)
				fresh++
				wantIDs[acct] = append(wantIDs[acct], r.ID)
			}
		}
		recs = append(recs, recs[len(recs)-1]) // a copy within the batch
		all = append(all, recs)
		want = append(want, fresh)
	}
	if got := ingestBatches(t, db, all...); !slices.Equal(got, want) {
		t.Errorf("stored per batch %v, want %v", got, want)
	}
	for _, acct := range []string{ingestAcctA, ingestAcctB} {
		var got []string
		var page []siemsync.Audit
		var after int64
		for {
			var err error
			page, err = db.AuditPage(ctx, store.AuditQuery{Account: acct, After: after, Limit: 1000}, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got = append(got, r.ID)
				after = r.Seq
			}
		}
		w := wantIDs[acct]
		if acct == ingestAcctA {
			w = append(ids(before), w...)
		}
		if !slices.Equal(got, w) {
			t.Errorf("account %s: %d records, want %d in input order (first difference at %d)", acct, len(got), len(w), firstDiff(got, w))
		}
	}
	var rows, keys int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit), (SELECT count(*) FROM audit_ids)`).Scan(&rows, &keys); err != nil {
		t.Fatal(err)
	}
	if total := 100 + sum(want); rows != total || keys != total {
		t.Errorf("%d records and %d ids stored, want %d", rows, keys, total)
	}
}

// A rolled-back ingest stores nothing, also of the blocks it had flushed;
// a field PostgreSQL cannot store is refused by name.
func TestIngestRollbackAfterFlushAndNUL(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	in, err := db.BeginIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var recs []siemsync.Audit
	for i := range 9000 {
		recs = append(recs, siemsync.Audit{ID: fmt.Sprint(i), Account: ingestAcctA, Time: time.Now(), Event: "e"})
	}
	if n, err := in.AuditBatch(recs); err != nil || n != len(recs) {
		t.Fatalf("AuditBatch = %d, %v", n, err)
	}
	bad := siemsync.Audit{ID: "nul", Account: ingestAcctA, Time: time.Now(), User: "a\x00b", Event: "e"}
	_, err = in.AuditBatch([]siemsync.Audit{bad})
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) || fe.Field != "user" {
		t.Errorf("NUL in user: %v, want a field error naming user", err)
	}
	if err := in.Rollback(); err != nil {
		t.Fatal(err)
	}
	var rows, keys int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit), (SELECT count(*) FROM audit_ids)`).Scan(&rows, &keys); err != nil {
		t.Fatal(err)
	}
	if rows != 0 || keys != 0 {
		t.Errorf("after rollback %d records and %d ids stored", rows, keys)
	}
}

// ingestBatches stores each of batches with AuditBatch in one ingest and
// returns what each call reported stored.
func ingestBatches(t *testing.T, db *postgres.DB, batches ...[]siemsync.Audit) []int {
	t.Helper()
	in, err := db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Rollback()
	var stored []int
	for _, b := range batches {
		n, err := in.AuditBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, n)
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	return stored
}

func ids(recs []siemsync.Audit) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func sum(ns []int) int {
	t := 0
	for _, n := range ns {
		t += n
	}
	return t
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Ingest copies a batch's ids before asking whether they are taken and
// asks only when the primary key refuses one; after a batch with
// duplicates it asks first until a batch has none. Whichever way a batch
// goes, the counts are exact and every record is stored once.
func TestIngestGuessesAndFallsBack(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	rec := func(id string) siemsync.Audit {
		return siemsync.Audit{ID: id, Account: ingestAcctA, Time: now, Event: "e"}
	}
	batch := func(ids ...string) []siemsync.Audit {
		var recs []siemsync.Audit
		for _, id := range ids {
			recs = append(recs, rec(id))
		}
		return recs
	}
	if n := ingestBatches(t, db, batch("c1", "c2")); !slices.Equal(n, []int{2}) {
		t.Fatalf("first ingest stored %v", n)
	}
	batches := [][]siemsync.Audit{
		batch("a1", "a2", "a3"),       // fresh: guessed right
		batch("a4", "c1", "a5"),       // one committed before: refused, asked
		batch("a6", "a7"),             // fresh, asked first, then guessing again
		batch("a8", "a8", "a9"),       // a copy within the batch while guessing
		batch("a10", "a2", "a11"),     // one stored earlier in this ingest
		batch("a2", "a3", "c2", "a9"), // duplicates only
		batch("a12"),                  // fresh after duplicates only
		batch("a13", "a12", "a13"),    // the previous batch's, and a copy
	}
	want := []int{3, 2, 2, 2, 2, 0, 1, 1}
	if got := ingestBatches(t, db, batches...); !slices.Equal(got, want) {
		t.Errorf("stored per batch %v, want %v", got, want)
	}
	page, err := db.AuditPage(ctx, store.AuditQuery{Account: ingestAcctA, Limit: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{"c1", "c2", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12", "a13"}
	if got := ids(page); !slices.Equal(got, wantIDs) {
		t.Errorf("stored %v, want %v", got, wantIDs)
	}
	var keys int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_ids`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != len(wantIDs) {
		t.Errorf("%d ids stored, want %d", keys, len(wantIDs))
	}
}

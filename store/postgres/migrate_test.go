package postgres_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/pgtest"
	pgmigrations "github.com/siemsync/siemsync/migrations/postgres"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/postgres"
)

// Workers that start at the same moment on a fresh database apply each
// migration once: the others wait on the advisory lock, then find nothing
// to do. A migration that is not idempotent (CREATE TABLE) would fail a
// second application.
func TestMigrationsAppliedOnceByConcurrentStarts(t *testing.T) {
	dsn := pgtest.DSN(t)
	const workers = 8
	start := make(chan struct{})
	errs := make(chan error, workers)
	for range workers {
		go func() {
			<-start
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{Cipher: testCipher(t)})
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	close(start)
	for range workers {
		if err := <-errs; err != nil {
			t.Errorf("open: %v", err)
		}
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ V, N int }])
	if err != nil {
		t.Fatal(err)
	}
	entries, err := pgmigrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var sqlFiles int
	for _, e := range entries {
		if len(e.Name()) > 4 && e.Name()[len(e.Name())-4:] == ".sql" {
			sqlFiles++
		}
	}
	if len(counts) != sqlFiles {
		t.Errorf("%d versions recorded, want %d (one per file)", len(counts), sqlFiles)
	}
	for i, c := range counts {
		if c.V != i+1 || c.N != 1 {
			t.Errorf("version %d recorded %d times (row %d)", c.V, c.N, i)
		}
	}
}

// A database ahead of this program is refused, not silently used.
func TestMigrationsRefuseNewerDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	openDSN(t, dsn)
	migs := fstest.MapFS{}
	_, err := postgres.Open(t.Context(), dsn, postgres.Options{Migrations: migs})
	if err == nil {
		t.Fatal("open with fewer migrations than applied succeeded")
	}
}

// Migration 0005 packs the records a database already holds: they read
// back field for field, their ids still count as taken, and retention
// still forgets them.
func TestMigrationPacksStoredAudit(t *testing.T) {
	dsn := pgtest.DSN(t)
	old := fstest.MapFS{}
	entries, err := fs.ReadDir(pgmigrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() >= "0005" { // the files before the packed audit
			continue
		}
		b, err := fs.ReadFile(pgmigrations.FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		old[e.Name()] = &fstest.MapFile{Data: b}
	}
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{Cipher: testCipher(t), Migrations: old})
	if err != nil {
		t.Fatal(err)
	}
	const acct = "00000000-0000-4000-8000-0000000000cc"
	day := time.Now().UTC().Truncate(24 * time.Hour)
	want := []siemsync.Audit{
		{ID: "r1", Connector: "c", ACL: "a", Method: "m", User: "üser", IP: "10.0.0.1", Event: "e1",
			Metadata: json.RawMessage(`{"k":"日本"}`), Time: day.Add(time.Hour)},
		{ID: "r2", Event: "e2", Time: day.Add(2 * time.Hour)},
	}
	for i, a := range want {
		var meta *string
		if a.Metadata != nil {
			s := string(a.Metadata)
			meta = &s
		}
		_, err := db.Pool().Exec(t.Context(), `WITH a AS (INSERT INTO accounts (id, created_at) VALUES ($1, 0)
				ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING num),
			i AS (INSERT INTO audit_ids (account_num, id) SELECT num, $3 FROM a)
			INSERT INTO audit (seq, account_num, id, time_ms, connector, acl, method, user_name, ip, metadata, event, ingested_at)
			SELECT $2, num, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0 FROM a`,
			acct, int64(i+1), a.ID, a.Time.UnixMilli(), a.Connector, a.ACL, a.Method, a.User, a.IP, meta, a.Event)
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	db = openDSN(t, dsn)
	got, err := db.AuditPage(t.Context(), store.AuditQuery{Account: acct, Limit: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].Seq, want[i].Account = int64(i+1), acct
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records after the migration, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.ID != w.ID || !g.Time.Equal(w.Time) || g.Account != w.Account || g.Connector != w.Connector ||
			g.ACL != w.ACL || g.Method != w.Method || g.User != w.User || g.IP != w.IP || g.Event != w.Event ||
			(g.Metadata == nil) != (w.Metadata == nil) || string(g.Metadata) != string(w.Metadata) {
			t.Errorf("record %d after the migration\n got %+v\nwant %+v", i, g, w)
		}
	}
	var id string
	if err := db.Pool().QueryRow(t.Context(), `SELECT siemsync_audit_id(rec) FROM audit WHERE seq = 1`).Scan(&id); err != nil || id != "r1" {
		t.Errorf("siemsync_audit_id = %q, %v", id, err)
	}
	tx, err := db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	n, err := tx.AuditBatch([]siemsync.Audit{{ID: "r1", Account: acct, Time: day, Event: "again"}, {ID: "r3", Account: acct, Time: day, Event: "e3"}})
	if err != nil || n != 1 {
		t.Errorf("ingest of a migrated id and a new one stored %d, %v; want 1", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	res, err := db.Prune(t.Context(), day.Add(24*time.Hour))
	if err != nil || res.Audit != 3 {
		t.Fatalf("prune = %+v, %v; want 3 audit records", res, err)
	}
	var keys int
	if err := db.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_ids`).Scan(&keys); err != nil || keys != 0 {
		t.Errorf("%d ids left after pruning every record (%v)", keys, err)
	}
}

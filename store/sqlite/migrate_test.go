package sqlite_test

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/migrations"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

func sqlFile(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestEmbeddedMigrationsNumbered(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded migrations: %v", err)
	}
	for i, name := range names { // Glob sorts
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil || v != i+1 {
			t.Errorf("migration %s: want version %d", name, i+1)
		}
	}
	f := setup(t)
	v, err := f.db.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != len(names) {
		t.Errorf("SchemaVersion = %d, want %d", v, len(names))
	}
	// Opening again applies nothing and changes nothing.
	f.db.Close()
	db, err := sqlite.Open(t.Context(), f.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v2, _ := db.SchemaVersion(t.Context()); v2 != v {
		t.Errorf("SchemaVersion after reopen = %d, want %d", v2, v)
	}
}

func TestMigrateRefuses(t *testing.T) {
	t.Parallel()
	ok1 := sqlFile("CREATE TABLE a (x);")
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"gap", fstest.MapFS{"0001_a.sql": ok1, "0003_c.sql": sqlFile("CREATE TABLE c (x);")}, "version 2 is missing before 0003_c.sql"},
		{"duplicate", fstest.MapFS{"0001_a.sql": ok1, "0001_b.sql": sqlFile("CREATE TABLE b (x);")}, "have the same version 1"},
		{"bad name", fstest.MapFS{"0001_a.sql": ok1, "init.sql": sqlFile("")}, "must start with a version number"},
		{"zero", fstest.MapFS{"0000_a.sql": ok1}, "must start with a version number"},
		{"broken SQL", fstest.MapFS{"0001_a.sql": ok1, "0002_b.sql": sqlFile("CREATE TABLE b (x); CREATE TABLE (;")}, "apply migration 0002_b.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{Migrations: tt.fs})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMigrateBrokenLeavesVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	good := fstest.MapFS{"0001_a.sql": sqlFile("CREATE TABLE a (x);")}
	open := func(fsys fstest.MapFS) (int, error) {
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{Migrations: fsys})
		if err != nil {
			return 0, err
		}
		defer db.Close()
		return db.SchemaVersion(t.Context())
	}
	if v, err := open(good); err != nil || v != 1 {
		t.Fatalf("first open: version %d, %v", v, err)
	}
	broken := fstest.MapFS{"0001_a.sql": good["0001_a.sql"], "0002_b.sql": sqlFile("CREATE TABLE b (x); INSERT INTO nope VALUES (1);")}
	if _, err := open(broken); err == nil {
		t.Fatal("broken migration applied")
	}
	if v, err := open(good); err != nil || v != 1 {
		t.Fatalf("after broken migration: version %d, %v; want 1", v, err)
	}
	// Table b of the failed file was rolled back: a fixed 0002 creates it.
	fixed := fstest.MapFS{"0001_a.sql": good["0001_a.sql"], "0002_b.sql": sqlFile("CREATE TABLE b (x);")}
	if v, err := open(fixed); err != nil || v != 2 {
		t.Fatalf("fixed migration: version %d, %v; want 2", v, err)
	}
	// A database newer than the binary, or with a renamed file, is refused.
	if _, err := open(good); err == nil || !strings.Contains(err.Error(), "run a newer siemsync") {
		t.Errorf("older migration set: %v", err)
	}
	renamed := fstest.MapFS{"0001_a.sql": good["0001_a.sql"], "0002_renamed.sql": fixed["0002_b.sql"]}
	if _, err := open(renamed); err == nil || !strings.Contains(err.Error(), "never rename") {
		t.Errorf("renamed migration: %v", err)
	}
}

// Migration 0003 repacks stored audit records: every field, every seq and
// the AUTOINCREMENT high-water mark (retention may have deleted the newest
// records) survive, and the ids still dedupe.
func TestMigratePackedAudit(t *testing.T) {
	t.Parallel()
	path, raw := openAtVersion(t, 2)
	_, err := raw.Exec(`INSERT INTO accounts (num, id, created_at) VALUES (1, ?, 0);
		INSERT INTO audit (seq, account_num, id, time_ms, connector, acl, method, user_name, ip, metadata, event, ingested_at) VALUES
			(1, 1, 'a', 1000, 'c1', 'admin', 'POST', 'alice', '1.2.3.4', '{"n":1}', 'login', 5),
			(2, 1, 'b', 2000, '', '', '', '', '', NULL, 'logout', 5),
			(3, 1, 'c', 3000, 'c3', '', 'GET', 'bob', '::1', '{"n":"é"}', 'read', 5),
			(9, 1, 'd', 4000, '', '', '', '', '', NULL, 'gone', 5);
		DELETE FROM audit WHERE seq = 9;`, acctA)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.AuditPage(t.Context(), store.AuditQuery{Account: acctA, Limit: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range page {
		got = append(got, fmt.Sprintf("%d %s %d %s %s %s %s %s %s %s", a.Seq, a.ID, a.Time.UnixMilli(), a.Connector, a.ACL, a.Method, a.User, a.IP, a.Metadata, a.Event))
	}
	want := []string{
		`1 a 1000 c1 admin POST alice 1.2.3.4 {"n":1} login`,
		`2 b 2000       logout`,
		`3 c 3000 c3  GET bob ::1 {"n":"é"} read`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records after the migration:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	in, err := db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Rollback()
	dup := siemsync.Audit{ID: "b", Account: acctA, Time: time.UnixMilli(2000), Event: "logout"}
	if ok, err := in.Audit(&dup); err != nil || ok {
		t.Errorf("re-ingest of a migrated id: stored %v, %v", ok, err)
	}
	fresh := siemsync.Audit{ID: "e", Account: acctA, Time: time.UnixMilli(5000), Event: "new"}
	if ok, err := in.Audit(&fresh); err != nil || !ok || fresh.Seq <= 9 {
		t.Errorf("new record: stored %v seq %d (%v), want above 9: seqs freed by retention are never reused", ok, fresh.Seq, err)
	}
}

// openAtVersion creates a database with the first n embedded migrations
// and returns its path and a plain connection to it, for a test to store
// what an older siemsync would have.
func openAtVersion(t *testing.T, n int) (string, *sql.DB) {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) < n {
		t.Fatalf("want %d migrations, have %v (%v)", n, names, err)
	}
	old := fstest.MapFS{}
	for _, name := range names[:n] {
		b, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = sqlFile(string(b))
	}
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Migrations: old})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return path, raw
}

// TestMigrateCanonicalAccounts: an integration created before the fix
// with an upper-case account id (a second, empty account) moves to the
// lower-case account ingest stores records under, starting where that
// account's logs stood when the integration was created.
func TestMigrateCanonicalAccounts(t *testing.T) {
	t.Parallel()
	path, raw := openAtVersion(t, 8) // before 0009_canonical_accounts
	upper := strings.ToUpper(acctA)
	_, err := raw.Exec(`INSERT INTO accounts (num, id, name, host, created_at) VALUES (1, ?1, '', 'eu-1', 0), (2, ?2, 'Acme', 'us-1', 50);
		INSERT INTO jobs (seq, job, account_num, status, active, changed_at) VALUES
			(5, 'j-before', 1, 'successful', 0, 100), (7, 'j-after', 1, 'successful', 0, 300);
		INSERT INTO integrations (id, account, name, kind, enabled, sources, created_at, updated_at)
			VALUES ('i1', ?2, 'splunk', 'splunk_hec', 1, 'audit,jobs', 200, 200);
		INSERT INTO checkpoints (integration, source, seq, updated_at) VALUES ('i1', 'audit', 0, 200), ('i1', 'jobs', 0, 200);`,
		acctA, upper)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accts, err := db.ListAccounts(t.Context())
	if err != nil || len(accts) != 1 || accts[0].ID != acctA || accts[0].Name != "Acme" || accts[0].Host != "eu-1" {
		t.Errorf("accounts = %+v, %v; want one, %s, named Acme, host eu-1", accts, err, acctA)
	}
	in, err := db.GetIntegration(t.Context(), "i1", false)
	if err != nil || in.Account != acctA {
		t.Fatalf("integration = %+v, %v", in, err)
	}
	cp, err := db.Checkpoints(t.Context(), "i1")
	if err != nil || cp.Jobs != 5 {
		t.Errorf("checkpoints = %+v, %v; want jobs at 5, the last change before the integration was created", cp, err)
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string // file name, e.g. 0001_init.sql
	sql     string
}

// readMigrations lists the *.sql files of fsys, ordered by version. Their
// names start with the version number (0001_init.sql); two files with one
// number, or a missing number, are refused so a bad merge cannot silently
// skip or reorder schema changes.
func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, name := range names {
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("read migration %s: name must start with a version number and an underscore, like 0002_add_index.sql", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: path.Base(name), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if i > 0 && ms[i-1].version == m.version {
			return nil, fmt.Errorf("read migrations: %s and %s have the same version %d: renumber one", ms[i-1].name, m.name, m.version)
		}
		if m.version != i+1 {
			return nil, fmt.Errorf("read migrations: version %d is missing before %s: migrations must be numbered 1, 2, 3… without gaps", i+1, m.name)
		}
	}
	return ms, nil
}

// migrate applies the pending migrations of fsys, each file together with
// its schema_migrations row in one transaction: a failing file leaves the
// schema as it was before that file.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := readMigrations(fsys)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := appliedMigrations(ctx, db)
	if err != nil {
		return err
	}
	if n := len(applied); n > len(ms) {
		return fmt.Errorf("check schema: the database is at version %d but this siemsync knows only up to %d: run a newer siemsync", n, len(ms))
	}
	for i, name := range applied {
		if name != ms[i].name {
			return fmt.Errorf("check schema: version %d was applied as %s but the file is now %s: never rename or renumber an applied migration", i+1, name, ms[i].name)
		}
	}
	for _, m := range ms[len(applied):] {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

// appliedMigrations returns the names of applied migrations by version - 1.
func appliedMigrations(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		if v != len(names)+1 {
			return nil, fmt.Errorf("check schema: schema_migrations skips from %d to %d", len(names), v)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return names, nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %s: %w", m.name, err)
	}
	return nil
}

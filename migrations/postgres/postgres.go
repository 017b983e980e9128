// Package postgres holds the numbered SQL files that build the schema of
// the PostgreSQL backend (store/postgres). Like the SQLite files beside it
// they are append-only: never edit a released file, add the next number.
package postgres

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS

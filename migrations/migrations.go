// Package migrations holds the numbered SQL files that build the store's
// schema. store applies them in order, each in its own transaction, and
// records every applied version in schema_migrations.
//
// Files are named NNNN_what.sql. Never edit a file that has been released:
// add the next number instead.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS

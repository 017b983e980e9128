package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// File is one numbered migration.
type File struct {
	Version int
	Name    string // file name, e.g. 0001_init.sql
	SQL     string
}

// Read lists the *.sql files of fsys, ordered by version. Their names
// start with the version number (0001_init.sql); two files with one number,
// or a missing number, are refused so a bad merge cannot silently skip or
// reorder schema changes. Both backends read their files with it.
func Read(fsys fs.FS) ([]File, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []File
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
		ms = append(ms, File{Version: v, Name: path.Base(name), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b File) int { return a.Version - b.Version })
	for i, m := range ms {
		if i > 0 && ms[i-1].Version == m.Version {
			return nil, fmt.Errorf("read migrations: %s and %s have the same version %d: renumber one", ms[i-1].Name, m.Name, m.Version)
		}
		if m.Version != i+1 {
			return nil, fmt.Errorf("read migrations: version %d is missing before %s: migrations must be numbered 1, 2, 3… without gaps", i+1, m.Name)
		}
	}
	return ms, nil
}

// Check compares the names of the applied migrations (by version - 1) with
// the files: a database ahead of this program, or an applied file renamed
// or renumbered, is an error. It returns the files still to apply.
func Check(files []File, applied []string) ([]File, error) {
	if n := len(applied); n > len(files) {
		return nil, fmt.Errorf("check schema: the database is at version %d but this siemsync knows only up to %d: run a newer siemsync", n, len(files))
	}
	for i, name := range applied {
		if name != files[i].Name {
			return nil, fmt.Errorf("check schema: version %d was applied as %s but the file is now %s: never rename or renumber an applied migration", i+1, name, files[i].Name)
		}
	}
	return files[len(applied):], nil
}

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkStorePath looks at the --db path before anything is created there:
// a missing database is an error unless create is true, and the directory
// must exist and be writable (SQLite writes -wal and -shm files beside the
// database, and the key file is created there).
func checkStorePath(path string, create bool) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("database path %q: %w", path, err)
	}
	where := abs
	if !filepath.IsAbs(path) {
		where = fmt.Sprintf("%s (--db %s, relative to the current directory)", abs, path)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return fmt.Errorf("no database at %s: give the path of the existing database with --db or SIEMSYNC_DB, or add --create to start a new, empty one", where)
		}
		dir := filepath.Dir(abs)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("cannot create the database %s: the directory %s does not exist: create it first, or fix --db", abs, dir)
		}
	case err != nil:
		return fmt.Errorf("database %s: %w", where, explainFS(abs, err))
	case st.IsDir():
		return fmt.Errorf("database %s is a directory: --db names the database file, e.g. %s", where, filepath.Join(abs, "siemsync.db"))
	}
	if err := writableDir(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("database %s: %w", abs, explainFS(abs, err))
	}
	return nil
}

// explainFS adds what to do to the file-system errors an operator meets when
// the database is opened: a read-only file system, a full disk, a directory
// the process may not write.
func explainFS(dbPath string, err error) error {
	dir := filepath.Dir(dbPath)
	if abs, aerr := filepath.Abs(dir); aerr == nil {
		dir = abs
	}
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w: the file system holding %s is read-only (siemsync writes the database, its -wal and -shm files and the key file there): remount it read-write, or give a --db on a writable volume", err, dir)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: the disk holding %s is full: free space there (or move the database to a larger volume) and start again", err, dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: the user siemsync runs as (uid %d) may not write %s: give it the directory, or run siemsync as its owner", err, os.Getuid(), dir)
	}
	return err
}

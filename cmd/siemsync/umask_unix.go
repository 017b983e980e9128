//go:build unix

package main

import "syscall"

// privateUmask makes every file siemsync creates (database, WAL, key file,
// spooled uploads) readable by its owner alone: they hold every tenant's
// data and the secrets that protect it.
func privateUmask() { syscall.Umask(0o077) }

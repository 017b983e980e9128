package main

import "runtime/debug"

// defaultGCPercent is the collector's growth target when GOGC is not set.
//
// A syncing process's heap is mostly a few large batch buffers (up to three
// per running cycle) that hold no pointers, so the collector does not scan
// them and a collection costs little whatever their size. Collecting when
// the heap has grown by half rather than doubled keeps the resident set
// about 10 MiB smaller while a backlog drains, for well under 5 % more CPU
// (README, "Performance").
const defaultGCPercent = 50

// tuneGC applies defaultGCPercent unless the operator set GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

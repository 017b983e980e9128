// Package version says which siemsync is running: the version stamped at
// build time, or else what the Go toolchain recorded in the binary.
package version

import (
	"runtime/debug"
	"sync"
)

// stamped is set by a release build:
//
//	go build -ldflags "-X github.com/siemsync/siemsync/internal/version.stamped=v1.2.3" ./cmd/siemsync
var stamped string

// String returns the stamped version; else the module version that
// `go install …@version` records; else "devel" with the VCS revision (and
// "+dirty" for uncommitted changes) that `go build` in a checkout records.
// It is computed once: reading the build info parses it anew each time,
// and every HEC sink (one per cycle) asks.
var String = sync.OnceValue(func() string {
	if stamped != "" {
		return stamped
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
})

func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev[:min(12, len(rev))] + dirty
}

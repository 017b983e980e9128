package siemsync

import (
	"runtime/debug"
	"strings"
)

// Version is siemsync's version: the module version of a released build,
// "devel" for a build from a work tree.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/siemsync/siemsync" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return strings.TrimPrefix(v, "v")
		}
	}
	return "devel"
}

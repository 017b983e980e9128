package siemsync

import (
	"strings"

	"github.com/siemsync/siemsync/internal/version"
)

// Version is siemsync's version without the "v": the version stamped into a
// release build (internal/version), else the module version of a `go
// install`, else "devel" for a build from a work tree.
func Version() string {
	v := version.String()
	if strings.HasPrefix(v, "devel") {
		return "devel"
	}
	return strings.TrimPrefix(v, "v")
}

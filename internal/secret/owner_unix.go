//go:build unix

package secret

import (
	"io/fs"
	"os"
	"syscall"
)

// foreignOwner returns the uid owning fi when that is not the user this
// process runs as.
func foreignOwner(fi fs.FileInfo) (uid int, foreign bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), int(st.Uid) != os.Geteuid()
}

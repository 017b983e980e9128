package admin

import (
	"errors"
	"time"

	"github.com/siemsync/siemsync"
)

// warnings merges the store's status warnings (e.g. retention misses) with
// the configuration's own (skip-verify, clear text, certificate expiry),
// without duplicates.
func warnings(in *siemsync.Integration, now time.Time) []string {
	var out []string
	seen := map[string]bool{}
	for _, ws := range [][]string{in.Status.Warnings, in.ConfigWarnings(now)} {
		for _, w := range ws {
			if w != "" && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

func errIsNotFound(err error) bool { return errors.Is(err, siemsync.ErrNotFound) }

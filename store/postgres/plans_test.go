package postgres_test

import (
	"strings"
	"testing"

	"github.com/siemsync/siemsync/internal/pgtest"
)

// TestGenericPlans: siemsync's connections reuse generic plans unless the
// URL chooses another plan_cache_mode.
func TestGenericPlans(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for _, tt := range []struct{ dsn, want string }{
		{dsn, "force_generic_plan"},
		{dsn + sep + "plan_cache_mode=auto", "auto"},
	} {
		db := openDSN(t, tt.dsn)
		var got string
		if err := db.Pool().QueryRow(t.Context(), "SHOW plan_cache_mode").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("plan_cache_mode of %s = %q, want %q", tt.dsn[strings.Index(tt.dsn, "?")+1:], got, tt.want)
		}
	}
}

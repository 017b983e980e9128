//go:build unix

package secret_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siemsync/siemsync/internal/secret"
)

// TestLoadKeyFileOtherOwner: a key file another user owns (planted in a
// shared directory before the first start) is refused with what to do.
// As root the test gives a key file to another user; otherwise the key
// file is a link to a file root owns.
func TestLoadKeyFileOtherOwner(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "x.db")
	if os.Geteuid() == 0 {
		if err := os.WriteFile(db+".key", []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(db+".key", 65534, 65534); err != nil {
			t.Fatal(err)
		}
	} else if err := os.Symlink("/", db+".key"); err != nil { // "/" belongs to root
		t.Fatal(err)
	}
	_, err := secret.Load(db, "")
	if err == nil || !strings.Contains(err.Error(), db+".key belongs to user") || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("Load = %v, want the key file refused for its owner", err)
	}
}

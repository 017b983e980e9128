package secret_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siemsync/siemsync/internal/secret"
)

func newCipher(t *testing.T, fill byte) *secret.Cipher {
	t.Helper()
	c, err := secret.New(bytes.Repeat([]byte{fill}, secret.KeySize), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	c := newCipher(t, 1)
	for _, pt := range []string{"", "hec-token-1234", strings.Repeat("k", 5000)} {
		sealed, err := c.Seal([]byte(pt))
		if err != nil {
			t.Fatal(err)
		}
		if pt != "" && bytes.Contains(sealed, []byte(pt)) {
			t.Fatalf("sealed value contains the plaintext")
		}
		got, err := c.Open(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != pt {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
	}
	a, _ := c.Seal([]byte("same"))
	b, _ := c.Seal([]byte("same"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal: nonce not random")
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	c := newCipher(t, 1)
	sealed, err := c.Seal([]byte("secret token"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name    string
		c       *secret.Cipher
		in      []byte
		wrong   bool
		wantMsg string
	}{
		{"wrong key", newCipher(t, 2), sealed, true, "key from test"},
		{"tampered ciphertext", c, flip(len(sealed) - 20), true, ""},
		{"tampered tag", c, flip(len(sealed) - 1), true, ""},
		{"tampered nonce", c, flip(3), true, ""},
		{"unknown version", c, flip(0), false, "unknown format version"},
		{"truncated", c, sealed[:10], false, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.c.Open(tt.in)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if errors.Is(err, secret.ErrWrongKey) != tt.wrong {
				t.Errorf("errors.Is(ErrWrongKey) = %v, want %v: %v", !tt.wrong, tt.wrong, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestLoadEnv(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name, env string
		wantErr   bool
	}{
		{"base64", base64.StdEncoding.EncodeToString(raw), false},
		{"base64 raw url", base64.RawURLEncoding.EncodeToString(raw), false},
		{"hex", hex.EncodeToString(raw), false},
		{"passphrase", "correct horse battery staple", false},
		{"short passphrase", "too short", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c, err := secret.Load(filepath.Join(dir, "x.db"), tt.env)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "at least 16 characters") {
					t.Fatalf("Load = %v, want a too-short error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "x.db.key")); !os.IsNotExist(err) {
				t.Errorf("key file created although the key came from the environment")
			}
			// The same env value gives the same key.
			c2, _ := secret.Load("", tt.env)
			sealed, _ := c.Seal([]byte("v"))
			if _, err := c2.Open(sealed); err != nil {
				t.Errorf("second Load gave another key: %v", err)
			}
		})
	}
	// Encoded forms of one key are the same key.
	a, _ := secret.Load("", base64.StdEncoding.EncodeToString(raw))
	b, _ := secret.Load("", hex.EncodeToString(raw))
	sealed, _ := a.Seal([]byte("v"))
	if _, err := b.Open(sealed); err != nil {
		t.Errorf("hex and base64 of one key differ: %v", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "siemsync.db")
	c1, err := secret.Load(db, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	sealed, _ := c1.Seal([]byte("token"))
	c2, err := secret.Load(db, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.Open(sealed); err != nil || string(got) != "token" {
		t.Fatalf("reloaded key does not open: %q, %v", got, err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	if len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

func TestLoadKeyFileRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"group readable", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o640, "chmod 600"},
		{"world readable", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o604, "chmod 600"},
		{"not a key", "hello", 0o600, "does not hold a base64 32-byte key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "x.db")
			if err := os.WriteFile(db+".key", []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(db+".key", tt.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			_, err := secret.Load(db, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), db+".key") {
				t.Fatalf("Load = %v, want an error naming the file and %q", err, tt.want)
			}
		})
	}
}

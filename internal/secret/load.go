package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// EnvVar is the environment variable that holds the key.
const EnvVar = "SIEMSYNC_SECRET_KEY"

// MinPassphrase is the shortest passphrase accepted in SIEMSYNC_SECRET_KEY.
const MinPassphrase = 16

// Load returns the Cipher for the database at dbPath. env is the value of
// SIEMSYNC_SECRET_KEY ("" when unset) and takes precedence; it may be
//
//   - 32 bytes encoded as base64 (standard or URL alphabet, padded or not),
//   - 32 bytes encoded as 64 hex digits, or
//   - any other passphrase of at least 16 characters, whose SHA-256 digest
//     becomes the key (a passphrase is only as strong as it is long and
//     random: prefer `openssl rand -base64 32`).
//
// Without env, the key lives in the file dbPath+".key", created with mode
// 0600 on first use and holding 32 random bytes in base64. A key file that
// its group or others can read is refused, because anyone who can read it
// can read every stored token, and so is one that another user owns.
func Load(dbPath, env string) (*Cipher, error) {
	if env != "" {
		key, err := parseEnvKey(env)
		if err != nil {
			return nil, err
		}
		return New(key, EnvVar)
	}
	if dbPath == "" {
		return nil, errors.New("load secret key: no database path to put the key file beside: set " + EnvVar)
	}
	path := dbPath + ".key"
	key, err := loadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(path)
	}
	if err != nil {
		return nil, err
	}
	return New(key, "key file "+path)
}

// parseEnvKey decodes an encoded 32-byte key or derives one from a passphrase.
func parseEnvKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if len(v) == 2*KeySize {
		if b, err := hex.DecodeString(v); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	if len(v) < MinPassphrase {
		return nil, fmt.Errorf("load secret key: %s is too short: give 32 random bytes as base64 (openssl rand -base64 32) or hex, or a passphrase of at least %d characters", EnvVar, MinPassphrase)
	}
	sum := sha256.Sum256([]byte(v))
	return sum[:], nil
}

func loadKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err // fs.ErrNotExist means: create it
	}
	// A key file someone else planted (in a shared directory, before the
	// first start) would let them decrypt every token sealed with it.
	if uid, foreign := foreignOwner(fi); foreign {
		return nil, fmt.Errorf("load secret key: key file %s belongs to user %d, not to the user siemsync runs as (%d): "+
			"whoever owns it can decrypt the stored tokens. If you did not create it, delete it (siemsync makes a new one; "+
			"then enter the integrations' tokens again); if it is yours, chown it to this user", path, uid, os.Geteuid())
	}
	// Windows has no Unix permission bits to check.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("load secret key: key file %s has mode %04o and can be read by other users: run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load secret key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("load secret key: key file %s does not hold a base64 32-byte key: restore it from backup (without it, stored tokens cannot be decrypted)", path)
	}
	return key, nil
}

// createKeyFile writes a new random key. It writes a temporary file first and
// hard-links it into place, so a reader never sees a half-written key and two
// processes starting at once end up agreeing on one key.
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeKey(tmp, key); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadKeyFile(path) // another process won the race
		}
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	return key, nil
}

func writeKey(f *os.File, key []byte) error {
	// CreateTemp already uses 0600; Chmod documents the intent and guards
	// against a platform that does not.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

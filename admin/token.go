package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
)

// settingTokenHash is the setting that keeps the SHA-256 of a generated admin token.
const settingTokenHash = "admin_token_sha256"

// MinTokenLength is the shortest admin token accepted, in characters.
const MinTokenLength = 16

// EnsureToken returns the SHA-256 of the admin token. A configured token
// (--admin-token / SIEMSYNC_ADMIN_TOKEN) wins and nothing is stored. Else the
// hash stored at first start is used. Else a new random token is generated,
// only its hash is stored, and the token is returned once in generated so
// that serve can print it.
func EnsureToken(ctx context.Context, st SettingsStore, configured string) (tokenHash [32]byte, generated string, err error) {
	if configured = strings.TrimSpace(configured); configured != "" {
		if strings.HasPrefix(configured, KeyPrefix) {
			return tokenHash, "", fmt.Errorf("--admin-token / SIEMSYNC_ADMIN_TOKEN starts with %s, the mark of an account key: choose another token", KeyPrefix)
		}
		if n := utf8.RuneCountInString(configured); n < MinTokenLength {
			return tokenHash, "", fmt.Errorf("--admin-token / SIEMSYNC_ADMIN_TOKEN has %d characters; use at least %d, "+
				"such as the output of `openssl rand -base64 32`, or leave it unset and siemsync generates one", n, MinTokenLength)
		}
		return sha256.Sum256([]byte(configured)), "", nil
	}
	v, err := st.Setting(ctx, settingTokenHash)
	switch {
	case err == nil:
		b, derr := hex.DecodeString(v)
		if derr != nil || len(b) != len(tokenHash) {
			return tokenHash, "", fmt.Errorf("admin token: setting %s is not a hex SHA-256", settingTokenHash)
		}
		copy(tokenHash[:], b)
		return tokenHash, "", nil
	case !errors.Is(err, siemsync.ErrNotFound):
		return tokenHash, "", fmt.Errorf("admin token: read setting: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return tokenHash, "", fmt.Errorf("admin token: generate: %w", err)
	}
	generated = base64.RawURLEncoding.EncodeToString(raw[:])
	tokenHash = sha256.Sum256([]byte(generated))
	if err := st.SetSetting(ctx, settingTokenHash, hex.EncodeToString(tokenHash[:])); err != nil {
		return [32]byte{}, "", fmt.Errorf("admin token: store hash: %w", err)
	}
	return tokenHash, generated, nil
}

func constantTimeEqual32(a, b [32]byte) bool {
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

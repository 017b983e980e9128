package store

import (
	"fmt"
	"strconv"
	"time"

	"github.com/siemsync/siemsync"
)

// SealSecrets seals an integration's token and client key with c, for a
// backend to store; nil means "none given".
func SealSecrets(c Cipher, in *siemsync.Integration) (token, key []byte, err error) {
	seal := func(what, v string) ([]byte, error) {
		if v == "" {
			return nil, nil
		}
		if c == nil {
			return nil, fmt.Errorf("seal %s: %w", what, ErrNoCipher)
		}
		b, err := c.Seal([]byte(v))
		if err != nil {
			return nil, fmt.Errorf("seal %s: %w", what, err)
		}
		return b, nil
	}
	if token, err = seal("token", in.Token); err != nil {
		return nil, nil, err
	}
	if key, err = seal("client key", in.ClientKeyPEM); err != nil {
		return nil, nil, err
	}
	return token, key, nil
}

// OpenSecret opens a secret that SealSecrets sealed; nothing stored is "".
func OpenSecret(c Cipher, what string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if c == nil {
		return "", fmt.Errorf("open %s: %w", what, ErrNoCipher)
	}
	b, err := c.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", what, err)
	}
	return string(b), nil
}

// MissWarning is the status warning of records that retention deleted
// before the integration sent them.
func MissWarning(source string, count int64, from, to time.Time) string {
	what := "audit record"
	if source == siemsync.SourceJobs {
		what = "job update"
	}
	if count != 1 {
		what += "s"
	}
	return fmt.Sprintf("retention pruned %s %s (%s to %s) before this integration delivered them",
		thousands(count), what, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
}

// thousands formats n with comma separators: 1234567 → "1,234,567".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

package store

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/siemsync/siemsync"
)

// Sealed is an integration's secrets as a store keeps them: the HEC
// token, the client key and the webhook URL, each sealed by the Cipher,
// nil when not set.
type Sealed struct{ Token, Key, Notify []byte }

// SealSecrets seals the secrets of in for storing.
func SealSecrets(c Cipher, in *siemsync.Integration) (Sealed, error) {
	var s Sealed
	for _, f := range []struct {
		what string
		v    string
		to   *[]byte
	}{{"token", in.Token, &s.Token}, {"client key", in.ClientKeyPEM, &s.Key}, {"webhook URL", in.NotifyURL, &s.Notify}} {
		if f.v == "" {
			continue
		}
		if c == nil {
			return Sealed{}, fmt.Errorf("seal %s: %w", f.what, ErrNoCipher)
		}
		b, err := c.Seal([]byte(f.v))
		if err != nil {
			return Sealed{}, fmt.Errorf("seal %s: %w", f.what, err)
		}
		*f.to = b
	}
	return s, nil
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

// GapWarning says what a backfill cannot send because retention deleted it
// before the integration existed. The count is of everything retention
// deleted of the account, so it is exact only when the backfill starts
// before the first of them.
func GapWarning(source string, since time.Time, count int64, from, to time.Time) string {
	what := "audit records that occurred"
	if source == siemsync.SourceJobs {
		what = "job updates"
	}
	n := thousands(count)
	if since.After(from) {
		n, from = "up to "+n, since
	}
	return fmt.Sprintf("the backfill from %s cannot send this account's %s up to %s: retention deleted them (%s, from %s) before this integration was created",
		since.Format(time.RFC3339Nano), what, to.Format(time.RFC3339Nano), n, from.Format(time.RFC3339Nano))
}

// UnknownAccount is the refusal of an integration for an account the
// store has never seen, when the caller did not ask to create it.
func UnknownAccount(id string) error {
	return siemsync.Invalid("account", "%s is not a known account: siemsync knows an account once ingest has stored one of its records. Check the UUID, or ask to create the account (API \"create_account\": true, CLI --create-account)", id)
}

// JobOfAnotherAccount is the refusal of an upsert of a job id that
// another account's job has: a job belongs to its account for ever.
func JobOfAnotherAccount(job string) error {
	return siemsync.Invalid("job", "%s belongs to another account: a job id is its account's for ever; give this job a new id", job)
}

// TokenStaysWithHost refuses an update that keeps a stored HEC token while
// the URL moves to another host: the token was given for the old host.
func TokenStaysWithHost(oldURL, newURL string, hasToken bool) error {
	oldHost, newHost := urlHost(oldURL), urlHost(newURL)
	if hasToken && oldHost != "" && oldHost != newHost {
		return siemsync.Invalid("token", "enter the token again: the URL's host changes from %s to %s, and the stored token is only sent to the host it was entered for", oldHost, newHost)
	}
	return nil
}

// urlHost is the lower-case host name of a URL, "" when it has none.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
}

// OpenSecrets opens the sealed secrets of an integration into in.
func OpenSecrets(c Cipher, in *siemsync.Integration, s Sealed) error {
	var err error
	if in.Token, err = OpenSecret(c, "token", s.Token); err != nil {
		return err
	}
	if in.ClientKeyPEM, err = OpenSecret(c, "client key", s.Key); err != nil {
		return err
	}
	in.NotifyURL, err = OpenSecret(c, "webhook URL", s.Notify)
	return err
}

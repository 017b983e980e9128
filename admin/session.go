package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/siemsync/siemsync/store"
)

const (
	sessionCookie = "siemsync_session"
	// SessionTTL is how long a page login lasts.
	SessionTTL = 12 * time.Hour
)

// session is a page sign-in. The cookie carries a random secret; the store
// keeps only its SHA-256 (store.Session), so that every worker behind a load
// balancer knows the session and a copy of the database opens none.
type session struct {
	id      [32]byte
	nonce   string // names the session in memory (flashes); not a secret
	expires time.Time
	csrf    string
	who     principal
}

// sessions issues and checks session cookies against the store.
type sessions struct {
	st    store.Sessions
	admin string // fingerprint of the admin token: a new token ends old admin sessions
	now   func() time.Time
}

func newSessions(st store.Sessions, tokenHash [32]byte, now func() time.Time) *sessions {
	fp := sha256.Sum256(append([]byte("siemsync admin session v2\x00"), tokenHash[:]...))
	return &sessions{st: st, admin: hex.EncodeToString(fp[:8]), now: now}
}

// issue opens a session for p and returns its cookie value.
func (ss *sessions) issue(ctx context.Context, p principal) (string, *session, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	now := ss.now()
	st := store.Session{ID: sha256.Sum256(raw[:]), KeyID: p.keyID, CreatedAt: now, Expires: now.Add(SessionTTL).Truncate(time.Second)}
	if p.admin() {
		st.Admin = ss.admin
	}
	if err := ss.st.CreateSession(ctx, st); err != nil {
		return "", nil, fmt.Errorf("store session: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), ss.session(raw[:], st.ID, st.Expires, p), nil
}

func (ss *sessions) session(raw []byte, id [32]byte, exp time.Time, p principal) *session {
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("siemsync csrf v2"))
	return &session{id: id, nonce: hex.EncodeToString(id[:16]), expires: exp, who: p,
		csrf: base64.RawURLEncoding.EncodeToString(m.Sum(nil))}
}

// check resolves a cookie value to a live session: known to the store, not
// expired, its key not revoked, and for an admin session opened with the
// current admin token.
func (ss *sessions) check(ctx context.Context, value string) (*session, bool, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) != 32 {
		return nil, false, nil
	}
	id := sha256.Sum256(raw)
	st, err := ss.st.GetSession(ctx, id)
	if errIsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !ss.now().Before(st.Expires) {
		return nil, false, nil
	}
	p := principal{keyID: st.KeyID, keyName: st.KeyName, account: st.Account}
	if p.admin() && subtle.ConstantTimeCompare([]byte(st.Admin), []byte(ss.admin)) != 1 {
		return nil, false, nil
	}
	if !p.admin() && p.account == "" {
		return nil, false, nil // a key session whose key is gone
	}
	return ss.session(raw, id, st.Expires, p), true, nil
}

func (ss *sessions) revoke(ctx context.Context, se *session) error {
	return ss.st.DeleteSession(ctx, se.id)
}

// csrfOK compares a submitted CSRF token with the session's in constant time.
func (se *session) csrfOK(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(se.csrf)) == 1
}

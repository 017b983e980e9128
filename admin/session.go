package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

const (
	sessionCookie = "siemsync_session"
	// SessionTTL is how long a page login lasts.
	SessionTTL = 12 * time.Hour
)

// session is a page login: a random nonce and an expiry, signed.
type session struct {
	nonce   string
	expires time.Time
	csrf    string
}

// sessions signs and checks session cookies. Sessions are stateless except
// for the set of logged-out nonces, kept until they would expire anyway.
type sessions struct {
	key []byte
	now func() time.Time

	mu      sync.Mutex
	revoked map[string]time.Time
}

func newSessions(tokenHash [32]byte, secret []byte, now func() time.Time) *sessions {
	m := hmac.New(sha256.New, tokenHash[:])
	m.Write([]byte("siemsync admin session v1"))
	m.Write(secret)
	return &sessions{key: m.Sum(nil), now: now, revoked: map[string]time.Time{}}
}

func (ss *sessions) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, ss.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// issue makes a new session and its cookie value.
func (ss *sessions) issue() (string, *session, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	exp := ss.now().Add(SessionTTL).Truncate(time.Second)
	var payload [8 + 16]byte
	binary.BigEndian.PutUint64(payload[:8], uint64(exp.Unix()))
	copy(payload[8:], raw[:])
	p := base64.RawURLEncoding.EncodeToString(payload[:])
	value := p + "." + base64.RawURLEncoding.EncodeToString(ss.mac("session", p))
	return value, ss.session(p, exp), nil
}

func (ss *sessions) session(p string, exp time.Time) *session {
	return &session{
		nonce:   p,
		expires: exp,
		csrf:    base64.RawURLEncoding.EncodeToString(ss.mac("csrf", p)),
	}
}

// check verifies a cookie value: signature, expiry, not logged out.
func (ss *sessions) check(value string) (*session, bool) {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return nil, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, ss.mac("session", p)) {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || len(payload) != 24 {
		return nil, false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0)
	if !ss.now().Before(exp) {
		return nil, false
	}
	ss.mu.Lock()
	_, out := ss.revoked[p]
	ss.mu.Unlock()
	if out {
		return nil, false
	}
	return ss.session(p, exp), true
}

func (ss *sessions) revoke(se *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	for n, exp := range ss.revoked {
		if !now.Before(exp) {
			delete(ss.revoked, n)
		}
	}
	ss.revoked[se.nonce] = se.expires
}

// csrfOK compares a submitted CSRF token with the session's in constant time.
func (se *session) csrfOK(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(se.csrf)) == 1
}

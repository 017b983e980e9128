package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

// KeyPrefix starts every account key, so that a key is recognisable (by
// people and by secret scanners) and an admin token is never looked up.
const KeyPrefix = "ssk_"

// principal is who a request acts for: the operator (admin token) or an
// account key, which sees and changes its own account only (SPEC §7.1).
type principal struct {
	keyID, keyName, account string // all "" for the admin
}

func (p principal) admin() bool { return p.keyID == "" }

// user is the audit trail's name for the principal.
func (p principal) user() string {
	if p.admin() {
		return audittrail.Admin
	}
	return audittrail.KeyUser(p.keyName)
}

// sees reports whether the principal may see the account's data.
func (p principal) sees(account string) bool { return p.admin() || p.account == account }

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// who is the principal of an authenticated request. Requests reach handlers
// only through bearer or page, which always set one.
func who(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// NewAccountKey returns a new random account key and its SHA-256.
func NewAccountKey() (key string, hash [32]byte, err error) {
	var raw [store.AccountKeySize]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", hash, err
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	return key, sha256.Sum256([]byte(key)), nil
}

// authenticate resolves a presented token (admin token or account key). The
// admin token is compared with its hash in constant time; a key is looked
// up by its hash and the stored hash compared in constant time again, so
// no timing of the comparison tells how much of a guess was right.
func (s *Server) authenticate(ctx context.Context, token string) (principal, bool, error) {
	if s.tokenOK(token) {
		return principal{}, true, nil
	}
	if !strings.HasPrefix(token, KeyPrefix) {
		return principal{}, false, nil
	}
	hash := sha256.Sum256([]byte(token))
	k, err := s.cfg.Store.AccountKeyByHash(ctx, hash)
	switch {
	case errIsNotFound(err):
		return principal{}, false, nil
	case err != nil:
		return principal{}, false, err
	}
	if !constantTimeEqual32(k.Hash, hash) || k.RevokedAt != nil {
		return principal{}, false, nil
	}
	return principal{keyID: k.ID, keyName: k.Name, account: k.Account}, true, nil
}

// operator lets only the admin token through: ingest, keys, the account
// list and switch, metrics.
func (s *Server) operator(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !who(r).admin() {
			writeError(w, http.StatusForbidden, "forbidden",
				"this endpoint is for the operator (admin token); an account key manages its own account's integrations", "")
			return
		}
		next(w, r)
	}
}

// owned answers 404 for an integration of another account than the key's,
// exactly as for one that does not exist, so its existence is not revealed.
func (s *Server) owned(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkOwned(r); err != nil {
			s.writeErr(w, r, err)
			return
		}
		next(w, r)
	}
}

// checkOwned loads the {id} integration for a key and checks its account.
func (s *Server) checkOwned(r *http.Request) error {
	p := who(r)
	if p.admin() {
		return nil
	}
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), false)
	if err != nil {
		return err
	}
	if in.Account != p.account {
		return siemsync.ErrNotFound
	}
	return nil
}

// errForbidden is a refusal an account key gets; its text says what to do.
type errForbidden struct{ msg string }

func (e *errForbidden) Error() string { return e.msg }

// errFeatureOff refuses an account key a new integration while the SIEM
// feature of its account is off (SPEC §7.2).
var errFeatureOff = &errForbidden{"SIEM integrations are turned off for this account: contact the operator of the service to turn them on"}

// mayCreate checks that the principal may add an integration to account.
func (s *Server) mayCreate(ctx context.Context, p principal, account string) error {
	if p.admin() {
		return nil
	}
	if account != p.account {
		return &errForbidden{"an account key can add integrations to its own account only: leave account out, or set it to " + p.account}
	}
	acc, err := s.cfg.Store.GetAccount(ctx, account)
	if err != nil {
		return err
	}
	if !acc.SIEMEnabled {
		return errFeatureOff
	}
	return nil
}

func isForbidden(err error) bool {
	var f *errForbidden
	return errors.As(err, &f)
}

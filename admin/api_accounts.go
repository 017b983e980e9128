package admin

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

// errNoAccount is an account that does not exist, or that an account key
// may not see: both are 404 "no such account".
var errNoAccount = errors.New("no such account")

// accountOf loads the {account} of the URL for the principal.
func (s *Server) accountOf(r *http.Request) (siemsync.Account, error) {
	id := siemsync.CanonicalID(r.PathValue("account"))
	if !siemsync.ValidUUID(id) || !who(r).sees(id) {
		return siemsync.Account{}, errNoAccount
	}
	acc, err := s.cfg.Store.GetAccount(r.Context(), id)
	if errIsNotFound(err) {
		return acc, errNoAccount
	}
	return acc, err
}

func (s *Server) apiAccount(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accountOf(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acc)
}

// apiAccountPatch switches the SIEM feature of an account (SPEC §7.2).
func (s *Server) apiAccountPatch(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accountOf(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	var body struct {
		SIEMEnabled *bool `json:"siem_enabled"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeErr(w, r, err)
		return
	}
	if body.SIEMEnabled == nil {
		s.writeErr(w, r, siemsync.Invalid("siem_enabled", "is required: true or false"))
		return
	}
	if err := s.cfg.Store.SetSIEMEnabled(r.Context(), acc.ID, *body.SIEMEnabled); err != nil {
		s.writeErr(w, r, err)
		return
	}
	if acc.SIEMEnabled != *body.SIEMEnabled {
		ev := audittrail.FeatureDisabled
		if *body.SIEMEnabled {
			ev = audittrail.FeatureEnabled
		}
		s.record(r, audittrail.Change{Account: acc.ID, Event: ev})
	}
	s.log.Info().Str("account", acc.ID).Bool("siem_enabled", *body.SIEMEnabled).Msg("account SIEM feature set")
	acc.SIEMEnabled = *body.SIEMEnabled
	writeJSON(w, http.StatusOK, acc)
}

// keyCreated is the answer of POST /accounts/{account}/keys: the only
// time the key itself is ever shown.
type keyCreated struct {
	store.AccountKey
	Key string `json:"key"`
}

// maxKeyName bounds a key's name.
const maxKeyName = 200

func (s *Server) apiKeyCreate(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accountOf(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeErr(w, r, err)
		return
	}
	key, err := s.createKey(r, acc.ID, body.Name)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/accounts/"+acc.ID+"/keys/"+key.ID)
	writeJSON(w, http.StatusCreated, key)
}

// ValidKeyName checks the name of an account key.
func ValidKeyName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return siemsync.Invalid("name", "is required: say who or what uses the key, e.g. \"customer portal\"")
	case len(name) > maxKeyName || !utf8.ValidString(name):
		return siemsync.Invalid("name", "must be UTF-8 text of at most %d bytes", maxKeyName)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return siemsync.Invalid("name", "must not contain control characters")
	}
	return nil
}

// createKey makes a new key of the account and records it in the account's
// audit trail. The key is in the answer; the store keeps its hash.
func (s *Server) createKey(r *http.Request, account, name string) (*keyCreated, error) {
	name = strings.TrimSpace(name)
	if err := ValidKeyName(name); err != nil {
		return nil, err
	}
	key, hash, err := NewAccountKey()
	if err != nil {
		return nil, err
	}
	k := store.AccountKey{Account: account, Name: name, Hash: hash}
	if err := s.cfg.Store.CreateAccountKey(r.Context(), &k); err != nil {
		if errIsNotFound(err) {
			return nil, errNoAccount
		}
		return nil, err
	}
	s.log.Info().Str("account", account).Str("key", k.ID).Msg("account key created")
	s.record(r, audittrail.Change{Account: account, Event: audittrail.KeyCreated, Key: &k})
	return &keyCreated{AccountKey: k, Key: key}, nil
}

func (s *Server) apiKeyList(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accountOf(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	list, err := s.cfg.Store.ListAccountKeys(r.Context(), acc.ID)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if list == nil {
		list = []store.AccountKey{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": list})
}

func (s *Server) apiKeyRevoke(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accountOf(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	id := r.PathValue("kid")
	var revoked *store.AccountKey
	if list, err := s.cfg.Store.ListAccountKeys(r.Context(), acc.ID); err == nil {
		for i := range list {
			if list[i].ID == id {
				revoked = &list[i]
			}
		}
	}
	if err := s.cfg.Store.RevokeAccountKey(r.Context(), acc.ID, id); err != nil {
		if errIsNotFound(err) {
			writeError(w, http.StatusNotFound, "not_found", "no such working key in this account", "")
			return
		}
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("account", acc.ID).Str("key", id).Msg("account key revoked")
	if revoked != nil {
		s.record(r, audittrail.Change{Account: acc.ID, Event: audittrail.KeyRevoked, Key: revoked})
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiEgress tells a customer which addresses siemsync connects from.
func (s *Server) apiEgress(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"egress_addresses": s.cfg.Egress})
}

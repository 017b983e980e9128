package admin

import (
	"errors"
	"net/http"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
)

// view prepares an integration for a response: no secrets, warnings added.
func (s *Server) view(in *siemsync.Integration) *siemsync.Integration {
	out := *in
	out.Token, out.ClientKeyPEM = "", ""
	out.Status.Warnings = warnings(in, s.now())
	return &out
}

func (s *Server) apiAccounts(w http.ResponseWriter, r *http.Request) {
	accts, err := s.cfg.Store.ListAccounts(r.Context())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if accts == nil {
		accts = []siemsync.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": accts})
}

func (s *Server) apiList(w http.ResponseWriter, r *http.Request) {
	account := r.URL.Query().Get("account")
	if account != "" && !siemsync.ValidUUID(account) {
		s.writeErr(w, r, siemsync.Invalid("account", "must be an account UUID"))
		return
	}
	if p := who(r); !p.admin() {
		if account != "" && account != p.account {
			s.writeErr(w, r, &errForbidden{"an account key lists its own account's integrations only"})
			return
		}
		account = p.account
	}
	list, err := s.cfg.Store.ListIntegrations(r.Context(), account)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	out := make([]*siemsync.Integration, 0, len(list))
	for _, in := range list {
		out = append(out, s.view(in))
	}
	writeJSON(w, http.StatusOK, map[string]any{"integrations": out})
}

// newIntegration reads the body of a create or of a test of an unsaved
// integration: the same defaults and checks as the CLI's and the page's. An
// account key's own account is the default account, and the only one
// allowed.
func (s *Server) newIntegration(w http.ResponseWriter, r *http.Request) (*siemsync.Integration, error) {
	return s.newIntegrationFrom(w, r, siemsync.NewIntegration())
}

// newIntegrationFrom is newIntegration over in's defaults (a preview's has
// TokenSet: it needs no token, nothing is sent).
func (s *Server) newIntegrationFrom(w http.ResponseWriter, r *http.Request, in *siemsync.Integration) (*siemsync.Integration, error) {
	var body integrationInput
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	p := who(r)
	if !p.admin() && body.Account == nil {
		body.Account = &p.account
	}
	if err := body.apply(in, true, s.now()); err != nil {
		return nil, err
	}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.mayCreate(r.Context(), p, in.Account); err != nil {
		return nil, accountErr(err)
	}
	return in, nil
}

func (s *Server) apiCreate(w http.ResponseWriter, r *http.Request) {
	in, err := s.newIntegration(w, r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if err := s.cfg.Store.CreateIntegration(r.Context(), in); err != nil {
		s.writeErr(w, r, accountErr(err))
		return
	}
	s.log.Info().Str("integration", in.ID).Str("account", in.Account).Str("via", "api").Msg("integration created")
	saved, err := s.cfg.Store.GetIntegration(r.Context(), in.ID, false)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.recordIntegration(r, audittrail.IntegrationCreated, saved, nil)
	w.Header().Set("Location", "/api/v1/integrations/"+saved.ID)
	writeJSON(w, http.StatusCreated, s.view(saved))
}

// accountErr explains a not-found on create: the account does not exist.
func accountErr(err error) error {
	if errIsNotFound(err) || errors.Is(err, errNoAccount) {
		return siemsync.Invalid("account", "is not a known account: ingest its records first, or check the UUID")
	}
	return err
}

func (s *Server) apiGet(w http.ResponseWriter, r *http.Request) {
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), false)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(in))
}

func (s *Server) apiPatch(w http.ResponseWriter, r *http.Request) {
	var body integrationInput
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeErr(w, r, err)
		return
	}
	in, err := s.update(r, r.PathValue("id"), func(in *siemsync.Integration) error {
		return body.apply(in, false, s.now())
	})
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", in.ID).Str("via", "api").Msg("integration updated")
	writeJSON(w, http.StatusOK, s.view(in))
}

// update loads an integration without secrets, lets change edit it, checks
// it, saves it and records the names of the changed fields in the account's
// audit trail; the stored token and key stay unless change set new ones.
func (s *Server) update(r *http.Request, id string, change func(*siemsync.Integration) error) (*siemsync.Integration, error) {
	ctx := r.Context()
	in, err := s.cfg.Store.GetIntegration(ctx, id, false)
	if err != nil {
		return nil, err
	}
	before := *in
	if err := change(in); err != nil {
		return nil, err
	}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.cfg.Store.UpdateIntegration(ctx, in); err != nil {
		return nil, err
	}
	s.recordUpdate(r, &before, in)
	return s.cfg.Store.GetIntegration(ctx, id, false)
}

// recordUpdate records an update with the names of the fields it changed; a
// change of the toggle is recorded as an enable or a disable of its own.
func (s *Server) recordUpdate(r *http.Request, before, after *siemsync.Integration) {
	fields := audittrail.ChangedFields(before, after)
	rest := fields[:0:0]
	for _, f := range fields {
		if f != "enabled" {
			rest = append(rest, f)
		}
	}
	if len(rest) > 0 {
		s.record(r, audittrail.Change{Account: after.Account, Event: audittrail.IntegrationUpdated, Integration: after, Fields: rest})
	}
	if before.Enabled != after.Enabled {
		s.recordIntegration(r, toggleEvent(after.Enabled), after, nil)
	}
}

func (s *Server) apiDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err == nil {
		err = s.cfg.Store.DeleteIntegration(r.Context(), id)
	}
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", id).Str("via", "api").Msg("integration deleted")
	s.recordIntegration(r, audittrail.IntegrationDeleted, in, nil)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiEnabled(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeErr(w, r, err)
		return
	}
	if body.Enabled == nil {
		s.writeErr(w, r, siemsync.Invalid("enabled", "is required: true or false"))
		return
	}
	in, err := s.setEnabled(r, r.PathValue("id"), *body.Enabled)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", in.ID).Bool("enabled", in.Enabled).Str("via", "api").Msg("integration toggled")
	writeJSON(w, http.StatusOK, s.view(in))
}

// setEnabled turns an integration on or off and records it when it changed.
func (s *Server) setEnabled(r *http.Request, id string, enabled bool) (*siemsync.Integration, error) {
	before, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Store.SetEnabled(r.Context(), id, enabled); err != nil {
		return nil, err
	}
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err != nil {
		return nil, err
	}
	if before.Enabled != in.Enabled {
		s.recordIntegration(r, toggleEvent(in.Enabled), in, nil)
	}
	return in, nil
}

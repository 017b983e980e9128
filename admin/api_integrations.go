package admin

import (
	"context"
	"net/http"

	"github.com/siemsync/siemsync"
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

func (s *Server) apiCreate(w http.ResponseWriter, r *http.Request) {
	var body integrationInput
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeErr(w, r, err)
		return
	}
	// Defaults of a new integration: the same as the CLI's and the page's.
	in := siemsync.NewIntegration()
	if err := body.apply(in, true, s.now()); err != nil {
		s.writeErr(w, r, err)
		return
	}
	in.ApplyDefaults()
	if err := in.Validate(); err != nil {
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
	w.Header().Set("Location", "/api/v1/integrations/"+saved.ID)
	writeJSON(w, http.StatusCreated, s.view(saved))
}

// accountErr explains a not-found on create: the account does not exist.
func accountErr(err error) error {
	if errIsNotFound(err) {
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
	in, err := s.update(r.Context(), r.PathValue("id"), func(in *siemsync.Integration) error {
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
// it and saves it; the stored token and key stay unless change set new ones.
func (s *Server) update(ctx context.Context, id string, change func(*siemsync.Integration) error) (*siemsync.Integration, error) {
	in, err := s.cfg.Store.GetIntegration(ctx, id, false)
	if err != nil {
		return nil, err
	}
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
	return s.cfg.Store.GetIntegration(ctx, id, false)
}

func (s *Server) apiDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.cfg.Store.DeleteIntegration(r.Context(), id); err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", id).Str("via", "api").Msg("integration deleted")
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
	id := r.PathValue("id")
	if err := s.cfg.Store.SetEnabled(r.Context(), id, *body.Enabled); err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", id).Bool("enabled", *body.Enabled).Str("via", "api").Msg("integration toggled")
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(in))
}

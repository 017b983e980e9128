package admin

import (
	"errors"
	"net/http"

	"github.com/siemsync/siemsync"
)

type formView struct {
	baseView
	Form     *integrationForm
	Create   bool
	Action   string
	Accounts []siemsync.Account
	Account  siemsync.Account
	Preview  *previewView
}

// previewView is the preview panel under the form.
type previewView struct {
	Body   string
	Events int
	More   bool
	Saved  bool
	Error  string
}

func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, se *session, status int, f *integrationForm, create bool) {
	s.renderFormPreview(w, r, se, status, f, create, nil)
}

func (s *Server) renderFormPreview(w http.ResponseWriter, r *http.Request, se *session, status int, f *integrationForm, create bool, pv *previewView) {
	v := formView{Form: f, Create: create, Preview: pv}
	if create {
		v.baseView, v.Action = s.base("Add integration", se), "/integrations/new"
		accts, err := s.cfg.Store.ListAccounts(r.Context())
		if err != nil {
			s.pageErr(w, r, err)
			return
		}
		v.Accounts = accts
	} else {
		v.baseView, v.Action = s.base("Edit "+f.Name, se), "/integrations/"+f.ID+"/edit"
		v.Account = s.account(r, f.Account)
	}
	s.render(w, status, "form", v)
}

func (s *Server) newShow(w http.ResponseWriter, r *http.Request, se *session) {
	account := r.URL.Query().Get("account")
	if !siemsync.ValidUUID(account) {
		account = ""
	}
	s.renderForm(w, r, se, http.StatusOK, newForm(account), true)
}

func (s *Server) newSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	f := newForm("")
	if !s.parseForm(w, r, f, true) {
		return
	}
	if wantsPreview(r) {
		// Nothing is sent: the token is not needed.
		s.formPreview(w, r, se, f, f.apply(&siemsync.Integration{TokenSet: true}, true, s.now()), false)
		return
	}
	in := f.apply(&siemsync.Integration{}, true, s.now())
	if in != nil {
		if err := s.cfg.Store.CreateIntegration(r.Context(), in); err != nil {
			if !s.formStoreErr(w, r, f, accountErr(err)) {
				return
			}
			in = nil
		}
	}
	if in == nil {
		f.SecretsDropped = f.token != "" || f.clientKey != "" || f.urlToken
		s.renderForm(w, r, se, http.StatusBadRequest, f, true)
		return
	}
	s.log.Info().Str("integration", in.ID).Str("account", in.Account).Str("via", "page").Msg("integration created")
	s.flash(se, "ok", "%s was added. It sends from the next cycle; use Test connection to check it now.", in.Name)
	http.Redirect(w, r, detailURL(in.ID), http.StatusSeeOther)
}

func (s *Server) editShow(w http.ResponseWriter, r *http.Request, se *session) {
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), false)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.renderForm(w, r, se, http.StatusOK, formFrom(in), false)
}

func (s *Server) editSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	preview := wantsPreview(r)
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), preview)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	f := formFrom(in)
	if !s.parseForm(w, r, f, false) {
		return
	}
	if preview {
		s.formPreview(w, r, se, f, f.apply(in, false, s.now()), true)
		return
	}
	saved := f.apply(in, false, s.now())
	if saved != nil {
		if err := s.cfg.Store.UpdateIntegration(r.Context(), saved); err != nil {
			if !s.formStoreErr(w, r, f, err) {
				return
			}
			saved = nil
		}
	}
	if saved == nil {
		f.SecretsDropped = f.token != "" || f.clientKey != "" || f.urlToken
		s.renderForm(w, r, se, http.StatusBadRequest, f, false)
		return
	}
	s.log.Info().Str("integration", saved.ID).Str("via", "page").Msg("integration updated")
	s.flash(se, "ok", "Changes to %s were saved. They apply from the next cycle.", saved.Name)
	http.Redirect(w, r, detailURL(saved.ID), http.StatusSeeOther)
}

// wantsPreview says the form was submitted with its Preview button.
func wantsPreview(r *http.Request) bool { return r.PostFormValue("preview") != "" }

// formPreview shows the form again, unsaved, with the bytes its settings
// would send next (in is nil when the form has errors).
func (s *Server) formPreview(w http.ResponseWriter, r *http.Request, se *session, f *integrationForm, in *siemsync.Integration, saved bool) {
	f.SecretsDropped = f.token != "" || f.clientKey != ""
	if in == nil {
		s.renderForm(w, r, se, http.StatusBadRequest, f, !saved)
		return
	}
	pv := &previewView{Saved: saved}
	if s.cfg.Preview == nil {
		pv.Error = "Preview is not available in this process."
	} else if p, err := s.cfg.Preview.Preview(r.Context(), in, saved, pagePreviewLimit); err != nil {
		pv.Error = fieldMsg(accountErr(err))
	} else {
		pv.Body, pv.Events, pv.More = string(redactToken(p.Body, in.Token)), p.Events, p.More
	}
	s.renderFormPreview(w, r, se, http.StatusOK, f, !saved, pv)
}

// parseForm reads the form; on a request that cannot be read it answers
// (413 for an oversize upload) and returns false.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, f *integrationForm, create bool) bool {
	err := f.parse(r, create)
	var fe *siemsync.FieldError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &fe):
		f.fieldErr(err) // an oversize certificate file: show it at the field
		return true
	case errors.As(err, &mbe):
		s.renderError(w, http.StatusRequestEntityTooLarge, "Too large", "The form is larger than 2 MiB. Certificates and keys are a few KiB: check the files you chose.")
	default:
		s.renderError(w, http.StatusBadRequest, "Bad request", "The form could not be read. Reload the page and try again.")
	}
	return false
}

// formStoreErr puts a store error that concerns a field (duplicate name,
// unknown account) on the form and returns true; other errors are answered
// as a page error and it returns false.
func (s *Server) formStoreErr(w http.ResponseWriter, r *http.Request, f *integrationForm, err error) bool {
	var fe *siemsync.FieldError
	if errors.As(err, &fe) {
		f.fieldErr(err)
		return true
	}
	s.pageErr(w, r, err)
	return false
}

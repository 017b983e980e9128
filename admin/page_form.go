package admin

import (
	"errors"
	"net/http"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
)

type formView struct {
	baseView
	Form     *integrationForm
	Create   bool
	Action   string
	Accounts []siemsync.Account
	Account  siemsync.Account
	Test     *testResult // the result of Test, when the form was tested
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
	s.renderFormWith(w, r, se, status, f, create, nil, nil)
}

func (s *Server) renderFormTested(w http.ResponseWriter, r *http.Request, se *session, status int, f *integrationForm, create bool, test *testResult) {
	s.renderFormWith(w, r, se, status, f, create, test, nil)
}

func (s *Server) renderFormWith(w http.ResponseWriter, r *http.Request, se *session, status int, f *integrationForm, create bool, test *testResult, pv *previewView) {
	v := formView{Form: f, Create: create, Test: test, Preview: pv}
	if create {
		v.baseView, v.Action = s.base("Add integration", se), "/integrations/new"
		accts, err := s.visibleAccounts(r)
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
	if !se.who.admin() {
		account = se.who.account
	}
	s.renderForm(w, r, se, http.StatusOK, newForm(account), true)
}

func (s *Server) newSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	f := newForm("")
	if !s.parseForm(w, r, f, true) {
		return
	}
	if !se.who.admin() && f.Account == "" {
		f.Account = se.who.account
	}
	// A preview sends nothing: it needs no token.
	in := f.apply(&siemsync.Integration{TokenSet: wantsPreview(r)}, true, s.now())
	if in != nil {
		if err := s.mayCreate(r.Context(), se.who, in.Account); err != nil {
			if isForbidden(err) {
				s.renderError(w, http.StatusForbidden, "Not allowed", sentence(err.Error()))
				return
			}
			s.pageErr(w, r, err)
			return
		}
	}
	if wantsPreview(r) {
		s.formPreview(w, r, se, f, in, false)
		return
	}
	if in != nil && r.PostFormValue("op") == "test" {
		s.formTest(w, r, se, f, in, true)
		return
	}
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
	s.recordIntegration(r, audittrail.IntegrationCreated, in, nil)
	if in.Enabled {
		s.flash(se, "ok", "%s was added. Its first cycle starts within seconds.", in.Name)
	} else {
		s.flash(se, "ok", "%s was added, disabled: enable it to start sending.", in.Name)
	}
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
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), false)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	f := formFrom(in)
	if !s.parseForm(w, r, f, false) {
		return
	}
	before := *in
	if wantsPreview(r) {
		// Preview what the form says, from the checkpoint; nothing is saved.
		withSecrets, err := s.cfg.Store.GetIntegration(r.Context(), in.ID, true)
		if err != nil {
			s.pageErr(w, r, err)
			return
		}
		s.formPreview(w, r, se, f, f.apply(withSecrets, false, s.now()), true)
		return
	}
	if r.PostFormValue("op") == "test" {
		// Test what the form says, with the stored secrets unless new
		// ones were typed.
		withSecrets, err := s.cfg.Store.GetIntegration(r.Context(), in.ID, true)
		if err != nil {
			s.pageErr(w, r, err)
			return
		}
		if tested := f.apply(withSecrets, false, s.now()); tested != nil {
			s.formTest(w, r, se, f, tested, false)
			return
		}
		f.SecretsDropped = f.token != "" || f.clientKey != ""
		s.renderForm(w, r, se, http.StatusBadRequest, f, false)
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
	s.recordUpdate(r, &before, saved)
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
	s.renderFormWith(w, r, se, http.StatusOK, f, !saved, nil, pv)
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

// formTest runs Test connection on what the form says, stores nothing, and
// shows the form again with the result next to it. Secrets typed into the
// form are not echoed back (the page never carries one): the form says to
// type them again before saving.
func (s *Server) formTest(w http.ResponseWriter, r *http.Request, se *session, f *integrationForm, in *siemsync.Integration, create bool) {
	if s.cfg.Tester == nil {
		f.fail("", "Connection testing is not available in this process.")
		s.renderForm(w, r, se, http.StatusOK, f, create)
		return
	}
	res := s.test(r.Context(), in, false)
	s.recordIntegration(r, audittrail.IntegrationTested, in, map[string]any{"ok": res.OK, "unsaved": true})
	f.SecretsDropped = f.token != "" || f.clientKey != ""
	s.renderFormTested(w, r, se, http.StatusOK, f, create, &res)
}

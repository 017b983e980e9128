package admin

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bearer requires Authorization: Bearer <admin token>. Every failure gets
// the same 401, whether the header is missing, malformed or wrong.
// Failed attempts are throttled (see guard): a throttled client gets 429
// with Retry-After and its token is not checked.
func (s *Server) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, now := clientAddr(r, s.cfg.TrustedProxies), s.now()
		if ok, wait := s.guard.allow(addr, now); !ok {
			tooMany(w, wait)
			return
		}
		h := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || !s.tokenOK(strings.TrimSpace(token)) {
			if h != "" { // a request without credentials guesses nothing
				s.guard.fail(addr, now)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="siemsync"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "authentication required: send Authorization: Bearer <admin token>", "")
			return
		}
		s.guard.ok(addr, now)
		next.ServeHTTP(w, r)
	})
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, http.StatusTooManyRequests, "too_many_requests",
		fmt.Sprintf("too many failed attempts with a wrong admin token: try again in %d s", max(secs, 1)), "")
}

// crossOrigin rejects browser requests that come from another site (by
// Sec-Fetch-Site or Origin). It complements the CSRF token.
var crossOrigin = http.NewCrossOriginProtection()

type pageFunc func(w http.ResponseWriter, r *http.Request, se *session)

// page requires a logged-in session; a state-changing request must also
// carry the session's CSRF token and come from this site.
func (s *Server) page(f pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var se *session
		ok := false
		if err == nil {
			se, ok = s.sess.check(c.Value)
		}
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.renderError(w, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again and repeat the action.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := crossOrigin.Check(r); err != nil {
				s.renderError(w, http.StatusForbidden, "Request refused", "This form was sent from another site. Reload the page and try again.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxFormBody)
			token, err := formCSRF(r)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.renderError(w, http.StatusRequestEntityTooLarge, "Too large", "The form is larger than 2 MiB. Certificates and keys are a few KiB: check the files you chose.")
				return
			}
			if !se.csrfOK(token) {
				s.renderError(w, http.StatusForbidden, "Form expired", "The form is out of date or did not come from this page. Reload the page and try again.")
				return
			}
		}
		f(w, r, se)
	})
}

// formCSRF reads the csrf field of a urlencoded or multipart form.
func formCSRF(r *http.Request) (string, error) {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(MaxFormBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return "", err
	}
	return r.PostFormValue("csrf"), nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
}

type loginView struct {
	baseView
	Error string
}

func (s *Server) loginShow(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, ok := s.sess.check(c.Value); ok {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
	}
	s.render(w, http.StatusOK, "login", loginView{baseView: s.base("Sign in", nil)})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		s.renderError(w, http.StatusForbidden, "Request refused", "This form was sent from another site.")
		return
	}
	addr, now := clientAddr(r, s.cfg.TrustedProxies), s.now()
	if ok, _ := s.guard.allow(addr, now); !ok {
		s.render(w, http.StatusTooManyRequests, "login", loginView{baseView: s.base("Sign in", nil),
			Error: "Too many failed sign-ins. Wait a few minutes and try again."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.tokenOK(strings.TrimSpace(r.PostFormValue("token"))) {
		s.guard.fail(addr, now)
		s.log.Info().Str("remote", addr).Msg("admin sign-in refused")
		s.render(w, http.StatusUnauthorized, "login", loginView{baseView: s.base("Sign in", nil),
			Error: "That admin token is not valid."})
		return
	}
	s.guard.ok(addr, now)
	value, _, err := s.sess.issue()
	if err != nil {
		s.renderError(w, http.StatusInternalServerError, "Error", "Could not start a session.")
		return
	}
	s.setSessionCookie(w, value, int(SessionTTL/time.Second))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, se *session) {
	s.sess.revoke(se)
	s.flashes.drop(se.nonce)
	s.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

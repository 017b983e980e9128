package admin

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bearer requires Authorization: Bearer <admin token or account key> and
// puts the principal in the request's context. Every failure gets the same
// 401, whether the header is missing, malformed or wrong; a client address
// with too many wrong tokens gets 429 for a while, like failed sign-ins.
func (s *Server) bearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			token = ""
		}
		p, err := s.signIn(r, strings.TrimSpace(token))
		var th *throttled
		switch {
		case errors.As(err, &th):
			secs := strconv.Itoa(max(int(math.Ceil(th.wait.Seconds())), 1))
			w.Header().Set("Retry-After", secs)
			writeError(w, http.StatusTooManyRequests, "too_many_failures", "too many requests with a wrong token: try again in "+secs+" s", "")
		case errors.Is(err, errBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="siemsync"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "authentication required: send Authorization: Bearer <admin token or account key>", "")
		case err != nil:
			s.writeErr(w, r, err)
		default:
			next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
		}
	})
}

var (
	errBadToken        = errors.New("no valid admin token or account key")
	errTooManyFailures = errors.New("too many failed attempts")
)

// throttled is errTooManyFailures with the time until the client may try
// again.
type throttled struct{ wait time.Duration }

func (t *throttled) Error() string        { return errTooManyFailures.Error() }
func (t *throttled) Is(target error) bool { return target == errTooManyFailures }

// signIn authenticates the token of a request (API or sign-in form) under
// the guard (see guard): after too many wrong tokens from the client's
// address, or from everywhere, a request is refused for a while without
// its token being looked at, except for a token that has the form of an
// account key: keys carry 256 random bits, so checking them helps no
// guesser, and a host product whose backend sends one revoked key then
// does not lock its other customers out. A wrong token counts as a
// failure; no token at all does not.
func (s *Server) signIn(r *http.Request, token string) (principal, error) {
	addr, now := clientAddr(r, s.cfg.TrustedProxies), s.now()
	allowed, wait := s.guard.allow(addr, now)
	if !allowed && !strings.HasPrefix(token, KeyPrefix) {
		return principal{}, &throttled{wait}
	}
	if token == "" {
		return principal{}, errBadToken
	}
	p, ok, err := s.authenticate(r.Context(), token)
	switch {
	case err != nil:
		return principal{}, err
	case ok:
		s.guard.ok(addr, now)
		return p, nil
	}
	// A key-shaped token guesses at 256 random bits, not at the admin
	// token (which cannot look like a key, see EnsureToken): it counts
	// against its address only, so a backend sending one revoked key does
	// not slow everyone down.
	s.guard.fail(addr, now, !strings.HasPrefix(token, KeyPrefix))
	s.log.Info().Str("remote", addr).Msg("wrong admin token or account key")
	if !allowed {
		return principal{}, &throttled{wait}
	}
	return principal{}, errBadToken
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
			if se, ok, err = s.sess.check(r.Context(), c.Value); err != nil {
				s.pageErr(w, r, err)
				return
			}
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
		f(w, r.WithContext(withPrincipal(r.Context(), se.who)), se)
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
		if _, ok, _ := s.sess.check(r.Context(), c.Value); ok {
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
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	p, err := s.signIn(r, strings.TrimSpace(r.PostFormValue("token")))
	switch {
	case errors.Is(err, errTooManyFailures):
		s.render(w, http.StatusTooManyRequests, "login", loginView{baseView: s.base("Sign in", nil),
			Error: "Too many failed sign-ins. Wait a few minutes and try again."})
		return
	case errors.Is(err, errBadToken):
		s.render(w, http.StatusUnauthorized, "login", loginView{baseView: s.base("Sign in", nil),
			Error: "That admin token or account key is not valid."})
		return
	case err != nil:
		s.pageErr(w, r, err)
		return
	}
	value, _, err := s.sess.issue(r.Context(), p)
	if err != nil {
		s.log.Error().Err(err).Msg("sign-in: start a session")
		s.renderError(w, http.StatusInternalServerError, "Error", "Could not start a session.")
		return
	}
	s.setSessionCookie(w, value, int(SessionTTL/time.Second))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, se *session) {
	if err := s.sess.revoke(r.Context(), se); err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.flashes.drop(se.nonce)
	s.setSessionCookie(w, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

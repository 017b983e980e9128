package admin

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/version"
	"github.com/siemsync/siemsync/store"
)

// baseView is what the layout needs on every page.
type baseView struct {
	Title    string
	SignedIn bool
	// KeyUser names the account key a customer's admin signed in with;
	// "" for the operator.
	KeyUser  string
	CSRF     string
	AssetVer string
	Version  string // shown in the footer once signed in
	Flashes  []flash
	// Refresh reloads the page every so many seconds (a replay's progress
	// bar); 0: never.
	Refresh int
	Egress  string // the operator's egress addresses, for firewall allow-lists
}

func (s *Server) base(title string, se *session) baseView {
	v := baseView{Title: title, AssetVer: s.assetVer}
	if se != nil {
		v.SignedIn, v.CSRF, v.Version = true, se.csrf, version.String()
		v.Flashes = s.flashes.pop(se.nonce)
		v.Egress = s.cfg.Egress
		if !se.who.admin() {
			v.KeyUser = se.who.keyName
		}
	}
	return v
}

// ownedPage answers "not found" for an integration of another account than
// the signed-in key's, exactly as for one that does not exist.
func (s *Server) ownedPage(f pageFunc) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, se *session) {
		if err := s.checkOwned(r); err != nil {
			s.pageErr(w, r, err)
			return
		}
		f(w, r, se)
	}
}

// visibleAccounts are the accounts the principal may see: all for the
// operator, its own for an account key.
func (s *Server) visibleAccounts(r *http.Request) ([]siemsync.Account, error) {
	p := who(r)
	if p.admin() {
		return s.cfg.Store.ListAccounts(r.Context())
	}
	acc, err := s.cfg.Store.GetAccount(r.Context(), p.account)
	if err != nil {
		return nil, err
	}
	return []siemsync.Account{acc}, nil
}

// card is one integration as the page shows it.
type card struct {
	*siemsync.Integration
	Warnings    []string
	Destination string
	Runs        []store.Run
	Chart       template.HTML
	Peak        int64  // most events of one recent cycle
	Health      string // a word for the state: Healthy, Failing, ...
	HealthClass string
	CSRF        string // for the card's forms
	Next        string // where the card's forms return to
}

func (s *Server) card(r *http.Request, in *siemsync.Integration, se *session, next string) (*card, error) {
	runs, err := s.cfg.Store.RecentRuns(r.Context(), in.ID, recentRuns)
	if err != nil {
		return nil, err
	}
	v := s.view(in)
	c := &card{Integration: v, Warnings: v.Status.Warnings, Runs: runs, Chart: eventsChart(runs, recentRuns),
		CSRF: se.csrf, Next: next}
	c.Destination = in.URL
	if in.Kind == siemsync.KindSyslog {
		c.Destination = in.Protocol + "://" + in.Address
	}
	c.Health, c.HealthClass = health(in)
	for _, r := range runs {
		c.Peak = max(c.Peak, r.Events)
	}
	return c, nil
}

func health(in *siemsync.Integration) (word, class string) {
	switch {
	case !in.Enabled:
		return "Disabled", "off"
	case in.Status.ErrorMessage != "":
		return "Failing", "fail"
	case in.Status.SetAside > 0:
		return "Events set aside", "warn"
	case in.Status.LastComplete == nil:
		return "Waiting for first cycle", "wait"
	}
	return "Healthy", "ok"
}

type accountGroup struct {
	Account      siemsync.Account
	Integrations []*card
}

type indexView struct {
	baseView
	Groups []accountGroup
}

func (s *Server) index(w http.ResponseWriter, r *http.Request, se *session) {
	accts, err := s.visibleAccounts(r)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	list, err := s.cfg.Store.ListIntegrations(r.Context(), se.who.account) // "" for the admin: all
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	groups := map[string]*accountGroup{}
	var order []string
	for _, a := range accts {
		groups[a.ID] = &accountGroup{Account: a}
		order = append(order, a.ID)
	}
	for _, in := range list {
		g, ok := groups[in.Account]
		if !ok {
			g = &accountGroup{Account: siemsync.Account{ID: in.Account}}
			groups[in.Account] = g
			order = append(order, in.Account)
		}
		c, err := s.card(r, in, se, "/#i-"+in.ID)
		if err != nil {
			s.pageErr(w, r, err)
			return
		}
		g.Integrations = append(g.Integrations, c)
	}
	v := indexView{baseView: s.base("Integrations", se)}
	for _, id := range order {
		g := groups[id]
		slices.SortFunc(g.Integrations, func(a, b *card) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
		v.Groups = append(v.Groups, *g)
	}
	s.render(w, http.StatusOK, "index", v)
}

type detailView struct {
	baseView
	Card      *card
	Account   siemsync.Account
	SetAside  []store.SetAside
	Test      *testResult
	Replay    *store.ReplayStatus // nil: none yet, or replay not available
	CanReplay bool
}

func (s *Server) detail(w http.ResponseWriter, r *http.Request, se *session) {
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), false)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	c, err := s.card(r, in, se, detailURL(in.ID))
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	sa, err := s.cfg.Store.ListSetAside(r.Context(), in.ID)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	v := detailView{baseView: s.base(in.Name, se), Card: c, SetAside: sa, Account: s.account(r, in.Account)}
	if s.cfg.Replays != nil {
		v.CanReplay = true
		if st, err := s.cfg.Replays.Get(r.Context(), in.ID); err == nil {
			v.Replay = &st
			if st.State == store.ReplayRunning {
				v.Refresh = 2
			}
		}
	}
	// The connection test result shows in its own panel, not as a banner.
	kept := v.Flashes[:0]
	for i := range v.Flashes {
		if v.Flashes[i].Steps != nil {
			v.Test = &testResult{OK: v.Flashes[i].Kind == "ok", Steps: v.Flashes[i].Steps}
			continue
		}
		kept = append(kept, v.Flashes[i])
	}
	v.Flashes = kept
	s.render(w, http.StatusOK, "detail", v)
}

// account finds an account by id for display; unknown ids show bare.
func (s *Server) account(r *http.Request, id string) siemsync.Account {
	if a, err := s.cfg.Store.GetAccount(r.Context(), id); err == nil {
		return a
	}
	return siemsync.Account{ID: id}
}

type errorView struct {
	baseView
	Heading string
	Message string
}

func (s *Server) renderError(w http.ResponseWriter, status int, heading, msg string) {
	s.render(w, status, "error", errorView{baseView: s.base(heading, nil), Heading: heading, Message: msg})
}

// pageErr answers a page request that failed: 404 for an unknown
// integration, else a logged 500.
func (s *Server) pageErr(w http.ResponseWriter, r *http.Request, err error) {
	if errIsNotFound(err) {
		s.renderError(w, http.StatusNotFound, "Not found", "This integration does not exist. It may have been deleted.")
		return
	}
	s.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("page request")
	s.renderError(w, http.StatusInternalServerError, "Something went wrong", "The server could not complete the request. The details are in the server log.")
}

// safeNext keeps a redirect target on this site: a path of this site and
// nothing a browser could read as another host. Browsers drop tabs and
// line breaks from URLs and read a backslash as a slash, so "/\t/evil"
// would become "//evil": any white space, control character or backslash
// refuses the target.
func safeNext(v, fallback string) string {
	if v == "" || v[0] != '/' || len(v) > 2048 {
		return fallback
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c == '\\' || c >= 0x7f {
			return fallback
		}
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(v, "//") {
		return fallback
	}
	return v
}

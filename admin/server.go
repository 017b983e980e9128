// Package admin serves the admin settings page and the JSON REST API of
// siemsync. The page is server-rendered html/template with embedded assets;
// the API lives under /api/v1 and takes the admin token as a Bearer token.
//
// The package defines the small interfaces it consumes (Store, Syncer,
// Tester, Ingester); cmd/siemsync wires the real store, scheduler and sinks.
// Secrets (HEC tokens, client keys) are write-only here: no response, page
// or log line ever carries them.
package admin

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/version"
	"github.com/siemsync/siemsync/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is the part of the store the admin server uses.
type Store interface {
	ListIntegrations(ctx context.Context, account string) ([]*siemsync.Integration, error)
	// GetIntegration loads one integration; secrets only when withSecrets.
	GetIntegration(ctx context.Context, id string, withSecrets bool) (*siemsync.Integration, error)
	// CreateIntegration assigns the ID. A duplicate name is a
	// *siemsync.FieldError{Field: "name"} that errors.Is ErrConflict.
	CreateIntegration(ctx context.Context, in *siemsync.Integration) error
	// UpdateIntegration keeps the stored token when Token is empty and the
	// stored client key when ClientKeyPEM is empty.
	UpdateIntegration(ctx context.Context, in *siemsync.Integration) error
	SetEnabled(ctx context.Context, id string, enabled bool) error
	DeleteIntegration(ctx context.Context, id string) error
	ListAccounts(ctx context.Context) ([]siemsync.Account, error)
	// GetAccount wraps siemsync.ErrNotFound for an unknown account.
	GetAccount(ctx context.Context, id string) (siemsync.Account, error)
	SetSIEMEnabled(ctx context.Context, account string, enabled bool) error
	store.AccountKeys
	store.Sessions
	RecentRuns(ctx context.Context, integration string, n int) ([]store.Run, error)
	ListSetAside(ctx context.Context, integration string) ([]store.SetAside, error)
	DeleteSetAside(ctx context.Context, integration string, ids []int64) (int, error)
	SettingsStore
}

// SettingsStore reads and writes key/value settings. Setting returns an
// error wrapping siemsync.ErrNotFound when the key is absent.
type SettingsStore interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// Syncer runs cycles on demand.
type Syncer interface {
	// RunNow runs one cycle of the integration and returns when it ends. It
	// returns an error wrapping siemsync.ErrRunning while a cycle of that
	// integration is already running.
	RunNow(ctx context.Context, integrationID string) error
	// RetrySetAside sends the integration's set-aside events again.
	RetrySetAside(ctx context.Context, integrationID string) (delivered, remaining int, err error)
}

// Tester checks an integration's connection step by step (URL, DNS, TCP,
// TLS, health, token) and stops at the first failure. in has its secrets
// loaded. It indexes a visible event only when sendTestEvent is true.
type Tester func(ctx context.Context, in *siemsync.Integration, sendTestEvent bool) []siemsync.Step

// Ingester loads NDJSON records into the store, all or nothing. Bad input is
// a *siemsync.FieldError naming the line and the field.
type Ingester interface {
	Audit(ctx context.Context, r io.Reader, account string) (store.IngestResult, error)
	Jobs(ctx context.Context, r io.Reader, account string) (store.IngestResult, error)
}

// Config is what New needs. Store and TokenHash are required; a nil Syncer,
// Tester or Ingest makes the matching endpoints answer 501.
type Config struct {
	Store   Store
	Syncer  Syncer
	Tester  Tester
	Ingest  Ingester
	Preview Previewer        // nil: preview answers 501
	Replays Replays          // nil: replay answers 501
	Metrics *metrics.Metrics // nil: /metrics answers 404
	Logger  zerolog.Logger
	// TokenHash is the SHA-256 of the admin token (see EnsureToken).
	TokenHash [32]byte
	Now       func() time.Time // nil: time.Now
	// SecureCookies marks the session cookie Secure; set it when the page is
	// served over HTTPS (directly or behind a TLS-terminating proxy).
	SecureCookies bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the sign-in and API throttles). Empty: the header
	// is ignored.
	TrustedProxies []netip.Prefix
	// SpoolDir holds ingest bodies while they arrive ("": the system's
	// temp directory).
	SpoolDir string
	// IngestBodyTimeout bounds how long an ingest body may take to arrive
	// (0: DefaultIngestBodyTimeout).
	IngestBodyTimeout time.Duration
	// IngestConcurrency is how many spooled ingest bodies are loaded into
	// the store at once (0: DefaultIngestConcurrency); the others wait
	// their turn on disk.
	IngestConcurrency int
	// Egress is the operator's free-text list of the addresses siemsync
	// connects from (--egress-addresses), shown to customers for their
	// firewall allow-list. Empty: not shown.
	Egress string
	// NoAuditTrail leaves changes out of the accounts' audit logs (SPEC
	// §7.3 records them by default, through Ingest).
	NoAuditTrail bool
}

// Body limits.
const (
	MaxJSONBody   = 1 << 20  // JSON API requests
	MaxNDJSONBody = 64 << 20 // NDJSON ingest
	MaxFormBody   = 2 << 20  // page forms, including certificate uploads
)

// Server is the admin page and REST API. It is an http.Handler.
type Server struct {
	cfg      Config
	log      zerolog.Logger
	now      func() time.Time
	handler  http.Handler
	pages    map[string]*template.Template
	assetVer string
	sess     *sessions
	flashes  *flashStore
	guard    *guard
	trail    *audittrail.Recorder // nil without an Ingester: changes are only logged

	ingestTimeout time.Duration
	ingestTurns   chan struct{} // a token per ingest loading into the store
}

// New builds the server: templates are parsed here, once.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("admin: Config.Store is required")
	}
	if cfg.TokenHash == ([32]byte{}) {
		return nil, errors.New("admin: Config.TokenHash is required (see EnsureToken)")
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		now:     cfg.Now,
		flashes: newFlashStore(),
		guard:   newGuard(),
	}
	s.ingestTimeout = cmp.Or(cfg.IngestBodyTimeout, DefaultIngestBodyTimeout)
	s.ingestTurns = make(chan struct{}, cmp.Or(max(cfg.IngestConcurrency, 0), DefaultIngestConcurrency))
	if s.now == nil {
		s.now = time.Now
	}
	s.sess = newSessions(cfg.Store, cfg.TokenHash, s.now)
	if cfg.Ingest != nil && !cfg.NoAuditTrail {
		s.trail = audittrail.New(cfg.Ingest, s.now)
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheForever(http.FileServerFS(static))))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})

	// Page: login and logout need no session; everything else does.
	mux.HandleFunc("GET /login", s.loginShow)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.Handle("POST /logout", s.page(s.logout))
	mux.Handle("GET /{$}", s.page(s.index))
	mux.Handle("GET /integrations/new", s.page(s.newShow))
	mux.Handle("POST /integrations/new", s.page(s.newSubmit))
	// Every page of one integration is scoped to the signed-in key's account.
	mux.Handle("GET /integrations/{id}", s.page(s.ownedPage(s.detail)))
	mux.Handle("GET /integrations/{id}/edit", s.page(s.ownedPage(s.editShow)))
	mux.Handle("POST /integrations/{id}/edit", s.page(s.ownedPage(s.editSubmit)))
	mux.Handle("GET /integrations/{id}/delete", s.page(s.ownedPage(s.deleteShow)))
	mux.Handle("POST /integrations/{id}/delete", s.page(s.ownedPage(s.deleteSubmit)))
	mux.Handle("POST /integrations/{id}/enabled", s.page(s.ownedPage(s.toggleSubmit)))
	mux.Handle("POST /integrations/{id}/test", s.page(s.ownedPage(s.testSubmit)))
	mux.Handle("POST /integrations/{id}/sync", s.page(s.ownedPage(s.syncSubmit)))
	mux.Handle("POST /integrations/{id}/setaside/retry", s.page(s.ownedPage(s.setAsideRetrySubmit)))
	mux.Handle("POST /integrations/{id}/setaside/{sid}/drop", s.page(s.ownedPage(s.setAsideDropSubmit)))
	mux.Handle("POST /integrations/{id}/replay", s.page(s.ownedPage(s.replaySubmit)))
	mux.Handle("POST /integrations/{id}/replay/cancel", s.page(s.ownedPage(s.replayCancelSubmit)))

	// API.
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", s.apiRoutes()))
	mux.Handle("GET /metrics", s.bearer(s.operator(s.metrics)))

	return s.recoverer(s.securityHeaders(s.logRequests(mux)))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	// A settings read proves the database answers; absence is fine.
	if _, err := s.cfg.Store.Setting(r.Context(), settingTokenHash); err != nil && !errors.Is(err, siemsync.ErrNotFound) {
		s.log.Error().Err(err).Msg("health check: store")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version.String()})
}

// tokenOK compares a presented admin token with the configured hash in
// constant time.
func (s *Server) tokenOK(token string) bool {
	if token == "" {
		return false
	}
	return constantTimeEqual32(sha256.Sum256([]byte(token)), s.cfg.TokenHash)
}

// render executes a page template into a buffer, so a template error becomes
// a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error().Str("template", name).Msg("unknown template")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error().Err(err).Str("template", name).Msg("render page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Asset URLs carry a content hash (?v=), so they never go stale.
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		h.ServeHTTP(w, r)
	})
}

package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

// recentRuns is how many runs the status and the chart show.
const recentRuns = 24

func (s *Server) notAvailable(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotImplemented, "not_available", what+" is not available in this process", "")
}

// testResult is the answer of POST /integrations/{id}/test.
type testResult struct {
	OK    bool            `json:"ok"`
	Steps []siemsync.Step `json:"steps"`
}

// runTest loads the integration with its secrets, tests it and records the
// test in the account's audit trail.
func (s *Server) runTest(r *http.Request, id string, sendEvent bool) (testResult, error) {
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, true)
	if err != nil {
		return testResult{}, err
	}
	res := s.test(r.Context(), in, sendEvent)
	s.recordIntegration(r, audittrail.IntegrationTested, in, map[string]any{"ok": res.OK, "test_event": sendEvent})
	return res, nil
}

// test runs the Tester on an integration that carries its secrets and makes
// sure no step message repeats a secret.
func (s *Server) test(ctx context.Context, in *siemsync.Integration, sendEvent bool) testResult {
	steps := s.cfg.Tester(ctx, in, sendEvent)
	res := testResult{OK: len(steps) > 0, Steps: make([]siemsync.Step, 0, len(steps))}
	for _, st := range steps {
		st.Message = redact(st.Message, in.Token, in.ClientKeyPEM)
		res.OK = res.OK && st.OK
		res.Steps = append(res.Steps, st)
	}
	s.log.Info().Str("integration", in.ID).Bool("ok", res.OK).Msg("connection test")
	return res
}

// redact removes secrets from a message meant for a person.
func redact(msg string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
		}
	}
	return msg
}

func (s *Server) apiTest(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tester == nil {
		s.notAvailable(w, "connection testing")
		return
	}
	var body struct {
		SendTestEvent bool `json:"send_test_event"`
	}
	if r.ContentLength != 0 {
		if err := decodeOptionalJSON(w, r, &body); err != nil {
			s.writeErr(w, r, err)
			return
		}
	}
	res, err := s.runTest(r, r.PathValue("id"), body.SendTestEvent)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// apiTestUnsaved tests an integration body before it is saved (SPEC §7.4):
// the same checks as a create, and nothing is stored. No test event is
// sent: the destination sees only the connection and the token check.
func (s *Server) apiTestUnsaved(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tester == nil {
		s.notAvailable(w, "connection testing")
		return
	}
	in, err := s.newIntegration(w, r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if _, err := s.cfg.Store.GetAccount(r.Context(), in.Account); err != nil {
		s.writeErr(w, r, accountErr(err))
		return
	}
	res := s.test(r.Context(), in, false)
	s.recordIntegration(r, audittrail.IntegrationTested, in, map[string]any{"ok": res.OK, "unsaved": true})
	writeJSON(w, http.StatusOK, res)
}

// decodeOptionalJSON is decodeJSON where an empty body means defaults.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	err := decodeJSON(w, r, v)
	var fe *siemsync.FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Msg, "request body is empty") {
		return nil
	}
	return err
}

// statusView is the answer of GET /integrations/{id}/status.
type statusView struct {
	siemsync.Status
	Enabled    bool        `json:"enabled"`
	RecentRuns []store.Run `json:"recent_runs"`
	// Replay is the current or last replay with its progress; absent when
	// there was none.
	Replay *store.ReplayStatus `json:"replay,omitempty"`
}

func (s *Server) status(ctx context.Context, id string) (*statusView, error) {
	in, err := s.cfg.Store.GetIntegration(ctx, id, false)
	if err != nil {
		return nil, err
	}
	runs, err := s.cfg.Store.RecentRuns(ctx, id, recentRuns)
	if err != nil {
		return nil, err
	}
	if runs == nil {
		runs = []store.Run{}
	}
	v := s.view(in)
	st := &statusView{Status: v.Status, Enabled: in.Enabled, RecentRuns: runs}
	if s.cfg.Replays != nil {
		if r, err := s.cfg.Replays.Get(ctx, id); err == nil {
			st.Replay = &r
		}
	}
	return st, nil
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// errDisabled refuses to run a cycle of a disabled integration.
var errDisabled = errors.New("the integration is disabled: enable it to sync")

// syncResult is the answer of POST /integrations/{id}/sync: the cycle ran;
// OK says whether it succeeded.
type syncResult struct {
	OK     bool        `json:"ok"`
	Error  string      `json:"error,omitempty"`
	Status *statusView `json:"status"`
}

// runNow runs a cycle and records the request in the account's audit
// trail. It does not stop when the client goes away: an abandoned cycle
// would only be repeated.
func (s *Server) runNow(r *http.Request, id string) (cycleErr, err error) {
	ctx := r.Context()
	in, err := s.cfg.Store.GetIntegration(ctx, id, true) // secrets only to redact the message
	if err != nil {
		return nil, err
	}
	if !in.Enabled {
		return nil, errDisabled
	}
	s.recordIntegration(r, audittrail.IntegrationSynced, in, nil)
	err = s.cfg.Syncer.RunNow(context.WithoutCancel(ctx), id)
	switch {
	case err == nil:
		s.log.Info().Str("integration", id).Msg("sync now: cycle complete")
		return nil, nil
	case errors.Is(err, siemsync.ErrRunning), errors.Is(err, siemsync.ErrNotFound):
		return nil, err
	}
	cycleErr = errors.New(redact(err.Error(), in.Token, in.ClientKeyPEM))
	s.log.Info().Str("integration", id).Err(cycleErr).Msg("sync now: cycle failed")
	return cycleErr, nil
}

func (s *Server) apiSync(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Syncer == nil {
		s.notAvailable(w, "sync now")
		return
	}
	id := r.PathValue("id")
	cycleErr, err := s.runNow(r, id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	res := syncResult{OK: cycleErr == nil}
	if cycleErr != nil {
		res.Error = cycleErr.Error()
	}
	if res.Status, err = s.status(r.Context(), id); err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiSetAsideList(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.GetIntegration(r.Context(), id, false); err != nil {
		s.writeErr(w, r, err)
		return
	}
	list, err := s.cfg.Store.ListSetAside(r.Context(), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if list == nil {
		list = []store.SetAside{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"set_aside": list})
}

func (s *Server) apiSetAsideRetry(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Syncer == nil {
		s.notAvailable(w, "retrying set-aside events")
		return
	}
	id := r.PathValue("id")
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	delivered, remaining, err := s.cfg.Syncer.RetrySetAside(context.WithoutCancel(r.Context()), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.recordIntegration(r, audittrail.SetAsideRetried, in, map[string]any{"delivered": delivered, "remaining": remaining})
	s.log.Info().Str("integration", id).Int("delivered", delivered).Int("remaining", remaining).Msg("set-aside retry")
	writeJSON(w, http.StatusOK, map[string]int{"delivered": delivered, "remaining": remaining})
}

func (s *Server) apiSetAsideDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sid, err := strconv.ParseInt(r.PathValue("sid"), 10, 64)
	if err != nil || sid <= 0 {
		writeError(w, http.StatusNotFound, "not_found", "no such set-aside event", "")
		return
	}
	if n, err := s.dropSetAside(r, id, sid); err != nil || n == 0 {
		if err == nil {
			writeError(w, http.StatusNotFound, "not_found", "no such set-aside event", "")
			return
		}
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// metrics serves the Prometheus registry. Lag is refreshed from the store
// first, so it keeps growing between cycles of a stuck integration.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	m := s.cfg.Metrics
	if m == nil {
		writeError(w, http.StatusNotFound, "not_found", "metrics are not enabled", "")
		return
	}
	if list, err := s.cfg.Store.ListIntegrations(r.Context(), ""); err == nil {
		m.ForgetLag() // of deleted and disabled integrations
		for _, in := range list {
			if in.Enabled {
				m.SetLag(in.ID, in.Status.LagSeconds)
			}
		}
	}
	promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

// dropSetAside drops one set-aside event and records it when it was there.
func (s *Server) dropSetAside(r *http.Request, id string, sid int64) (int, error) {
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err != nil {
		return 0, err
	}
	n, err := s.cfg.Store.DeleteSetAside(r.Context(), id, []int64{sid})
	if err != nil || n == 0 {
		return n, err
	}
	s.log.Info().Str("integration", id).Int64("set_aside", sid).Msg("set-aside event dropped")
	s.recordIntegration(r, audittrail.SetAsideDropped, in, map[string]any{"set_aside_id": sid})
	return n, nil
}

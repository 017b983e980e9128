package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
)

// flash is a one-time message shown after a redirect (post/redirect/get).
// Steps is set for a connection test result.
type flash struct {
	Kind  string // ok, error or info
	Msg   string
	Steps []siemsync.Step
}

// flashStore keeps flashes per session in memory until the next page view.
type flashStore struct {
	mu sync.Mutex
	m  map[string][]flash
}

func newFlashStore() *flashStore { return &flashStore{m: map[string][]flash{}} }

func (f *flashStore) push(session string, fl flash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) > 1000 { // abandoned sessions: bound the memory
		clear(f.m)
	}
	if len(f.m[session]) < 10 {
		f.m[session] = append(f.m[session], fl)
	}
}

func (f *flashStore) pop(session string) []flash {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.m[session]
	delete(f.m, session)
	return fl
}

func (f *flashStore) drop(session string) { f.pop(session) }

func (s *Server) flash(se *session, kind, format string, args ...any) {
	s.flashes.push(se.nonce, flash{Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

func detailURL(id string) string { return "/integrations/" + id }

func (s *Server) toggleSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	enabled := r.PostFormValue("enabled") == "true"
	in, err := s.setEnabled(r, id, enabled)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", id).Bool("enabled", enabled).Str("via", "page").Msg("integration toggled")
	if enabled {
		s.flash(se, "ok", "%s is enabled: its first cycle starts within seconds.", in.Name)
	} else {
		s.flash(se, "info", "%s is disabled: it sends nothing and keeps its checkpoint.", in.Name)
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next"), "/"), http.StatusSeeOther)
}

func (s *Server) testSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	if s.cfg.Tester == nil {
		s.flash(se, "error", "Connection testing is not available in this process.")
		http.Redirect(w, r, detailURL(id), http.StatusSeeOther)
		return
	}
	res, err := s.runTest(r, id, r.PostFormValue("send_test_event") == "on")
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	fl := flash{Kind: "ok", Msg: "The connection works.", Steps: res.Steps}
	if !res.OK {
		fl.Kind, fl.Msg = "error", "The connection test failed."
	}
	s.flashes.push(se.nonce, fl)
	http.Redirect(w, r, detailURL(id)+"#test", http.StatusSeeOther)
}

func (s *Server) syncSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	next := safeNext(r.PostFormValue("next"), detailURL(id))
	if s.cfg.Syncer == nil {
		s.flash(se, "error", "Sync now is not available in this process.")
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	cycleErr, err := s.runNow(r, id)
	switch {
	case errors.Is(err, siemsync.ErrRunning):
		s.flash(se, "info", "A cycle is already running for this integration. Its result will show here when it ends.")
	case errors.Is(err, errDisabled):
		s.flash(se, "info", "This integration is disabled: enable it to sync.")
	case err != nil:
		s.pageErr(w, r, err)
		return
	case cycleErr != nil:
		s.flash(se, "error", "The cycle failed: %s", cycleErr.Error())
	default:
		s.flashSynced(r, se, id)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// flashSynced reports the cycle that just ended: events sent, set aside.
func (s *Server) flashSynced(r *http.Request, se *session, id string) {
	runs, err := s.cfg.Store.RecentRuns(r.Context(), id, 1)
	if err != nil || len(runs) == 0 {
		s.flash(se, "ok", "Sync complete.")
		return
	}
	run := runs[0]
	if run.SetAside > 0 {
		s.flash(se, "ok", "Sync complete: %s events sent; %d set aside because the destination rejected them (see Set-aside events).",
			fmtCount(run.Events), run.SetAside)
		return
	}
	s.flash(se, "ok", "Sync complete: %s events sent.", fmtCount(run.Events))
}

func (s *Server) setAsideRetrySubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	if s.cfg.Syncer == nil {
		s.flash(se, "error", "Retrying is not available in this process.")
		http.Redirect(w, r, detailURL(id)+"#setaside", http.StatusSeeOther)
		return
	}
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	delivered, remaining, err := s.cfg.Syncer.RetrySetAside(r.Context(), id)
	if err == nil {
		s.recordIntegration(r, audittrail.SetAsideRetried, in, map[string]any{"delivered": delivered, "remaining": remaining})
	}
	switch {
	case errors.Is(err, siemsync.ErrRunning):
		s.flash(se, "info", "A cycle is running for this integration. Retry when it ends.")
	case errIsNotFound(err):
		s.pageErr(w, r, err)
		return
	case err != nil:
		s.flash(se, "error", "Retry failed: %s", err.Error())
	case remaining > 0:
		s.flash(se, "error", "%d set-aside events delivered; %d were rejected again.", delivered, remaining)
	default:
		s.flash(se, "ok", "%d set-aside events delivered.", delivered)
	}
	http.Redirect(w, r, detailURL(id)+"#setaside", http.StatusSeeOther)
}

func (s *Server) setAsideDropSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	sid, err := strconv.ParseInt(r.PathValue("sid"), 10, 64)
	if err != nil {
		s.renderError(w, http.StatusNotFound, "Not found", "There is no such set-aside event.")
		return
	}
	n, err := s.dropSetAside(r, id, sid)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	if n == 0 {
		s.flash(se, "info", "That event was already dropped or delivered.")
	} else {
		s.flash(se, "ok", "Set-aside event dropped.")
	}
	http.Redirect(w, r, detailURL(id)+"#setaside", http.StatusSeeOther)
}

type deleteView struct {
	baseView
	Integration *siemsync.Integration
}

func (s *Server) deleteShow(w http.ResponseWriter, r *http.Request, se *session) {
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), false)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "delete", deleteView{baseView: s.base("Delete "+in.Name, se), Integration: s.view(in)})
}

func (s *Server) deleteSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err == nil {
		err = s.cfg.Store.DeleteIntegration(r.Context(), id)
	}
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", id).Str("via", "page").Msg("integration deleted")
	s.recordIntegration(r, audittrail.IntegrationDeleted, in, nil)
	s.flash(se, "ok", "%s was deleted.", in.Name)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// replaySubmit starts a replay from the detail page's form.
func (s *Server) replaySubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	if s.cfg.Replays == nil {
		s.flash(se, "error", "Replay is not available in this process.")
		http.Redirect(w, r, detailURL(id), http.StatusSeeOther)
		return
	}
	in, err := s.cfg.Store.GetIntegration(r.Context(), id, false)
	if err != nil {
		s.pageErr(w, r, err)
		return
	}
	since, until, err := replayWindow(strings.TrimSpace(r.PostFormValue("since")), strings.TrimSpace(r.PostFormValue("until")), s.now())
	if err == nil {
		_, err = s.cfg.Replays.Begin(r.Context(), in, since, until)
	}
	switch {
	case errors.Is(err, siemsync.ErrConflict):
		s.flash(se, "info", "A replay of this integration is already running.")
	case err != nil:
		s.flash(se, "error", "The replay did not start: %s", fieldMsg(err))
	default:
		s.log.Info().Str("integration", id).Time("since", since).Time("until", until).Str("via", "page").Msg("replay started")
		s.recordIntegration(r, audittrail.ReplayStarted, in, map[string]any{"since": since, "until": until})
		s.flash(se, "ok", "Replay started: the window is sent again beside the live sync.")
	}
	http.Redirect(w, r, detailURL(id), http.StatusSeeOther)
}

// replayCancelSubmit cancels the running replay.
func (s *Server) replayCancelSubmit(w http.ResponseWriter, r *http.Request, se *session) {
	id := r.PathValue("id")
	if s.cfg.Replays != nil {
		if err := s.cfg.Replays.Cancel(r.Context(), id); err != nil {
			s.flash(se, "info", "No replay was running.")
		} else {
			s.log.Info().Str("integration", id).Str("via", "page").Msg("replay cancelled")
			if in, err := s.cfg.Store.GetIntegration(r.Context(), id, false); err == nil {
				s.recordIntegration(r, audittrail.ReplayCancelled, in, nil)
			}
			s.flash(se, "ok", "Replay cancelled.")
		}
	}
	http.Redirect(w, r, detailURL(id), http.StatusSeeOther)
}

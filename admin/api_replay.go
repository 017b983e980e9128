package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/store"
)

// Replays starts, follows and cancels replays of a window of an
// integration's records (sync.Replays).
type Replays interface {
	Begin(ctx context.Context, in *siemsync.Integration, since, until time.Time) (store.Replay, error)
	Get(ctx context.Context, id string) (store.ReplayStatus, error)
	Cancel(ctx context.Context, id string) error
}

// replayInput is the body of POST /integrations/{id}/replay.
type replayInput struct {
	Since *string `json:"since"`
	Until *string `json:"until"`
}

// window checks the replay window: since required, until at most now
// (default now), since before until.
func replayWindow(since, until string, now time.Time) (time.Time, time.Time, error) {
	var s, u time.Time
	if since == "" {
		return s, u, siemsync.Invalid("since", "is required: the start of the window to send again, e.g. 2026-11-20T00:00:00Z")
	}
	s, err := parseFormTimeOnly(since)
	if err != nil {
		return s, u, siemsync.Invalid("since", "must be an RFC 3339 time, e.g. 2026-11-20T00:00:00Z")
	}
	u = now
	if until != "" {
		if u, err = parseFormTimeOnly(until); err != nil {
			return s, u, siemsync.Invalid("until", "must be an RFC 3339 time, e.g. 2026-11-21T00:00:00Z")
		}
		if u.After(now) {
			u = now // what has not happened yet is sent live
		}
	}
	if !s.Before(u) {
		return s, u, siemsync.Invalid("since", "must be before until (and in the past)")
	}
	return s.UTC(), u.UTC(), nil
}

// parseFormTimeOnly reads RFC 3339, or a datetime-local value taken as UTC.
func parseFormTimeOnly(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339, v)
}

func (s *Server) replays(w http.ResponseWriter) bool {
	if s.cfg.Replays == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "replay is not available in this process", "")
		return false
	}
	return true
}

// apiReplayStart answers POST /integrations/{id}/replay: 202 with the
// replay's status; 409 while one runs.
func (s *Server) apiReplayStart(w http.ResponseWriter, r *http.Request) {
	if !s.replays(w) {
		return
	}
	var body replayInput
	if err := decodeJSON(w, r, &body); err != nil {
		s.writeErr(w, r, err)
		return
	}
	var since, until string
	if body.Since != nil {
		since = *body.Since
	}
	if body.Until != nil {
		until = *body.Until
	}
	from, to, err := replayWindow(since, until, s.now())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), false)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if _, err := s.cfg.Replays.Begin(r.Context(), in, from, to); err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", in.ID).Time("since", from).Time("until", to).Str("via", "api").Msg("replay started")
	s.recordIntegration(r, audittrail.ReplayStarted, in, map[string]any{"since": from, "until": to})
	st, err := s.cfg.Replays.Get(r.Context(), in.ID)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

// apiReplayGet answers GET /integrations/{id}/replay: the current or last
// replay with sent, total, rate and ETA; 404 when there was none.
func (s *Server) apiReplayGet(w http.ResponseWriter, r *http.Request) {
	if !s.replays(w) {
		return
	}
	st, err := s.cfg.Replays.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// apiReplayCancel answers DELETE /integrations/{id}/replay.
func (s *Server) apiReplayCancel(w http.ResponseWriter, r *http.Request) {
	if !s.replays(w) {
		return
	}
	id := r.PathValue("id")
	if err := s.cfg.Replays.Cancel(r.Context(), id); err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("integration", id).Str("via", "api").Msg("replay cancelled")
	if in, err := s.cfg.Store.GetIntegration(r.Context(), id, false); err == nil {
		s.recordIntegration(r, audittrail.ReplayCancelled, in, nil)
	}
	st, err := s.cfg.Replays.Get(r.Context(), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

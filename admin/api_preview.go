package admin

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/siemsync/siemsync"
)

// Previewer shows the exact bytes an integration would send next, without
// sending anything or moving a checkpoint. in has its secrets loaded (a
// sink is opened, never used to send); saved says whether in is stored
// (preview from its checkpoints) or a form's unsaved settings (preview from
// where it would start if created now).
type Previewer interface {
	Preview(ctx context.Context, in *siemsync.Integration, saved bool, limit int) (siemsync.Preview, error)
}

// Preview sizes: the API's default, and the page's.
const (
	DefaultPreviewLimit = 10
	pagePreviewLimit    = 20
)

// Response headers of a preview; the body is the wire bytes themselves.
const (
	headerPreviewEvents = "Siemsync-Preview-Events"
	headerPreviewMore   = "Siemsync-Preview-More"
	headerPreviewUpload = "Siemsync-Preview-Upload-Time"
)

// apiPreview answers GET /integrations/{id}/preview?limit=N.
func (s *Server) apiPreview(w http.ResponseWriter, r *http.Request) {
	limit, err := previewLimit(r.URL.Query().Get("limit"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	in, err := s.cfg.Store.GetIntegration(r.Context(), r.PathValue("id"), true)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writePreview(w, r, in, true, limit)
}

// apiPreviewUnsaved answers POST /integrations/preview with an integration
// body that is not stored: what it would send if it were created now. The
// token is not needed (nothing is sent).
func (s *Server) apiPreviewUnsaved(w http.ResponseWriter, r *http.Request) {
	limit, err := previewLimit(r.URL.Query().Get("limit"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	// Scoped as a create: an account key previews its own account only.
	draft := siemsync.NewIntegration()
	draft.TokenSet = true
	in, err := s.newIntegrationFrom(w, r, draft)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writePreview(w, r, in, false, limit)
}

func (s *Server) writePreview(w http.ResponseWriter, r *http.Request, in *siemsync.Integration, saved bool, limit int) {
	if s.cfg.Preview == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "preview is not available in this process", "")
		return
	}
	p, err := s.cfg.Preview.Preview(r.Context(), in, saved, limit)
	if err != nil {
		s.writeErr(w, r, accountErr(err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set(headerPreviewEvents, strconv.Itoa(p.Events))
	h.Set(headerPreviewMore, strconv.FormatBool(p.More))
	if !p.UploadTime.IsZero() {
		h.Set(headerPreviewUpload, p.UploadTime.UTC().Format(time.RFC3339Nano))
	}
	w.WriteHeader(http.StatusOK)
	w.Write(redactToken(p.Body, in.Token)) //nolint:errcheck // the client went away
}

func previewLimit(v string) (int, error) {
	if v == "" {
		return DefaultPreviewLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, siemsync.Invalid("limit", "must be a whole number of events")
	}
	return n, nil // the previewer checks the range
}

// redactToken is a last guard: the encoders never write the token, but a
// record could quote it, and a preview must never show it.
func redactToken(b []byte, token string) []byte {
	if len(strings.TrimSpace(token)) < 4 || !bytes.Contains(b, []byte(token)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(token), []byte("[token]"))
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// limitedReader remembers that the body hit its size limit, so an oversize
// body is a 413 even when the ingester wraps the read error in its own.
type limitedReader struct {
	r   io.Reader
	hit bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if _, ok := err.(*http.MaxBytesError); ok {
		l.hit = true
	}
	return n, err
}

type ingestFunc func(ctx context.Context, r io.Reader, account string) (store.IngestResult, error)

func (s *Server) apiIngestAudit(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ingest == nil {
		s.notAvailable(w, "ingest")
		return
	}
	s.ingest(w, r, "audit", s.cfg.Ingest.Audit)
}

func (s *Server) apiIngestJobs(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ingest == nil {
		s.notAvailable(w, "ingest")
		return
	}
	s.ingest(w, r, "jobs", s.cfg.Ingest.Jobs)
}

// ingest loads an NDJSON body, all or nothing, with the same rules as the
// ingest command. Every record must belong to the account of the URL.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, kind string, f ingestFunc) {
	account := siemsync.CanonicalID(r.PathValue("account"))
	if !siemsync.ValidUUID(account) {
		s.writeErr(w, r, siemsync.Invalid("account", "in the URL must be the account's UUID"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
			// curl -d strips newlines, which would glue the records together.
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
				"send NDJSON with Content-Type: application/x-ndjson (curl --data-binary @file.ndjson)", "")
			return
		}
	}
	body := &limitedReader{r: http.MaxBytesReader(w, r.Body, MaxNDJSONBody)}
	file, err := spool(r.Context(), w, body, s.cfg.SpoolDir, s.ingestTimeout)
	if body.hit {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "request body is larger than 64 MiB: split the file", "")
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		writeError(w, http.StatusRequestTimeout, "timeout",
			fmt.Sprintf("the request body took longer than %s to arrive: send it in smaller files", s.ingestTimeout), "")
		return
	}
	if err != nil {
		s.writeErr(w, r, fmt.Errorf("read the request body: %w", err))
		return
	}
	defer file.Close()
	select {
	case s.ingestTurns <- struct{}{}:
		defer func() { <-s.ingestTurns }()
	case <-r.Context().Done():
		return // the client is gone: nothing was stored
	}
	res, err := f(r.Context(), file, account)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.log.Info().Str("account", account).Str("source", kind).Int("lines", res.Lines).
		Int("stored", res.Stored).Int("duplicates", res.Duplicates).Msg("ingest")
	writeJSON(w, http.StatusOK, res)
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// DefaultIngestBodyTimeout bounds how long an ingest body may take to
// arrive: 64 MiB at half a megabyte a second.
const DefaultIngestBodyTimeout = 2 * time.Minute

// DefaultIngestConcurrency bounds the ingests loading at once. Each holds
// up to three batches of parsed records in memory (about 12 MiB at most),
// and on SQLite they take turns at the one writer anyway; bodies that wait
// are on disk.
const DefaultIngestConcurrency = 4

// spool copies an ingest body to a temporary file (mode 0600, in dir or
// the system's temp directory) before the store is involved: the store has
// one writer, and a client trickling its body must not hold it while every
// cycle's commit and every edit waits. The read is bounded in size by the
// caller's MaxBytesReader and in time by deadline. The caller closes the
// file; closing removes it.
func spool(ctx context.Context, w http.ResponseWriter, body io.Reader, dir string, deadline time.Duration) (*spooled, error) {
	// The server's ReadTimeout is for ordinary requests; an ingest body gets
	// its own, longer bound (an error here means the connection cannot
	// take a deadline, as in tests that call the handler directly).
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(deadline))
	f, err := os.CreateTemp(dir, "siemsync-ingest-*.ndjson")
	if err != nil {
		return nil, fmt.Errorf("spool the request body: %w", err)
	}
	s := &spooled{File: f}
	if _, err := io.Copy(f, readerCtx{ctx, body}); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.Close()
		return nil, fmt.Errorf("spool the request body: %w", err)
	}
	return s, nil
}

// spooled is a spooled body; Close removes its file.
type spooled struct{ *os.File }

func (s *spooled) Close() error {
	return errors.Join(s.File.Close(), os.Remove(s.Name()))
}

// readerCtx stops a copy when the request is cancelled.
type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

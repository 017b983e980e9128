package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/siemsync/siemsync"
)

// apiError is the body of every API error.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg, Field: field}})
}

// writeErr maps an error to a status and an error body: bad input 400 (or
// 413 for an oversize body), not found 404, conflict and running 409.
// Anything else is logged and answered with a bare 500.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var fe *siemsync.FieldError
	var mbe *http.MaxBytesError
	var uf *unknownFieldError
	switch {
	case errors.As(err, &uf):
		writeError(w, http.StatusBadRequest, "unknown_field", fmt.Sprintf("unknown field %q", uf.name), uf.name)
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body is larger than %d bytes", mbe.Limit), "")
	case errors.As(err, &fe):
		status, code := http.StatusBadRequest, "invalid"
		if errors.Is(err, siemsync.ErrConflict) {
			status, code = http.StatusConflict, "conflict"
		}
		msg := fe.Msg
		if fe.Field != "" {
			msg = fe.Field + " " + fe.Msg
		}
		if fe.Line > 0 {
			msg = fmt.Sprintf("line %d: %s", fe.Line, msg)
		}
		writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg, Field: fe.Field, Line: fe.Line}})
	case isForbidden(err):
		writeError(w, http.StatusForbidden, "forbidden", err.Error(), "")
	case errors.Is(err, errNoAccount):
		writeError(w, http.StatusNotFound, "not_found", "no such account", "")
	case errors.Is(err, siemsync.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such integration", "")
	case errors.Is(err, errDisabled):
		writeError(w, http.StatusConflict, "disabled", err.Error(), "")
	case errors.Is(err, siemsync.ErrRunning):
		writeError(w, http.StatusConflict, "running", "a cycle is already running for this integration; try again when it ends", "")
	case errors.Is(err, siemsync.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error(), "")
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		writeError(w, http.StatusServiceUnavailable, "canceled", "request canceled", "")
	default:
		s.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("api request")
		writeError(w, http.StatusInternalServerError, "internal", "internal error; see the server log", "")
	}
}

// decodeJSON reads one JSON object into v, strictly: unknown fields, wrong
// types, trailing data and oversize bodies are errors that name the problem.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxJSONBody)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &siemsync.FieldError{Msg: "request body is empty: send a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &siemsync.FieldError{Msg: "request body holds more than one JSON value"}
	}
	return nil
}

// jsonError turns an encoding/json error into a FieldError a client can act on.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &siemsync.FieldError{Msg: fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &siemsync.FieldError{Msg: "malformed JSON: the body ends early"}
	case errors.As(err, &te):
		if te.Field == "" {
			return &siemsync.FieldError{Msg: "request body must be a JSON object"}
		}
		return &siemsync.FieldError{Field: te.Field, Msg: "must be " + jsonKind(te.Type.Kind().String()) + ", not " + te.Value}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &unknownFieldError{name}
	}
	var fe *siemsync.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return &siemsync.FieldError{Msg: "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
}

type unknownFieldError struct{ name string }

func (e *unknownFieldError) Error() string { return "unknown field " + e.name }

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "float64":
		return "a number"
	case "slice":
		return "an array"
	case "ptr", "struct", "map":
		return "an object"
	}
	return "of another type"
}

// apiRoutes serves /api/v1 (the prefix is stripped). Every route needs the
// bearer token except /healthz.
func (s *Server) apiRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	// Operator only (SPEC §7.1): an account key gets 403.
	mux.HandleFunc("GET /metrics", s.operator(s.metrics))
	mux.HandleFunc("GET /accounts", s.operator(s.apiAccounts))
	mux.HandleFunc("PATCH /accounts/{account}", s.operator(s.apiAccountPatch))
	mux.HandleFunc("POST /accounts/{account}/audit", s.operator(s.apiIngestAudit))
	mux.HandleFunc("POST /accounts/{account}/jobs", s.operator(s.apiIngestJobs))
	mux.HandleFunc("GET /accounts/{account}/keys", s.operator(s.apiKeyList))
	mux.HandleFunc("POST /accounts/{account}/keys", s.operator(s.apiKeyCreate))
	mux.HandleFunc("DELETE /accounts/{account}/keys/{kid}", s.operator(s.apiKeyRevoke))

	// The admin, or an account key for its own account.
	mux.HandleFunc("GET /accounts/{account}", s.apiAccount)
	mux.HandleFunc("GET /egress", s.apiEgress)
	mux.HandleFunc("GET /integrations", s.apiList)
	mux.HandleFunc("POST /integrations", s.apiCreate)
	mux.HandleFunc("POST /integrations/test", s.apiTestUnsaved)
	mux.HandleFunc("GET /integrations/{id}", s.owned(s.apiGet))
	mux.HandleFunc("PATCH /integrations/{id}", s.owned(s.apiPatch))
	mux.HandleFunc("DELETE /integrations/{id}", s.owned(s.apiDelete))
	mux.HandleFunc("PUT /integrations/{id}/enabled", s.owned(s.apiEnabled))
	mux.HandleFunc("POST /integrations/{id}/test", s.owned(s.apiTest))
	mux.HandleFunc("GET /integrations/{id}/status", s.owned(s.apiStatus))
	mux.HandleFunc("POST /integrations/{id}/sync", s.owned(s.apiSync))
	mux.HandleFunc("GET /integrations/{id}/setaside", s.owned(s.apiSetAsideList))
	mux.HandleFunc("POST /integrations/{id}/setaside/retry", s.owned(s.apiSetAsideRetry))
	mux.HandleFunc("DELETE /integrations/{id}/setaside/{sid}", s.owned(s.apiSetAsideDelete))
	mux.HandleFunc("GET /integrations/{id}/preview", s.owned(s.apiPreview))
	mux.HandleFunc("POST /integrations/preview", s.apiPreviewUnsaved)
	mux.HandleFunc("POST /integrations/{id}/replay", s.owned(s.apiReplayStart))
	mux.HandleFunc("GET /integrations/{id}/replay", s.owned(s.apiReplayGet))
	mux.HandleFunc("DELETE /integrations/{id}/replay", s.owned(s.apiReplayCancel))

	authed := s.bearer(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			// Not found or method not allowed: answer in JSON, not text.
			rec := &headerRecorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			if allow := rec.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			if rec.code == http.StatusMethodNotAllowed {
				writeError(w, rec.code, "method_not_allowed", r.Method+" is not allowed here", "")
				return
			}
			writeError(w, http.StatusNotFound, "not_found", "no such endpoint: see /api/v1 in the README", "")
			return
		}
		if pattern == "GET /healthz" {
			h.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// headerRecorder captures the status and headers of the mux's own not-found
// and method-not-allowed handlers, so the API can answer them in JSON.
type headerRecorder struct {
	header http.Header
	code   int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.code = code }

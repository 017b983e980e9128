package hecrecv

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// reply writes a HEC JSON answer. extra is appended inside the object.
func reply(w http.ResponseWriter, status, code int, text string, extra ...string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	b := make([]byte, 0, 64)
	b = append(b, `{"text":`...)
	b = strconv.AppendQuote(b, text)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	for _, e := range extra {
		b = append(b, ',')
		b = append(b, e...)
	}
	b = append(b, '}')
	w.Write(b) //nolint:errcheck // the client went away; nothing to do
}

func invalidEvent(i int) string { return `"invalid-event-number":` + strconv.Itoa(i) }

// hecError is a refusal: HTTP status, HEC code, text and the index of the
// event at fault (-1 for none).
type hecError struct {
	status, code int
	text         string
	event        int
}

func (e *hecError) write(w http.ResponseWriter) {
	if e.event >= 0 {
		reply(w, e.status, e.code, e.text, invalidEvent(e.event))
		return
	}
	reply(w, e.status, e.code, e.text)
}

var (
	errTokenRequired  = &hecError{http.StatusUnauthorized, 2, "Token is required", -1}
	errInvalidAuth    = &hecError{http.StatusUnauthorized, 3, "Invalid authorization", -1}
	errTokenDisabled  = &hecError{http.StatusForbidden, 1, "Token disabled", -1}
	errInvalidToken   = &hecError{http.StatusForbidden, 4, "Invalid token", -1}
	errQueryAuth      = &hecError{http.StatusBadRequest, 16, "Query string authorization is not enabled", -1}
	errNoData         = &hecError{http.StatusBadRequest, 5, "No data", -1}
	errChannelMissing = &hecError{http.StatusBadRequest, 10, "Data channel is missing", -1}
	errChannelInvalid = &hecError{http.StatusBadRequest, 11, "Invalid data channel", -1}
	errAckDisabled    = &hecError{http.StatusBadRequest, 14, "ACK is disabled", -1}
)

// token extracts and checks the request's token, as Splunk does: the
// `Splunk <token>` header, or Basic auth with the token as password.
func (r *Receiver) token(req *http.Request) (string, *hecError) {
	if req.URL.Query().Has("token") {
		// Query-string auth is off by default on a Splunk token.
		return "", errQueryAuth
	}
	h := req.Header.Get("Authorization")
	if h == "" {
		return "", errTokenRequired
	}
	var tok string
	scheme, rest, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Splunk"):
		tok = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return "", errInvalidAuth
		}
		_, tok, _ = strings.Cut(string(b), ":")
	default:
		return "", errInvalidAuth
	}
	switch {
	case tok == "":
		return "", errInvalidAuth
	case r.disabled[tok]:
		return "", errTokenDisabled
	case len(r.tokens) > 0 && !r.tokens[tok]:
		return "", errInvalidToken
	}
	return tok, nil
}

// channelOf returns the request's channel (header or query parameter) and
// checks it against the ack rules.
func (r *Receiver) channelOf(req *http.Request, required bool) (string, *hecError) {
	ch := req.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = req.URL.Query().Get("channel")
	}
	if ch == "" {
		if required {
			return "", errChannelMissing
		}
		return "", nil
	}
	if _, err := uuid.Parse(ch); err != nil || len(ch) != 36 {
		return "", errChannelInvalid
	}
	return ch, nil
}

func (r *Receiver) serveHealth(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, 405, "Method not allowed")
		return
	}
	// The health endpoint is open; a token, when sent, is checked and
	// answered with the health-probe codes 21 and 22.
	if req.Header.Get("Authorization") != "" {
		if _, e := r.token(req); e != nil {
			switch e.code {
			case 1:
				reply(w, http.StatusBadRequest, 22, "Token disabled")
				return
			case 3, 4:
				reply(w, http.StatusBadRequest, 21, "Invalid token")
				return
			}
		}
	}
	reply(w, http.StatusOK, 17, "HEC is healthy")
}

package hecrecv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// injectFault applies the per-request faults and reports whether it has
// answered the request.
func (r *Receiver) injectFault(w http.ResponseWriter, req *http.Request) bool {
	r.mu.Lock()
	f := r.fault
	fail := f.FailRatio > 0 && r.rng.Float64() < f.FailRatio
	if f.Jitter > 0 {
		f.Delay += time.Duration(r.rng.Int64N(int64(f.Jitter)))
	}
	r.mu.Unlock()

	if f.Delay > 0 {
		// Read the body first: net/http notices a client that hangs up
		// (and cancels the request's context) only once the body has been
		// read, so without this a sender that gave up would still have its
		// batch kept.
		body, err := io.ReadAll(io.LimitReader(req.Body, int64(r.opts.MaxContentLength)+1))
		if err != nil {
			return true
		}
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), req.Body))
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.ResetConn {
		resetConn(w)
		return true
	}
	if f.RetryAfter != "" && (fail || f.Status != 0) {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if fail {
		reply(w, http.StatusServiceUnavailable, 9, "Server is busy")
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.Body != "" {
		ct := "text/plain; charset=utf-8"
		if strings.HasPrefix(strings.TrimSpace(f.Body), "<") {
			ct = "text/html; charset=utf-8"
		} else if json.Valid([]byte(f.Body)) {
			ct = "application/json; charset=UTF-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body) //nolint:errcheck // the client went away
		return true
	}
	code, text := f.Code, http.StatusText(f.Status)
	if code == 0 {
		code, text = defaultCode(f.Status)
	} else if t, ok := codeText[code]; ok {
		text = t
	}
	if code < 0 {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"text":%q}`, text)
		return true
	}
	reply(w, f.Status, code, text)
	return true
}

// codeText is Splunk's text for each HEC code (hec.md §2).
var codeText = map[int]string{
	0: "Success", 1: "Token disabled", 2: "Token is required", 3: "Invalid authorization",
	4: "Invalid token", 5: "No data", 6: "Invalid data format", 7: "Incorrect index",
	8: "Internal server error", 9: "Server is busy", 10: "Data channel is missing",
	11: "Invalid data channel", 12: "Event field is required", 13: "Event field cannot be blank",
	14: "ACK is disabled", 15: "Error in handling indexed fields",
	16: "Query string authorization is not enabled", 17: "HEC is healthy",
	18: "HEC is unhealthy, queues are full", 19: "HEC is unhealthy, ack service unavailable",
	20: "HEC is unhealthy, queues are full, ack service unavailable",
	21: "Invalid token", 22: "Token disabled", 23: "Server is shutting down",
	24: "HEC queue is approaching its capacity limit", 25: "HEC ACK is approaching its capacity limit",
	26: "HEC queue is at capacity", 27: "HEC ACK channel is at capacity",
}

// defaultCode is the HEC code Splunk pairs with an HTTP status; -1 when it
// sends none.
func defaultCode(status int) (int, string) {
	code := -1
	switch status {
	case http.StatusOK:
		code = 0
	case http.StatusInternalServerError:
		code = 8
	case http.StatusServiceUnavailable:
		code = 9
	case http.StatusTooManyRequests:
		code = 26
	case http.StatusUnauthorized:
		code = 2
	case http.StatusForbidden:
		code = 4
	case http.StatusBadRequest:
		code = 6
	}
	if t, ok := codeText[code]; ok {
		return code, t
	}
	return code, http.StatusText(status)
}

// resetConn aborts the connection with a TCP reset and no answer.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // best effort: a close is a fault too
	}
	conn.Close()
}

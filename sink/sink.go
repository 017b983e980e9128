// Package sink holds what every destination shares: the classification of a
// failed send. The destinations themselves live in sink/hec and sink/syslog.
//
// A sink turns events into wire bytes (Append) and delivers a batch of them
// in one attempt (Send). Send returns nil when the destination accepted the
// whole batch, or an *Error whose Class tells the sync cycle what to do:
// back off and retry, split the batch, set one event aside, or stop and ask
// the admin to fix the configuration.
package sink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Class says how the sync cycle must react to a failed send.
type Class int

// Classes of failure.
const (
	// Retry is transient (5xx, 429, busy, network error, timeout, missing
	// ack): back off and send the same batch again within the cycle's budget.
	Retry Class = iota + 1
	// TooLarge means the request body was too large (HTTP 413): split the
	// batch in halves and send each; a single event that is still too large
	// is set aside.
	TooLarge
	// BadEvent means the destination rejected the data of one event (HEC
	// codes 6, 12, 13, 15). Index names it when the destination said which
	// (invalid-event-number), else it is -1 and the cycle bisects.
	BadEvent
	// Config means the destination refuses the integration itself (token,
	// index, channel, certificate): stop the cycle and tell the admin.
	Config
)

func (c Class) String() string {
	switch c {
	case Retry:
		return "retry"
	case TooLarge:
		return "too_large"
	case BadEvent:
		return "bad_event"
	case Config:
		return "config"
	}
	return "unknown"
}

// Error is a failed send. Msg is written for the admin who must act on it
// and never contains a secret.
type Error struct {
	Class      Class
	Index      int           // BadEvent: index of the rejected event in the batch, -1 if unknown
	RetryAfter time.Duration // Retry: the destination's Retry-After, 0 if none
	Status     int           // HTTP status, 0 when not HTTP
	Code       int           // HEC code, -1 when the answer had none
	Msg        string
	Err        error // underlying transport error, if any
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Msg, e.Err)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Reason is a short label for metrics and logs: the class, refined by the
// HEC code or HTTP status when known. The destination chooses those
// numbers, so only the ones HEC and HTTP define are labels of their own;
// any other is "other", which keeps the metric's label set bounded.
func (e *Error) Reason() string {
	switch {
	case e.Code > 0 && e.Code <= maxHECCode:
		return fmt.Sprintf("%s_code_%d", e.Class, e.Code)
	case e.Code > 0:
		return e.Class.String() + "_code_other"
	case e.Status > 0 && http.StatusText(e.Status) != "":
		return fmt.Sprintf("%s_http_%d", e.Class, e.Status)
	case e.Status > 0:
		return e.Class.String() + "_http_other"
	}
	return e.Class.String()
}

// maxHECCode is the highest code Splunk's HTTP Event Collector documents
// (27: "Token is being used by another client").
const maxHECCode = 27

// ClassOf returns the class of err, or Retry for errors that are not an
// *Error (a network error not classified by the sink is worth a retry).
func ClassOf(err error) Class {
	var se *Error
	if errors.As(err, &se) {
		return se.Class
	}
	return Retry
}

// Wire is one batch already in the form it goes on the wire (for HEC:
// gzip-compressed), made once before the first attempt. Keeping the wire
// form instead of the batch's uncompressed body while a request is in
// flight keeps a window of requests to a fraction of the memory, and every
// retry sends the same bytes.
type Wire interface {
	// Send makes one attempt to deliver the batch, like a sink's Send.
	Send(ctx context.Context, events int) error
	// Body returns the uncompressed body again, for a batch that must be
	// split (a 413, a bad event).
	Body() ([]byte, error)
	// Release gives the wire form's buffer back.
	Release()
}

package hec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/siemsync/siemsync/sink"
)

// maxRetryAfter caps a Retry-After so a confused server cannot park an
// integration for days; the sync cycle's retry budget caps it further.
const maxRetryAfter = time.Hour

// answer is a parsed HEC response.
type answer struct {
	status       int
	json         bool   // the body was a JSON object
	code         int    // HEC code, -1 when none
	text         string // HEC text, or a cleaned-up excerpt of a non-JSON body
	invalidEvent int    // invalid-event-number, -1 when none
	ackID        int64  // ackId, -1 when none
	acks         map[string]bool
	retryAfter   time.Duration
	location     string
}

func (a answer) acked(id int64) bool {
	return a.acks[strconv.FormatInt(id, 10)]
}

// parseResponse reads a HEC answer. It accepts what HEC and HEC-compatible
// receivers send: Splunk's JSON object, a bare "OK" or JSON string (the
// OpenTelemetry receiver), an empty body, or a load balancer's HTML page.
func parseResponse(status int, body []byte) answer {
	a := answer{status: status, code: -1, invalidEvent: -1, ackID: -1}
	body = bytes.TrimSpace(body)
	if bytes.Equal(body, success) { // most answers: no decoder needed
		a.json, a.text, a.code = true, "Success", 0
		return a
	}
	if len(body) > 0 && body[0] == '{' {
		var v struct {
			Text         *string         `json:"text"`
			Code         json.Number     `json:"code"`
			InvalidEvent json.Number     `json:"invalid-event-number"`
			AckID        json.Number     `json:"ackId"`
			Acks         map[string]bool `json:"acks"`
		}
		if json.Unmarshal(body, &v) == nil {
			a.json = true
			if v.Text != nil {
				a.text = *v.Text
			}
			a.code = number(v.Code, -1)
			a.invalidEvent = number(v.InvalidEvent, -1)
			a.ackID = int64(number(v.AckID, -1))
			a.acks = v.Acks
			return a
		}
	}
	a.text = excerpt(body)
	return a
}

// success is Splunk's answer to a batch it took, without acks.
var success = []byte(`{"text":"Success","code":0}`)

// number reads a non-negative integer that may have been written as 4,
// 4.0 or "4"; def when absent or not one.
func number(n json.Number, def int) int {
	if n == "" {
		return def
	}
	if i, err := n.Int64(); err == nil && i >= 0 && i <= 1<<31 {
		return int(i)
	}
	if f, err := n.Float64(); err == nil && f >= 0 && f <= 1<<31 && f == float64(int(f)) {
		return int(f)
	}
	return def
}

// excerpt turns a non-JSON body into one short line for a message: tags
// dropped, whitespace collapsed, at most 200 bytes, valid UTF-8.
func excerpt(body []byte) string {
	var b strings.Builder
	inTag, space := false, false
	for _, r := range strings.ToValidUTF8(string(body), "\uFFFD") {
		switch {
		case r == '<':
			inTag = true
			continue
		case r == '>' && inTag:
			inTag = false
			space = true
			continue
		case inTag:
			continue
		case r == ' ' || r == '\n' || r == '\r' || r == '\t':
			space = true
			continue
		case r < 0x20 || r == 0x7f:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		if b.Len() >= 200 {
			s := b.String()
			for len(s) > 200 || !utf8.ValidString(s) {
				s = s[:len(s)-1]
			}
			return s + "…"
		}
	}
	return b.String()
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// Configuration codes: the destination refuses the integration itself.
var configMsg = map[int]string{
	1:  "the HEC token is disabled in Splunk (code 1, Token disabled): enable it in Splunk (Settings > Data inputs > HTTP Event Collector) or use another token",
	2:  "Splunk received no HEC token (code 2, Token is required): set the token in the integration settings",
	3:  "Splunk could not read the authorization (code 3, Invalid authorization): check the token in the integration settings, and that no proxy rewrites the Authorization header",
	4:  "Splunk rejected the HEC token (code 4, Invalid token): check the token in the integration settings",
	10: "this HEC token requires indexer acknowledgement (code 10, Data channel is missing): turn on ack for the integration",
	11: "Splunk refused the data channel (code 11, Invalid data channel): check that nothing between siemsync and Splunk rewrites the X-Splunk-Request-Channel header",
	14: "ack is on for this integration but disabled on the token (code 14, ACK is disabled): turn ack off or enable indexer acknowledgement (useACK) on the token in Splunk",
	16: "Splunk refused query-string authorization (code 16): remove token= from the URL; siemsync sends the token in the Authorization header",
	21: "Splunk rejected the HEC token (code 21, Invalid token): check the token in the integration settings",
	22: "the HEC token is disabled in Splunk (code 22, Token disabled): enable it in Splunk (Settings > Data inputs > HTTP Event Collector) or use another token",
}

// Transient codes: back off and send again.
var retryMsg = map[int]string{
	8:  "Splunk had an internal error (code 8)",
	9:  "Splunk is busy (code 9, Server is busy)",
	18: "Splunk HEC is unhealthy: queues are full (code 18)",
	19: "Splunk HEC is unhealthy: ack service unavailable (code 19)",
	20: "Splunk HEC is unhealthy: queues are full, ack service unavailable (code 20)",
	23: "Splunk is shutting down (code 23)",
	26: "Splunk's HEC queue is at capacity (code 26)",
	27: "Splunk's HEC ack channel is at capacity (code 27)",
}

// classify turns an answer into nil (delivered) or a *sink.Error: by HEC
// code first, by HTTP status when the code says nothing we know
// (hec.md §2, §9.4).
func (s *Sink) classify(a answer, events int) *sink.Error {
	if a.status/100 == 2 {
		if a.code == 24 || a.code == 25 {
			// Accepted, but Splunk warns that it is nearly full.
			s.log.Warn().Str("integration", s.in.ID).Int("code", a.code).Str("text", a.text).Msg("Splunk HEC accepted the batch but is approaching capacity")
		}
		return nil
	}
	e := &sink.Error{Status: a.status, Code: a.code, Index: -1}
	switch c := a.code; {
	case configMsg[c] != "":
		e.Class, e.Msg = sink.Config, configMsg[c]
	case c == 7:
		e.Class = sink.Config
		if s.in.Index != "" {
			e.Msg = fmt.Sprintf("Splunk refused index %q (code 7, Incorrect index): add it to the token's allowed indexes or clear the index field", s.in.Index)
		} else {
			e.Msg = "Splunk refused the token's default index (code 7, Incorrect index): set the token's default index in Splunk, or set an allowed index in the integration"
		}
	case retryMsg[c] != "":
		e.Class, e.Msg, e.RetryAfter = sink.Retry, retryMsg[c], a.retryAfter
	case c == 6 || c == 12 || c == 13 || c == 15:
		e.Class = sink.BadEvent
		if a.invalidEvent >= 0 && (events <= 0 || a.invalidEvent < events) {
			e.Index = a.invalidEvent
			e.Msg = fmt.Sprintf("Splunk rejected event %d of the batch (code %d, %s)", a.invalidEvent, c, short(a.text))
		} else {
			e.Msg = fmt.Sprintf("Splunk rejected an event of the batch (code %d, %s)", c, short(a.text))
		}
	case c == 5:
		e.Class, e.Msg = sink.BadEvent, "Splunk received no data (code 5, No data)"
	default:
		s.classifyStatus(a, e)
	}
	e.Msg = s.redact(e.Msg)
	return e
}

func (s *Sink) classifyStatus(a answer, e *sink.Error) {
	st := a.status
	detail := s.detail(a)
	switch {
	case st == http.StatusRequestEntityTooLarge:
		e.Class = sink.TooLarge
		e.Msg = "Splunk refused the request as too large (HTTP 413, max_content_length): the batch will be split"
	case st == http.StatusTooManyRequests || st == http.StatusRequestTimeout || st == http.StatusTooEarly || st >= 500:
		e.Class, e.RetryAfter = sink.Retry, a.retryAfter
		e.Msg = fmt.Sprintf("HEC server answered HTTP %d%s", st, detail)
	case st == http.StatusNotFound:
		e.Class = sink.Config
		e.Msg = fmt.Sprintf("no HEC endpoint at this URL (HTTP 404 from %s): check the URL (https://splunk.example.com:8088 or …/services/collector/event)", s.eventURL)
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		e.Class = sink.Config
		e.Msg = fmt.Sprintf("the HEC server refused the token (HTTP %d%s): check the token in the integration settings", st, detail)
	case st == http.StatusUnsupportedMediaType && s.in.Gzip:
		e.Class = sink.Config
		e.Msg = fmt.Sprintf("the HEC server does not accept gzip-compressed bodies (HTTP 415%s): turn gzip off for this integration", detail)
	case st >= 300 && st < 400:
		e.Class = sink.Config
		to := "another address"
		if a.location != "" {
			to = excerpt([]byte(a.location))
		}
		e.Msg = fmt.Sprintf("the HEC URL redirects (HTTP %d) to %s: put the final URL in the integration", st, to)
	case st >= 400:
		e.Class = sink.Config
		e.Msg = fmt.Sprintf("the HEC server refused the batch (HTTP %d%s)", st, detail)
	default:
		e.Class = sink.Retry
		e.Msg = fmt.Sprintf("unexpected answer from the HEC server (HTTP %d%s)", st, detail)
	}
}

// detail is ", code N: text" for a message, from what the answer had.
func (s *Sink) detail(a answer) string {
	var b strings.Builder
	if a.code >= 0 {
		fmt.Fprintf(&b, ", code %d", a.code)
	}
	if a.text != "" {
		b.WriteString(": ")
		b.WriteString(short(a.text))
	}
	return b.String()
}

// short keeps a server-supplied text to one line of at most ~200 bytes.
func short(t string) string {
	if len(t) <= 200 && !strings.ContainsAny(t, "\r\n<") && utf8.ValidString(t) {
		return t
	}
	return excerpt([]byte(t))
}

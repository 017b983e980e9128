package hecrecv

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// decodeBody gunzips the request body when so encoded and applies the
// content length limit to the decoded bytes.
func (r *Receiver) decodeBody(wire []byte, encoding string) ([]byte, *hecError) {
	limit := r.opts.MaxContentLength
	switch enc := strings.ToLower(strings.TrimSpace(encoding)); enc {
	case "", "identity":
		if len(wire) > limit {
			return nil, tooLarge(len(wire), limit)
		}
		return wire, nil
	case "gzip":
	default:
		return nil, &hecError{http.StatusUnsupportedMediaType, 415, "Unsupported content encoding " + enc, -1}
	}
	if len(wire) == 0 {
		return nil, errNoData
	}
	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		return nil, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
	}
	defer zr.Close()
	var buf bytes.Buffer
	buf.Grow(min(4*len(wire), limit+1))
	n, err := buf.ReadFrom(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
	}
	if n > int64(limit) {
		return nil, tooLarge(int(n), limit)
	}
	return buf.Bytes(), nil
}

// wireEnvelope is the request's view of one event; RawMessage fields let
// the decoder tell an absent key from a null one.
type wireEnvelope struct {
	Time       json.RawMessage `json:"time"`
	Host       *string         `json:"host"`
	Source     *string         `json:"source"`
	Sourcetype *string         `json:"sourcetype"`
	Index      *string         `json:"index"`
	Event      json.RawMessage `json:"event"`
	Fields     json.RawMessage `json:"fields"`
}

func badEvent(code, i int) *hecError {
	return &hecError{http.StatusBadRequest, code, codeText[code], i}
}

// decode parses concatenated JSON envelopes (whitespace between them is
// allowed, as Splunk allows it) and validates each as Splunk does.
func (r *Receiver) decode(body []byte) ([]Envelope, *hecError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var envs []Envelope
	for i := 0; ; i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return envs, nil
			}
			return nil, badEvent(6, i)
		}
		if raw[0] != '{' {
			return nil, badEvent(6, i)
		}
		var we wireEnvelope
		if err := json.Unmarshal(raw, &we); err != nil {
			return nil, badEvent(6, i)
		}
		env, e := r.validate(&we, i)
		if e != nil {
			return nil, e
		}
		env.Raw = raw
		envs = append(envs, env)
	}
}

func (r *Receiver) validate(we *wireEnvelope, i int) (Envelope, *hecError) {
	var env Envelope
	switch {
	case we.Event == nil:
		return env, badEvent(12, i)
	case string(we.Event) == "null":
		return env, badEvent(13, i)
	case we.Event[0] == '"':
		var s string
		if json.Unmarshal(we.Event, &s) != nil || strings.TrimSpace(s) == "" {
			return env, badEvent(13, i)
		}
	}
	env.Event = we.Event
	if we.Event[0] == '{' {
		var id struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(we.Event, &id) == nil {
			if s, ok := id.ID.(string); ok {
				env.ID = s
			}
		}
	}
	if we.Time != nil && string(we.Time) != "null" {
		t, code := parseTime(we.Time)
		if code != 0 {
			return env, badEvent(code, i)
		}
		env.Time = t
	}
	for _, f := range []struct {
		p   *string
		dst *string
	}{{we.Host, &env.Host}, {we.Source, &env.Source}, {we.Sourcetype, &env.Sourcetype}, {we.Index, &env.Index}} {
		if f.p != nil {
			*f.dst = *f.p
		}
	}
	if env.Index != "" && len(r.indexes) > 0 && !r.indexes[env.Index] {
		return env, badEvent(7, i)
	}
	if we.Fields != nil && string(we.Fields) != "null" {
		if !flatFields(we.Fields) {
			return env, badEvent(15, i)
		}
		env.Fields = we.Fields
	}
	return env, nil
}

// parseTime reads an envelope time: a number, or a string holding one, of
// epoch seconds. It returns a HEC code when the time is refused.
func parseTime(raw json.RawMessage) (float64, int) {
	s := string(raw)
	if s[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, 6
		}
	}
	if strings.ContainsAny(s, "eE") {
		return 0, 15 // exponent notation (hec.md §1)
	}
	t, err := strconv.ParseFloat(s, 64)
	if err != nil || t < 0 {
		return 0, 6
	}
	return t, 0
}

// flatFields reports whether fields is an object of strings or arrays of
// strings, the only shape Splunk indexes.
func flatFields(raw json.RawMessage) bool {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, v := range m {
		switch v := v.(type) {
		case string:
		case []any:
			for _, x := range v {
				if _, ok := x.(string); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// decodeRaw turns a /raw body into one event per non-empty line, with the
// metadata from the query string.
func decodeRaw(body []byte, req *http.Request) []Envelope {
	q := req.URL.Query()
	var envs []Envelope
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, _ := json.Marshal(string(line))
		env := Envelope{Host: q.Get("host"), Source: q.Get("source"), Sourcetype: q.Get("sourcetype"), Index: q.Get("index"), Event: ev}
		var id struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(line, &id) == nil {
			if s, ok := id.ID.(string); ok {
				env.ID = s
			}
		}
		envs = append(envs, env)
	}
	return envs
}

package hecrecv

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

func (r *Receiver) serveAck(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, 405, "Method not allowed")
		return
	}
	if _, e := r.token(req); e != nil {
		r.refuse(w, req, e)
		return
	}
	if !r.opts.Ack {
		r.refuse(w, req, errAckDisabled)
		return
	}
	ch, e := r.channelOf(req, true)
	if e != nil {
		r.refuse(w, req, e)
		return
	}
	var q struct {
		Acks []int `json:"acks"`
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &q) != nil || q.Acks == nil {
		r.refuse(w, req, &hecError{http.StatusBadRequest, 6, "Invalid data format", -1})
		return
	}
	now := r.now()
	r.mu.Lock()
	f := r.fault
	c := r.channels[ch]
	out := make([]byte, 0, 16+len(q.Acks)*12)
	out = append(out, `{"acks":{`...)
	for i, id := range q.Acks {
		ok := false
		if c != nil && !f.AckNever {
			if at, found := c.pending[id]; found && now.Sub(at) >= f.AckDelay {
				ok = true
				// Splunk reports true once, then forgets the id.
				delete(c.pending, id)
			}
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = strconv.AppendInt(out, int64(id), 10)
		out = append(out, `":`...)
		out = strconv.AppendBool(out, ok)
	}
	r.mu.Unlock()
	out = append(out, "}}"...)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(out) //nolint:errcheck // the client went away
}

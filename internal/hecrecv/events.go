package hecrecv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request, e *hecError) {
	r.opts.Logger.Debug().Str("path", req.URL.Path).Int("status", e.status).Int("code", e.code).Msg(e.text)
	e.write(w)
}

func (r *Receiver) serveEvents(w http.ResponseWriter, req *http.Request, raw bool) {
	r.requests.Add(1)
	if req.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, 405, "Method not allowed")
		return
	}
	// Read the request before anything else: Go's server notices a
	// client that hangs up (and cancels the request context, which ends
	// a Delay) only once the body has been read.
	var wire []byte
	var rerr error
	if r.opts.Discard {
		// Nothing of the request is kept: read it into a reused buffer.
		buf := wireBufs.Get().(*bytes.Buffer)
		buf.Reset()
		defer wireBufs.Put(buf)
		if req.ContentLength > 0 && req.ContentLength <= int64(r.opts.MaxContentLength) {
			buf.Grow(int(req.ContentLength))
		}
		_, rerr = buf.ReadFrom(io.LimitReader(req.Body, int64(r.opts.MaxContentLength)+1))
		wire = buf.Bytes()
	} else {
		wire, rerr = io.ReadAll(io.LimitReader(req.Body, int64(r.opts.MaxContentLength)+1))
	}
	if done := r.injectFault(w, req); done {
		return
	}
	if _, e := r.token(req); e != nil {
		r.refuse(w, req, e)
		return
	}
	// Splunk refuses a raw request without a channel (code 10), ack or not.
	ch, e := r.channelOf(req, r.opts.Ack || raw)
	if e != nil {
		r.refuse(w, req, e)
		return
	}
	if rerr != nil {
		r.refuse(w, req, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0})
		return
	}
	var (
		body    []byte
		size, n int
		envs    []Envelope
	)
	if r.opts.Discard && !raw {
		// Counted as it is decoded, never held whole: the benchmark's
		// path, which must cost the sender's machine little.
		n, size, e = r.countBody(wire, req.Header.Get("Content-Encoding"))
	} else if body, e = r.decodeBody(wire, req.Header.Get("Content-Encoding")); e == nil {
		size = len(body)
	}
	if e != nil {
		r.refuse(w, req, e)
		return
	}
	f := r.Fault()
	if f.MaxBytes > 0 && size > f.MaxBytes {
		r.refuse(w, req, tooLarge(size, f.MaxBytes))
		return
	}
	if body != nil && len(bytes.TrimSpace(body)) == 0 {
		r.refuse(w, req, errNoData)
		return
	}

	switch {
	case r.opts.Discard && !raw:
		// counted above
	case r.opts.Discard:
		n = bytes.Count(body, []byte{'\n'})
	case raw:
		envs = decodeRaw(body, req)
		n = len(envs)
	default:
		envs, e = r.decode(body)
		if e != nil {
			r.refuse(w, req, e)
			return
		}
		n = len(envs)
	}

	r.mu.Lock()
	if len(r.poison) > 0 {
		for i := range envs {
			if r.poison[envs[i].ID] {
				r.mu.Unlock()
				r.refuse(w, req, &hecError{http.StatusBadRequest, 6, "Invalid data format", i})
				return
			}
		}
	}
	for i := range envs {
		envs[i].Channel = ch
		if envs[i].ID != "" {
			r.ids[envs[i].ID]++
		}
	}
	r.events = append(r.events, envs...)
	r.count.Add(int64(n))
	r.bytes.Add(int64(size))
	ackID := -1
	if r.opts.Ack {
		c := r.channels[ch]
		if c == nil {
			c = &channel{pending: map[int]time.Time{}}
			r.channels[ch] = c
		}
		ackID = c.next
		c.next++
		c.pending[ackID] = r.now()
	}
	r.notifyLocked()
	r.mu.Unlock()

	if ackID >= 0 {
		reply(w, http.StatusOK, 0, "Success", `"ackId":`+strconv.Itoa(ackID))
		return
	}
	reply(w, http.StatusOK, 0, "Success")
}

func tooLarge(n, max int) *hecError {
	return &hecError{http.StatusRequestEntityTooLarge, 413,
		fmt.Sprintf("Content-Length of %d too large (maximum is %d)", n, max), -1}
}

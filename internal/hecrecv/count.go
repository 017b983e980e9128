package hecrecv

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// countObjects counts the top-level JSON objects of a body without
// decoding it: the Discard fast path. It tracks strings so braces inside
// them do not count.
func countObjects(b []byte) int {
	var c objectCounter
	c.write(b)
	return c.n
}

// objectCounter counts top-level JSON objects in a body fed to it in
// pieces. Inside strings it jumps from quote to quote with IndexByte, so
// a body costs little more than reading it.
type objectCounter struct {
	n, depth   int
	inStr, esc bool
	data       bool // a byte other than whitespace was seen
}

func (c *objectCounter) write(b []byte) {
	if !c.data && len(bytes.TrimLeft(b, " \t\r\n")) > 0 {
		c.data = true
	}
	for i := 0; i < len(b); {
		if c.inStr {
			if c.esc {
				c.esc = false
				i++
				continue
			}
			rest := b[i:]
			q := bytes.IndexByte(rest, '"')
			if q >= 0 {
				rest = rest[:q]
			}
			if k := bytes.IndexByte(rest, '\\'); k >= 0 {
				c.esc = true
				i += k + 1
				continue
			}
			if q < 0 {
				return
			}
			c.inStr = false
			i += q + 1
			continue
		}
		switch b[i] {
		case '"':
			c.inStr = true
		case '{':
			if c.depth == 0 {
				c.n++
			}
			c.depth++
		case '}':
			c.depth--
		}
		i++
	}
}

// Buffers the Discard path reuses from one request to the next.
var (
	wireBufs    = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	chunkBufs   = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
	gzipReaders sync.Pool // *gzip.Reader
)

// countBody decodes the request body piece by piece and counts its
// top-level objects, without keeping it. It returns the count and the
// decoded size, or the error Splunk would answer.
func (r *Receiver) countBody(wire []byte, encoding string) (n, size int, e *hecError) {
	limit := r.opts.MaxContentLength
	var c objectCounter
	switch enc := strings.ToLower(strings.TrimSpace(encoding)); enc {
	case "", "identity":
		if len(wire) > limit {
			return 0, 0, tooLarge(len(wire), limit)
		}
		c.write(wire)
		size = len(wire)
	case "gzip":
		if len(wire) == 0 {
			return 0, 0, errNoData
		}
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(wire))
		} else {
			err = zr.Reset(bytes.NewReader(wire))
		}
		if err != nil {
			return 0, 0, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
		}
		defer gzipReaders.Put(zr)
		buf := chunkBufs.Get().(*[]byte)
		defer chunkBufs.Put(buf)
		for {
			k, err := zr.Read(*buf)
			c.write((*buf)[:k])
			if size += k; size > limit {
				return 0, 0, tooLarge(size, limit)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, 0, &hecError{http.StatusBadRequest, 6, "Invalid data format", 0}
			}
		}
	default:
		return 0, 0, &hecError{http.StatusUnsupportedMediaType, 415, "Unsupported content encoding " + enc, -1}
	}
	if !c.data {
		return 0, 0, errNoData
	}
	return c.n, size, nil
}

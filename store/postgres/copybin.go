package postgres

import (
	"encoding/binary"
	"io"
)

// copyReader streams rows in PostgreSQL's binary COPY format to
// pgconn.CopyFrom, which reads it 64 KiB at a time. Rows are encoded as
// they are read, by row, straight from the records: pgx's CopyFrom encodes
// every value through its type map (an interface conversion and an
// allocation per field), which took a quarter of siemsync's CPU on ingest.
type copyReader struct {
	n, i int                          // rows in all, rows encoded
	row  func(b []byte, i int) []byte // appends row i: fieldCount, then the fields
	buf  []byte                       // encoded and not yet read from off
	off  int
	done bool // the trailer is in buf
}

// copyHeader starts a binary COPY stream: signature, flags, extension length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func newCopyReader(n int, row func(b []byte, i int) []byte) *copyReader {
	r := &copyReader{n: n, row: row, buf: make([]byte, 0, 80<<10)}
	r.buf = append(r.buf, copyHeader...)
	return r
}

func (r *copyReader) Read(p []byte) (int, error) {
	for len(r.buf)-r.off < len(p) && !r.done {
		if r.off > 0 && r.off >= len(r.buf)/2 {
			r.buf = r.buf[:copy(r.buf, r.buf[r.off:])]
			r.off = 0
		}
		if r.i < r.n {
			r.buf = r.row(r.buf, r.i)
			r.i++
			continue
		}
		r.buf = binary.BigEndian.AppendUint16(r.buf, 0xffff) // trailer: field count -1
		r.done = true
	}
	if r.off == len(r.buf) {
		return 0, io.EOF
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// Field encoders of the binary COPY format: a length (-1 for NULL), then
// the value in the type's binary form.

func copyFields(b []byte, n int) []byte { return binary.BigEndian.AppendUint16(b, uint16(n)) }

func copyInt4(b []byte, v int32) []byte {
	b = binary.BigEndian.AppendUint32(b, 4)
	return binary.BigEndian.AppendUint32(b, uint32(v))
}

func copyInt8(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

// copyText is text (UTF-8, the connection's client encoding) or bytea.
func copyText[T string | []byte](b []byte, v T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

package postgres

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// scanRaw decodes one row of a cycle's start into dest, from the values as
// they came off the wire. pgx's Scan builds a plan and allocates for each
// of the row's ~70 columns; this was most of what a cycle's start cost the
// worker. Texts share one allocation (every string is a slice of it).
// dest takes *string, *[]byte, *bool, *int, *int64, **int64 (NULL: nil)
// and *[]int64 (NULL: nil); any other type, a column of another type or
// format, or a NULL where none is allowed is an error naming the column.
func scanRaw(fields []pgconn.FieldDescription, vals [][]byte, dest []any) error {
	if len(fields) != len(dest) || len(vals) != len(dest) {
		return fmt.Errorf("scan row: %d columns, %d values, %d destinations", len(fields), len(vals), len(dest))
	}
	n := 0
	for i, d := range dest {
		if _, ok := d.(*string); ok {
			n += len(vals[i])
		}
	}
	texts := make([]byte, 0, n)
	for i, d := range dest {
		if _, ok := d.(*string); ok {
			texts = append(texts, vals[i]...)
		}
	}
	all := string(texts)
	off := 0
	for i, d := range dest {
		if err := scanValue(fields[i], vals[i], d, all, &off); err != nil {
			return fmt.Errorf("scan column %d%s: %w", i, nameOf(fields[i]), err)
		}
	}
	return nil
}

func nameOf(f pgconn.FieldDescription) string {
	if f.Name == "" {
		return ""
	}
	return " (" + f.Name + ")"
}

// recordScratch holds scanRecord's column lists between calls: on the
// stack they would grow the goroutine's stack, once per cycle.
type recordScratch struct {
	fields []pgconn.FieldDescription
	vals   [][]byte
}

var recordScratches = sync.Pool{New: func() any { return new(recordScratch) }}

// scanRecord is scanRaw for a row sent as one binary record column,
// ROW(…): the number of columns, then each column's type, length and
// bytes. One column instead of ~70 saves pgx a column description and a
// value slot per column on every cycle's start.
func scanRecord(v []byte, dest []any) error {
	if len(v) < 4 {
		return fmt.Errorf("scan record: %d bytes", len(v))
	}
	n := int(int32(binary.BigEndian.Uint32(v)))
	if n != len(dest) {
		return fmt.Errorf("scan record: %d columns for %d destinations", n, len(dest))
	}
	sc := recordScratches.Get().(*recordScratch)
	fields, vals := sc.fields[:0], sc.vals[:0]
	defer func() {
		clear(vals) // they point into pgx's read buffer
		sc.fields, sc.vals = fields[:0], vals[:0]
		recordScratches.Put(sc)
	}()
	rest := v[4:]
	for i := range n {
		if len(rest) < 8 {
			return fmt.Errorf("scan record: column %d cut short", i)
		}
		oid, size := binary.BigEndian.Uint32(rest), int(int32(binary.BigEndian.Uint32(rest[4:])))
		rest = rest[8:]
		var val []byte
		if size >= 0 {
			if size > len(rest) {
				return fmt.Errorf("scan record: column %d of %d bytes in %d", i, size, len(rest))
			}
			val, rest = rest[:size:size], rest[size:]
		}
		fields = append(fields, pgconn.FieldDescription{DataTypeOID: oid, Format: pgtype.BinaryFormatCode})
		vals = append(vals, val)
	}
	if len(rest) != 0 {
		return fmt.Errorf("scan record: %d bytes after the last column", len(rest))
	}
	return scanRaw(fields, vals, dest)
}

func scanValue(f pgconn.FieldDescription, v []byte, d any, texts string, off *int) error {
	if s, ok := d.(*string); ok {
		if !isText(f.DataTypeOID) {
			return fmt.Errorf("type %d is not text", f.DataTypeOID)
		}
		if v == nil {
			return errNull
		}
		*s = texts[*off : *off+len(v)]
		*off += len(v)
		return nil
	}
	if f.Format != pgtype.BinaryFormatCode {
		return fmt.Errorf("text format for type %d", f.DataTypeOID)
	}
	switch d := d.(type) {
	case *[]byte:
		if f.DataTypeOID != pgtype.ByteaOID {
			return fmt.Errorf("type %d is not bytea", f.DataTypeOID)
		}
		*d = nil
		if v != nil {
			*d = append([]byte{}, v...)
		}
		return nil
	case *bool:
		if f.DataTypeOID != pgtype.BoolOID || len(v) != 1 {
			return fmt.Errorf("type %d (%d bytes) is not bool", f.DataTypeOID, len(v))
		}
		*d = v[0] == 1
		return nil
	case *int:
		x, err := integer(f.DataTypeOID, v)
		*d = int(x)
		return err
	case *int64:
		x, err := integer(f.DataTypeOID, v)
		*d = x
		return err
	case **int64:
		*d = nil
		if v == nil {
			return nil
		}
		x, err := integer(f.DataTypeOID, v)
		*d = &x
		return err
	case *[]int64:
		if f.DataTypeOID != pgtype.Int8ArrayOID {
			return fmt.Errorf("type %d is not bigint[]", f.DataTypeOID)
		}
		a, err := int8Array(v)
		*d = a
		return err
	}
	return fmt.Errorf("cannot scan into %T", d)
}

var errNull = fmt.Errorf("NULL")

func isText(oid uint32) bool {
	return oid == pgtype.TextOID || oid == pgtype.VarcharOID || oid == pgtype.BPCharOID || oid == pgtype.NameOID
}

// integer decodes a binary int2, int4 or int8.
func integer(oid uint32, v []byte) (int64, error) {
	want := 0
	switch oid {
	case pgtype.Int2OID:
		want = 2
	case pgtype.Int4OID:
		want = 4
	case pgtype.Int8OID:
		want = 8
	default:
		return 0, fmt.Errorf("type %d is not an integer", oid)
	}
	if v == nil {
		return 0, errNull
	}
	if len(v) != want {
		return 0, fmt.Errorf("%d bytes for a %d-byte integer", len(v), want)
	}
	switch want {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(v))), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(v))), nil
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// int8Array decodes a binary one-dimensional bigint[] without NULLs (nil
// for a NULL array): a header of ndim, has-null flag and element type, then
// per dimension its length and lower bound, then each element's length
// and bytes.
func int8Array(v []byte) ([]int64, error) {
	if v == nil {
		return nil, nil
	}
	if len(v) < 12 {
		return nil, fmt.Errorf("array header of %d bytes", len(v))
	}
	ndim := binary.BigEndian.Uint32(v)
	if ndim == 0 && len(v) == 12 {
		return []int64{}, nil
	}
	if ndim != 1 || binary.BigEndian.Uint32(v[8:]) != pgtype.Int8OID || len(v) < 20 {
		return nil, fmt.Errorf("not a one-dimensional bigint array")
	}
	n := int(binary.BigEndian.Uint32(v[12:]))
	rest := v[20:]
	if n < 0 || len(rest) != n*12 {
		return nil, fmt.Errorf("array of %d elements in %d bytes", n, len(rest))
	}
	out := make([]int64, n)
	for i := range out {
		if int32(binary.BigEndian.Uint32(rest)) != 8 {
			return nil, fmt.Errorf("array element %d is NULL or not 8 bytes", i)
		}
		out[i] = int64(binary.BigEndian.Uint64(rest[4:]))
		rest = rest[12:]
	}
	return out, nil
}

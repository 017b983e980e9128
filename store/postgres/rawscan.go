package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
)

// scanRecord decodes a cycle's start — one binary record column, ROW(…):
// the number of columns, then each column's type, length and bytes — into
// dest. pgx describes, slots and plans a scan for every column of a row;
// for the ~70 of a cycle's start that was most of what starting a cycle
// cost the worker. Texts share one allocation (every string is a slice of
// it). dest takes *string, *[]byte, *bool, *int, *int64, **int64 (NULL:
// nil) and *[]int64 (NULL: nil); any other type, a column of another
// type, a NULL where none is allowed or a malformed record is an error
// naming the column.
func scanRecord(v []byte, dest []any) error {
	n := 0 // bytes of the texts
	err := eachColumn(v, len(dest), func(i int, _ uint32, val []byte) error {
		if _, ok := dest[i].(*string); ok {
			n += len(val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	texts := make([]byte, 0, n)
	_ = eachColumn(v, len(dest), func(i int, _ uint32, val []byte) error {
		if _, ok := dest[i].(*string); ok {
			texts = append(texts, val...)
		}
		return nil
	})
	all, off := string(texts), 0
	return eachColumn(v, len(dest), func(i int, oid uint32, val []byte) error {
		if err := scanValue(oid, val, dest[i], all, &off); err != nil {
			return fmt.Errorf("scan column %d: %w", i, err)
		}
		return nil
	})
}

// eachColumn calls fn with each column of the binary record v, which must
// have n columns and nothing after them; a NULL column's value is nil.
func eachColumn(v []byte, n int, fn func(i int, oid uint32, val []byte) error) error {
	if len(v) < 4 {
		return fmt.Errorf("scan record: %d bytes", len(v))
	}
	if got := int(int32(binary.BigEndian.Uint32(v))); got != n {
		return fmt.Errorf("scan record: %d columns for %d destinations", got, n)
	}
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
		if err := fn(i, oid, val); err != nil {
			return err
		}
	}
	if len(rest) != 0 {
		return fmt.Errorf("scan record: %d bytes after the last column", len(rest))
	}
	return nil
}

// scanValue decodes one binary column of type oid into d; a text is the
// next len(v) bytes of texts, from *off.
func scanValue(oid uint32, v []byte, d any, texts string, off *int) error {
	switch d := d.(type) {
	case *string:
		if !isText(oid) {
			return fmt.Errorf("type %d is not text", oid)
		}
		if v == nil {
			return errNull
		}
		*d = texts[*off : *off+len(v)]
		*off += len(v)
		return nil
	case *[]byte:
		if oid != pgtype.ByteaOID {
			return fmt.Errorf("type %d is not bytea", oid)
		}
		*d = bytes.Clone(v)
		return nil
	case *bool:
		if oid != pgtype.BoolOID || len(v) != 1 {
			return fmt.Errorf("type %d (%d bytes) is not bool", oid, len(v))
		}
		*d = v[0] == 1
		return nil
	case *int:
		x, err := integer(oid, v)
		*d = int(x)
		return err
	case *int64:
		x, err := integer(oid, v)
		*d = x
		return err
	case **int64:
		*d = nil
		if v == nil {
			return nil
		}
		x, err := integer(oid, v)
		*d = &x
		return err
	case *[]int64:
		if oid != pgtype.Int8ArrayOID {
			return fmt.Errorf("type %d is not bigint[]", oid)
		}
		a, err := int8Array(v)
		*d = a
		return err
	}
	return fmt.Errorf("cannot scan into %T", d)
}

var errNull = errors.New("NULL")

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

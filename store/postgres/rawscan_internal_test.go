package postgres

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

func be(n int, x int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(x))
	return b[8-n:]
}

// int8ArrayBytes is PostgreSQL's binary form of a one-dimensional bigint[].
func int8ArrayBytes(xs ...int64) []byte {
	b := binary.BigEndian.AppendUint32(nil, 1) // ndim
	b = binary.BigEndian.AppendUint32(b, 0)    // no NULLs
	b = binary.BigEndian.AppendUint32(b, pgtype.Int8OID)
	b = binary.BigEndian.AppendUint32(b, uint32(len(xs)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, x := range xs {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func TestScanRecord(t *testing.T) {
	var (
		name, host string
		key        []byte
		on         bool
		size       int
		seq        int64
		since      *int64
		los        []int64
	)
	dest := []any{&name, &key, &on, &size, &seq, &since, &los, &host}
	v := record(uint32(pgtype.TextOID), []byte("splunk"), uint32(pgtype.ByteaOID), []byte{1, 2},
		uint32(pgtype.BoolOID), []byte{1}, uint32(pgtype.Int4OID), be(4, -7), uint32(pgtype.Int8OID), be(8, 1<<40),
		uint32(pgtype.Int8OID), be(8, 99), uint32(pgtype.Int8ArrayOID), int8ArrayBytes(3, -4, 5),
		uint32(pgtype.VarcharOID), []byte("eu-1"))
	if err := scanRecord(v, dest); err != nil {
		t.Fatal(err)
	}
	if name != "splunk" || host != "eu-1" || !reflect.DeepEqual(key, []byte{1, 2}) || !on || size != -7 || seq != 1<<40 ||
		since == nil || *since != 99 || !reflect.DeepEqual(los, []int64{3, -4, 5}) {
		t.Errorf("scanned %q %q %v %v %d %d %v %v", name, host, key, on, size, seq, since, los)
	}
	// The values are copied: the wire buffer is reused for the next row.
	for i := range v {
		v[i] = 'X'
	}
	if key[0] != 1 || name != "splunk" {
		t.Errorf("scanned values share the wire buffer: %v %q", key, name)
	}

	// NULLs where they are allowed.
	nulls := record(uint32(pgtype.TextOID), []byte{}, uint32(pgtype.ByteaOID), nil, uint32(pgtype.BoolOID), []byte{0},
		uint32(pgtype.Int4OID), be(4, 0), uint32(pgtype.Int8OID), be(8, 0), uint32(pgtype.Int8OID), nil,
		uint32(pgtype.Int8ArrayOID), nil, uint32(pgtype.VarcharOID), []byte{})
	if err := scanRecord(nulls, dest); err != nil {
		t.Fatal(err)
	}
	if key != nil || since != nil || los != nil || on || name != "" {
		t.Errorf("NULLs scanned as %v %v %v %v %q", key, since, los, on, name)
	}

	// A bad record, and a column the destination does not take.
	good := record(uint32(pgtype.TextOID), []byte("splunk"), uint32(pgtype.Int8OID), be(8, 42))
	two := []any{new(string), new(int64)}
	bad := []struct {
		name   string
		v      []byte
		dest   []any
		reason string
	}{
		{"empty", nil, two, "0 bytes"},
		{"fewer columns", record(uint32(pgtype.TextOID), []byte("x")), two, "1 columns for 2"},
		{"cut short", good[:len(good)-3], two, "column 1 of 8 bytes in 5"},
		{"header cut short", good[:len(good)-12], two, "column 1 cut short"},
		{"trailing bytes", append(append([]byte{}, good...), 0), two, "after the last column"},
		{"NULL text", record(uint32(pgtype.TextOID), nil), []any{new(string)}, "column 0: NULL"},
		{"NULL integer", record(uint32(pgtype.Int8OID), nil), []any{new(int64)}, "column 0: NULL"},
		{"int into text", record(uint32(pgtype.Int8OID), be(8, 1)), []any{new(string)}, "type 20 is not text"},
		{"short integer", record(uint32(pgtype.Int8OID), be(4, 1)), []any{new(int64)}, "4 bytes"},
		{"numeric", record(uint32(pgtype.NumericOID), be(8, 1)), []any{new(int64)}, "not an integer"},
		{"bool of two bytes", record(uint32(pgtype.BoolOID), []byte{1, 0}), []any{new(bool)}, "not bool"},
		{"bytea into bool", record(uint32(pgtype.ByteaOID), []byte{1}), []any{new(bool)}, "not bool"},
		{"float destination", record(uint32(pgtype.Float8OID), be(8, 1)), []any{new(float64)}, "cannot scan into *float64"},
		{"int4 array", record(uint32(pgtype.Int4ArrayOID), int8ArrayBytes(1)), []any{new([]int64)}, "not bigint[]"},
		{"array with a NULL", record(uint32(pgtype.Int8ArrayOID), append(int8ArrayBytes(1)[:20], 0xff, 0xff, 0xff, 0xff)),
			[]any{new([]int64)}, "elements in"},
		{"truncated array", record(uint32(pgtype.Int8ArrayOID), int8ArrayBytes(1, 2)[:30]), []any{new([]int64)}, "elements in"},
	}
	for _, b := range bad {
		if err := scanRecord(b.v, b.dest); err == nil || !strings.Contains(err.Error(), b.reason) {
			t.Errorf("%s: %v, want an error saying %q", b.name, err, b.reason)
		}
	}
}

// FuzzInt8Array: any bytes decode or are refused; nothing panics.
func FuzzInt8Array(f *testing.F) {
	f.Add(int8ArrayBytes())
	f.Add(int8ArrayBytes(1, 2, 3))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20})
	f.Fuzz(func(t *testing.T, v []byte) {
		a, err := int8Array(v)
		if err == nil && len(v) >= 20 && len(a)*12+20 != len(v) {
			t.Fatalf("%d elements from %d bytes", len(a), len(v))
		}
	})
}

// record is PostgreSQL's binary form of ROW(…) of (type, value) pairs; a
// nil value is NULL.
func record(cols ...any) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(cols)/2))
	for i := 0; i < len(cols); i += 2 {
		b = binary.BigEndian.AppendUint32(b, cols[i].(uint32))
		v, _ := cols[i+1].([]byte)
		if v == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b
}

// FuzzScanRecord: any bytes scan or are refused; nothing panics.
func FuzzScanRecord(f *testing.F) {
	f.Add(record(uint32(pgtype.TextOID), []byte("a"), uint32(pgtype.BoolOID), []byte{1}, uint32(pgtype.Int8ArrayOID), int8ArrayBytes(1)))
	f.Add(record(uint32(pgtype.TextOID), nil, uint32(pgtype.BoolOID), nil, uint32(pgtype.Int8ArrayOID), nil))
	f.Fuzz(func(t *testing.T, v []byte) {
		var (
			s  string
			b  bool
			xs []int64
		)
		if err := scanRecord(v, []any{&s, &b, &xs}); err == nil && len(s) > len(v) {
			t.Fatalf("a text of %d bytes from %d", len(s), len(v))
		}
	})
}

package postgres

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

func field(name string, oid uint32, format int16) pgconn.FieldDescription {
	return pgconn.FieldDescription{Name: name, DataTypeOID: oid, Format: format}
}

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

func TestScanRaw(t *testing.T) {
	const bin, text = pgtype.BinaryFormatCode, pgtype.TextFormatCode
	var (
		name, host string
		key        []byte
		on         bool
		size       int
		seq        int64
		since      *int64
		los        []int64
	)
	fields := []pgconn.FieldDescription{
		field("name", pgtype.TextOID, text), field("key", pgtype.ByteaOID, bin), field("on", pgtype.BoolOID, bin),
		field("size", pgtype.Int4OID, bin), field("seq", pgtype.Int8OID, bin), field("since", pgtype.Int8OID, bin),
		field("los", pgtype.Int8ArrayOID, bin), field("host", pgtype.VarcharOID, text),
	}
	dest := []any{&name, &key, &on, &size, &seq, &since, &los, &host}
	vals := [][]byte{[]byte("splunk"), {1, 2}, {1}, be(4, -7), be(8, 1<<40), be(8, 99), int8ArrayBytes(3, -4, 5), []byte("eu-1")}
	if err := scanRaw(fields, vals, dest); err != nil {
		t.Fatal(err)
	}
	if name != "splunk" || host != "eu-1" || !reflect.DeepEqual(key, []byte{1, 2}) || !on || size != -7 || seq != 1<<40 ||
		since == nil || *since != 99 || !reflect.DeepEqual(los, []int64{3, -4, 5}) {
		t.Errorf("scanned %q %q %v %v %d %d %v %v", name, host, key, on, size, seq, since, los)
	}
	// The values are copied: the wire buffer is reused for the next row.
	vals[1][0], vals[0][0] = 9, 'X'
	if key[0] != 1 || name != "splunk" {
		t.Errorf("scanned values share the wire buffer: %v %q", key, name)
	}

	// NULLs where they are allowed.
	nulls := [][]byte{[]byte(""), nil, {0}, be(4, 0), be(8, 0), nil, nil, []byte("")}
	if err := scanRaw(fields, nulls, dest); err != nil {
		t.Fatal(err)
	}
	if key != nil || since != nil || los != nil || on || name != "" {
		t.Errorf("NULLs scanned as %v %v %v %v %q", key, since, los, on, name)
	}

	bad := []struct {
		name   string
		field  pgconn.FieldDescription
		val    []byte
		dest   any
		reason string
	}{
		{"NULL text", field("t", pgtype.TextOID, text), nil, new(string), "NULL"},
		{"NULL integer", field("i", pgtype.Int8OID, bin), nil, new(int64), "NULL"},
		{"int into text", field("t", pgtype.Int8OID, bin), be(8, 1), new(string), "not text"},
		{"text format integer", field("i", pgtype.Int8OID, text), []byte("12"), new(int64), "text format"},
		{"short integer", field("i", pgtype.Int8OID, bin), be(4, 1), new(int64), "4 bytes"},
		{"numeric", field("n", pgtype.NumericOID, bin), be(8, 1), new(int64), "not an integer"},
		{"bool of two bytes", field("b", pgtype.BoolOID, bin), []byte{1, 0}, new(bool), "not bool"},
		{"bytea into bool", field("b", pgtype.ByteaOID, bin), []byte{1}, new(bool), "not bool"},
		{"float destination", field("f", pgtype.Float8OID, bin), be(8, 1), new(float64), "cannot scan into *float64"},
		{"int4 array", field("a", pgtype.Int4ArrayOID, bin), int8ArrayBytes(1), new([]int64), "not bigint[]"},
		{"array with a NULL", field("a", pgtype.Int8ArrayOID, bin),
			append(int8ArrayBytes(1)[:20], 0xff, 0xff, 0xff, 0xff), new([]int64), "elements in"},
		{"truncated array", field("a", pgtype.Int8ArrayOID, bin), int8ArrayBytes(1, 2)[:30], new([]int64), "elements in"},
	}
	for _, b := range bad {
		err := scanRaw([]pgconn.FieldDescription{b.field}, [][]byte{b.val}, []any{b.dest})
		if err == nil || !strings.Contains(err.Error(), b.reason) || !strings.Contains(err.Error(), b.field.Name) {
			t.Errorf("%s: %v, want an error naming the column and %q", b.name, err, b.reason)
		}
	}
	if err := scanRaw(fields[:2], vals[:2], dest[:1]); err == nil {
		t.Error("two columns into one destination: no error")
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

func TestScanRecord(t *testing.T) {
	var (
		name  string
		seq   int64
		since *int64
		los   []int64
	)
	dest := []any{&name, &seq, &since, &los}
	v := record(uint32(pgtype.TextOID), []byte("splunk"), uint32(pgtype.Int8OID), be(8, 42),
		uint32(pgtype.Int8OID), nil, uint32(pgtype.Int8ArrayOID), int8ArrayBytes(7, 8))
	if err := scanRecord(v, dest); err != nil {
		t.Fatal(err)
	}
	if name != "splunk" || seq != 42 || since != nil || !reflect.DeepEqual(los, []int64{7, 8}) {
		t.Errorf("scanned %q %d %v %v", name, seq, since, los)
	}
	bad := []struct {
		name   string
		v      []byte
		reason string
	}{
		{"empty", nil, "0 bytes"},
		{"fewer columns", record(uint32(pgtype.TextOID), []byte("x")), "1 columns for 4"},
		{"cut short", v[:len(v)-3], "in"},
		{"trailing bytes", append(append([]byte{}, v...), 0), "after the last column"},
		{"wrong type", record(uint32(pgtype.Int8OID), be(8, 1), uint32(pgtype.Int8OID), be(8, 1),
			uint32(pgtype.Int8OID), nil, uint32(pgtype.Int8ArrayOID), nil), "column 0: type 20 is not text"},
	}
	for _, b := range bad {
		if err := scanRecord(b.v, dest); err == nil || !strings.Contains(err.Error(), b.reason) {
			t.Errorf("%s: %v, want an error saying %q", b.name, err, b.reason)
		}
	}
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

package postgres

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/siemsync/siemsync"
)

func TestPackRoundTrip(t *testing.T) {
	for _, a := range []siemsync.Audit{
		{},
		{ID: "id-1", Connector: "c", ACL: "acl", Method: "m", User: "ü", IP: "::1", Event: "e", Metadata: json.RawMessage(`{"k":"v"}`)},
		{ID: "x", Event: "e", Metadata: json.RawMessage{}}, // empty, not absent
		{ID: "x", Event: "日本語"},
	} {
		rec := appendPacked(nil, &a)
		if len(rec) != packedLen(&a) {
			t.Errorf("%+v: packed %d bytes, packedLen %d", a, len(rec), packedLen(&a))
		}
		got := unpackOne(t, rec)
		if got.ID != a.ID || got.Connector != a.Connector || got.ACL != a.ACL || got.Method != a.Method ||
			got.User != a.User || got.IP != a.IP || got.Event != a.Event ||
			(got.Metadata == nil) != (a.Metadata == nil) || !bytes.Equal(got.Metadata, a.Metadata) {
			t.Errorf("round trip of %+v gave %+v", a, got)
		}
	}
}

// A damaged record is an error naming the record, never a panic or a
// record made of the wrong bytes.
func TestUnpackDamaged(t *testing.T) {
	good := appendPacked(nil, &siemsync.Audit{ID: "id", Event: "e", Metadata: json.RawMessage(`{}`)})
	for name, rec := range map[string][]byte{
		"empty":           {},
		"cut in a length": good[:6],
		"cut in a field":  good[:len(good)-1],
		"trailing bytes":  append(append([]byte{}, good...), 'x'),
		"negative length": {0xff, 0xff, 0xff, 0xfe},
		"huge length":     {0x7f, 0xff, 0xff, 0xff},
	} {
		if _, err := unpack(rec, 7); err == nil {
			t.Errorf("%s: unpacked", name)
		}
	}
}

func FuzzUnpack(f *testing.F) {
	f.Add(appendPacked(nil, &siemsync.Audit{ID: "id", Connector: "c", Event: "e", Metadata: json.RawMessage(`{"a":1}`)}))
	f.Add(appendPacked(nil, &siemsync.Audit{}))
	f.Fuzz(func(t *testing.T, rec []byte) {
		fields, err := unpack(rec, 1)
		if err != nil {
			return
		}
		var a siemsync.Audit
		fields.fill(&a, string(rec), rec, [2]int{})
		if again := appendPacked(nil, &a); !bytes.Equal(again, rec) {
			t.Errorf("unpacked %+v packs to %x, not %x", a, again, rec)
		}
	})
}

func unpackOne(t *testing.T, rec []byte) siemsync.Audit {
	t.Helper()
	f, err := unpack(rec, 1)
	if err != nil {
		t.Fatal(err)
	}
	var a siemsync.Audit
	f.fill(&a, string(rec), rec, [2]int{})
	return a
}

package postgres

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/siemsync/siemsync"
)

// An audit record's text is stored packed in one bytea column, rec
// (migration 0005): for id, connector, acl, method, user, ip, event and
// then the metadata, a 4-byte big-endian length (-1: no metadata) and the
// UTF-8 bytes. SQL can build it (the migration does) and read the id back
// (siemsync_audit_id).

// packedLen is the length of a's packed text.
func packedLen(a *siemsync.Audit) int {
	return 4*8 + len(a.ID) + len(a.Connector) + len(a.ACL) + len(a.Method) + len(a.User) + len(a.IP) + len(a.Event) + len(a.Metadata)
}

// appendPacked appends the packed text of a to b.
func appendPacked(b []byte, a *siemsync.Audit) []byte {
	for _, f := range [...]string{a.ID, a.Connector, a.ACL, a.Method, a.User, a.IP, a.Event} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	if a.Metadata == nil {
		return binary.BigEndian.AppendUint32(b, 0xffffffff)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(a.Metadata)))
	return append(b, a.Metadata...)
}

// packedFields are the offsets of a packed record's fields: for each, its
// start and end in the record (metadata: start -1 for none).
type packedFields [8][2]int

// unpack finds the fields of a packed record of seq, checking that they
// fill it exactly.
func unpack(rec []byte, seq int64) (packedFields, error) {
	var f packedFields
	p := 0
	for i := range f {
		if len(rec)-p < 4 {
			return f, fmt.Errorf("audit record %d: packed text is damaged (field %d cut short)", seq, i+1)
		}
		n := int64(int32(binary.BigEndian.Uint32(rec[p:])))
		p += 4
		if i == 7 && n == -1 {
			f[i] = [2]int{-1, -1}
			break
		}
		if n < 0 || n > int64(len(rec)-p) {
			return f, fmt.Errorf("audit record %d: packed text is damaged (field %d's length is %d)", seq, i+1, n)
		}
		f[i] = [2]int{p, p + int(n)}
		p += int(n)
	}
	if p != len(rec) {
		return f, fmt.Errorf("audit record %d: packed text is damaged (%d bytes after the fields)", seq, len(rec)-p)
	}
	return f, nil
}

// fill sets a's fields from the fields f of a record whose texts were
// copied at off[0] into a page's texts s (every text field is a slice of
// it) and whose metadata, f[7] relative to off[1], into meta.
func (f *packedFields) fill(a *siemsync.Audit, s string, meta []byte, off [2]int) {
	for i, dst := range [...]*string{&a.ID, &a.Connector, &a.ACL, &a.Method, &a.User, &a.IP, &a.Event} {
		*dst = s[off[0]+f[i][0] : off[0]+f[i][1]]
	}
	a.Metadata = nil
	if m := f[7]; m[0] >= 0 {
		a.Metadata = json.RawMessage(meta[off[1]+m[0] : off[1]+m[1] : off[1]+m[1]])
		if a.Metadata == nil { // empty, which is not absent
			a.Metadata = json.RawMessage{}
		}
	}
}

// idKey is the idempotency key of an account's id in audit_ids: the first
// 16 bytes of the SHA-256 of the account's num (4 bytes, big-endian) and
// the id, as siemsync_id_key computes it in SQL (migration 0005).
type idKey [16]byte

func keyOf(buf []byte, account int32, id string) ([]byte, idKey) {
	buf = binary.BigEndian.AppendUint32(buf[:0], uint32(account))
	buf = append(buf, id...)
	sum := sha256.Sum256(buf)
	return buf, idKey(sum[:16])
}

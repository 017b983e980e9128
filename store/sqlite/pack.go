package sqlite

import (
	"database/sql/driver"
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"
	"modernc.org/sqlite"

	"github.com/siemsync/siemsync"
)

// An audit record's text is stored packed in one BLOB column, rec:
//
//	uvarint len(id), len(connector), len(acl), len(method), len(user),
//	        len(ip), len(event), len(metadata)+1 (0: no metadata)
//	id || connector || acl || method || user || ip || event || metadata
//
// One bound value per record instead of eight, and one column to read
// instead of a concatenation: on ingest SQLite builds a record of five
// values rather than eleven (with the narrow dedupe key below, ingest went
// from ~45,000 to ~85,000 records/s of SQLite time); on read a record is
// one copy and no SQL string functions.
const packedFields = 8

// packAudit appends the packed text of a to dst.
func packAudit(dst []byte, a *siemsync.Audit) []byte {
	fields := [...]string{a.ID, a.Connector, a.ACL, a.Method, a.User, a.IP, a.Event}
	for _, f := range fields {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
	}
	meta := uint64(0)
	if len(a.Metadata) > 0 {
		meta = uint64(len(a.Metadata)) + 1
	}
	dst = binary.AppendUvarint(dst, meta)
	for _, f := range fields {
		dst = append(dst, f...)
	}
	return append(dst, a.Metadata...)
}

// unpackAudit fills a's text fields from the packed rec. The strings are
// slices of rec; the metadata, which callers may keep beyond rec, is
// returned for them to copy ("", false: none).
func unpackAudit(rec string, a *siemsync.Audit) (meta string, hasMeta bool, err error) {
	var lens [packedFields]uint64
	p := rec
	for i := range lens {
		l, n := uvarintString(p)
		if n <= 0 {
			return "", false, fmt.Errorf("unpack audit record %d: damaged field lengths", a.Seq)
		}
		lens[i], p = l, p[n:]
	}
	for i, dst := range [...]*string{&a.ID, &a.Connector, &a.ACL, &a.Method, &a.User, &a.IP, &a.Event} {
		if lens[i] > uint64(len(p)) {
			return "", false, fmt.Errorf("unpack audit record %d: field lengths exceed the record", a.Seq)
		}
		*dst, p = p[:lens[i]], p[lens[i]:]
	}
	switch {
	case lens[7] == 0 && len(p) == 0:
		return "", false, nil
	case lens[7] <= 1 || lens[7]-1 != uint64(len(p)): // packAudit writes no empty metadata
		return "", false, fmt.Errorf("unpack audit record %d: metadata length does not match the record", a.Seq)
	}
	return p, true, nil
}

// uvarintString is binary.Uvarint on a string, without converting it.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// idKey is the dedupe key of an audit id: UNIQUE (account_num, id_key).
// An integer key keeps that index small and its comparisons cheap; the
// UUID text it replaced made the index twice the size of the page cache at
// a million records, and every insert a cache miss.
//
// Two ids may share a key. The store never trusts the key alone: a record
// whose key is taken is compared by id with the stored one, and when the
// ids differ it takes the next free key (key+1, key+2, …), where a later
// copy of it will be found the same way. The key is part of the stored
// data: it must never change.
func idKey(id string) int64 { return int64(xxhash.Sum64String(id)) }

// SQL functions for migrations that convert stored records (0003), and for
// anyone reading the store with SQL: siemsync_audit_id(rec) is the id of a
// packed record.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("siemsync_id_key", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		id, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("siemsync_id_key: want text, got %T", args[0])
		}
		return idKey(id), nil
	})
	sqlite.MustRegisterDeterministicScalarFunction("siemsync_pack_audit", packedFields, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		var a siemsync.Audit
		for i, dst := range [...]*string{&a.ID, &a.Connector, &a.ACL, &a.Method, &a.User, &a.IP, &a.Event} {
			s, ok := args[i].(string)
			if !ok {
				return nil, fmt.Errorf("siemsync_pack_audit: argument %d: want text, got %T", i+1, args[i])
			}
			*dst = s
		}
		switch m := args[7].(type) {
		case nil:
		case []byte:
			a.Metadata = m
		case string:
			a.Metadata = []byte(m)
		default:
			return nil, fmt.Errorf("siemsync_pack_audit: metadata: want blob, got %T", m)
		}
		return packAudit(nil, &a), nil
	})
	sqlite.MustRegisterDeterministicScalarFunction("siemsync_audit_id", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		var rec string
		switch v := args[0].(type) {
		case []byte:
			rec = string(v)
		case string:
			rec = v
		default:
			return nil, fmt.Errorf("siemsync_audit_id: want blob, got %T", v)
		}
		var a siemsync.Audit
		if _, _, err := unpackAudit(rec, &a); err != nil {
			return nil, err
		}
		return a.ID, nil
	})
}

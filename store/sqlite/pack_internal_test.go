package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync/store"

	"github.com/siemsync/siemsync"
)

func TestPackRoundTrip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) // lengths past one varint byte
	for _, a := range []siemsync.Audit{
		{ID: "x", Event: "login"},
		{ID: "6f1c2b7e-0b7a-4b8e-9a57-2f8d3c1e9b11", Connector: "c", ACL: "admin", Method: "POST", User: "alice@example.com",
			IP: "203.0.113.7", Event: "backup.created", Metadata: json.RawMessage(`{"a":1}`)},
		{ID: long, Connector: long, ACL: "", Method: "", User: long, IP: "::1", Event: long, Metadata: json.RawMessage(`"` + long + `"`)},
		{ID: "id", Event: "e", Metadata: json.RawMessage(`{}`)},
	} {
		rec := packAudit(nil, &a)
		var got siemsync.Audit
		meta, ok, err := unpackAudit(string(rec), &got)
		if err != nil {
			t.Fatalf("unpack %q: %v", a.ID, err)
		}
		if ok {
			got.Metadata = json.RawMessage(meta)
		}
		if fmt.Sprint(got) != fmt.Sprint(a) || ok != (len(a.Metadata) > 0) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", a.ID, got, a)
		}
	}
}

func TestUnpackDamaged(t *testing.T) {
	t.Parallel()
	good := string(packAudit(nil, &siemsync.Audit{ID: "id", Event: "e", Metadata: json.RawMessage(`{"a":1}`)}))
	for name, rec := range map[string]string{
		"empty":              "",
		"truncated lengths":  good[:3],
		"truncated text":     good[:len(good)-1],
		"trailing bytes":     good + "x",
		"length past end":    "\x7f" + good[1:],
		"overlong varint":    strings.Repeat("\xff", 11),
		"text without meta":  "\x01\x00\x00\x00\x00\x00\x01\x00ie" + "x",
		"meta length 1 (0B)": "\x01\x00\x00\x00\x00\x00\x01\x01ie",
	} {
		var a siemsync.Audit
		if _, _, err := unpackAudit(rec, &a); err == nil {
			t.Errorf("%s: unpack accepted %q", name, rec)
		}
	}
}

func FuzzPackAudit(f *testing.F) {
	f.Add("id", "conn", "acl", "GET", "user", "1.2.3.4", "event", []byte(`{"a":1}`))
	f.Add("", "", "", "", "", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, id, conn, acl, method, user, ip, event string, meta []byte) {
		a := siemsync.Audit{ID: id, Connector: conn, ACL: acl, Method: method, User: user, IP: ip, Event: event, Metadata: meta}
		rec := packAudit([]byte("prefix"), &a)[len("prefix"):]
		var got siemsync.Audit
		m, ok, err := unpackAudit(string(rec), &got)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id || got.Connector != conn || got.ACL != acl || got.Method != method || got.User != user ||
			got.IP != ip || got.Event != event || ok != (len(meta) > 0) || m != string(meta) {
			t.Fatalf("round trip: got %+v meta %q, want %+v", got, m, a)
		}
		// Any bytes at all: an error or a record, never a panic.
		var junk siemsync.Audit
		_, _, _ = unpackAudit(id+event, &junk)
	})
}

// Ids that share a dedupe key are all stored, once each, in input order,
// and found again as duplicates on the next ingest, through both insert
// paths.
func TestIngestKeyCollisions(t *testing.T) {
	t.Parallel()
	const acct = "11111111-1111-4111-8111-111111111111"
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Three keys for 150 ids, and the next keys taken too: long probes.
	db.idKey = func(id string) int64 { return int64(len(id)%3) * 10 }
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var recs []siemsync.Audit
	for i := range 200 { // several multi-row statements, 50 repeats, a remainder
		n := i % 150
		recs = append(recs, siemsync.Audit{ID: fmt.Sprintf("id-%d", n), Account: acct, Time: t0.Add(time.Duration(n) * time.Minute),
			Event: "login", User: fmt.Sprintf("user-%d", n)})
	}
	ingest := func(batch bool) int {
		in, err := db.BeginIngest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer in.Rollback()
		stored := 0
		if batch {
			stored, err = in.AuditBatch(recs)
		} else {
			for i := range recs {
				var ok bool
				ok, err = in.Audit(&recs[i])
				if ok {
					stored++
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Commit(); err != nil {
			t.Fatal(err)
		}
		return stored
	}
	if n := ingest(true); n != 150 {
		t.Fatalf("first ingest stored %d, want 150", n)
	}
	if n := ingest(true); n != 0 {
		t.Errorf("batch re-ingest stored %d, want 0", n)
	}
	if n := ingest(false); n != 0 {
		t.Errorf("one-by-one re-ingest stored %d, want 0", n)
	}
	page, err := db.AuditPage(context.Background(), store.AuditQuery{Account: acct, Limit: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, a := range page {
		// Seq order is input order, even for the records that lost their key.
		if want := fmt.Sprintf("id-%d", i); i < 150 && a.ID != want {
			t.Errorf("record %d is %s, want %s: seq order must follow the input", i, a.ID, want)
		}
		if seen[a.ID] {
			t.Errorf("%s stored twice", a.ID)
		}
		seen[a.ID] = true
		if want := "user-" + strings.TrimPrefix(a.ID, "id-"); a.User != want {
			t.Errorf("%s has user %q, want %q", a.ID, a.User, want)
		}
	}
	if len(seen) != 150 {
		t.Errorf("%d distinct records stored, want 150", len(seen))
	}
}

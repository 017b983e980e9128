package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

func addSeeds(f *testing.F, file string, extra ...string) {
	fh, err := os.Open(file)
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f.Add(bytes.Clone(sc.Bytes()))
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// FuzzIngestAuditLine checks the hand-written reader against encoding/json:
// it never panics, everything it accepts is valid JSON holding exactly the
// values it read, and an accepted record written back out reads the same.
func FuzzIngestAuditLine(f *testing.F) {
	addSeeds(f, "testdata/audit.ndjson",
		`{"time":"2026-11-21T10:00:00Z","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"\ud83d\ude00 \ud83d x \udc00\u0041"}`,
		`{"time":"2026-11-21T10:00:00Z","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"e","metadata":{"a":[1e400,-0.5E+3,true,false,null,{}],"b\"":"\/"}}`,
		`{"time":"2026-11-21T10:00:00Z","event":"e","metadata":{"a":[[[[[]]]]]}, "account" : "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90" }`,
		`{"id":"x","time":"1999-12-31T23:59:59.9999999-12:00","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","event":"e","ip":"::ffff:1.2.3.4"}`,
		`{}`, `[]`, `{"metadata":{`, `{"time":"`, "\xef\xbb\xbf{}",
	)
	f.Fuzz(func(t *testing.T, line []byte) {
		p := newParser("")
		var a siemsync.Audit
		err := p.audit(line, &a)
		if err != nil {
			if _, ok := lineError(1, line, err).(*siemsync.FieldError); !ok {
				t.Fatalf("error %v is not a FieldError", err)
			}
			return
		}
		m := decodeStd(t, line)
		for k := range m {
			switch k {
			case "id", "time", "account", "connector", "acl", "method", "user", "ip", "metadata", "event":
			default:
				t.Fatalf("accepted unknown field %q", k)
			}
		}
		for _, c := range []struct {
			key string
			got string
		}{{"acl", a.ACL}, {"method", a.Method}, {"user", a.User}, {"event", a.Event}, {"ip", a.IP}} {
			want, _ := m[c.key].(string)
			if c.got != want {
				t.Fatalf("%s = %q, encoding/json reads %q", c.key, c.got, want)
			}
		}
		if id, _ := m["id"].(string); id != "" && a.ID != id {
			t.Fatalf("id = %q, encoding/json reads %q", a.ID, id)
		}
		ts, _ := time.Parse(time.RFC3339Nano, m["time"].(string))
		if !a.Time.Equal(ts.Truncate(time.Millisecond)) || a.Time.Location() != time.UTC {
			t.Fatalf("time = %v, encoding/json reads %v", a.Time, ts)
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			var compact bytes.Buffer
			if err := json.Compact(&compact, a.Metadata); err != nil || !bytes.Equal(compact.Bytes(), a.Metadata) {
				t.Fatalf("metadata %q is not compact JSON", a.Metadata)
			}
			if got := decodeStd(t, a.Metadata); !reflect.DeepEqual(got, md) {
				t.Fatalf("metadata = %v, encoding/json reads %v", got, md)
			}
		} else if a.Metadata != nil {
			t.Fatalf("metadata %q from %v", a.Metadata, m["metadata"])
		}

		// Round trip: write the record out and read it back.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // metadata passes through unchanged
		err = enc.Encode(map[string]any{
			"id": a.ID, "time": a.Time.Format(time.RFC3339Nano), "account": a.Account, "connector": a.Connector,
			"acl": a.ACL, "method": a.Method, "user": a.User, "ip": a.IP, "metadata": a.Metadata, "event": a.Event,
		})
		if err != nil {
			t.Fatal(err)
		}
		out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		var b siemsync.Audit
		if err := p.audit(out, &b); err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", a, b)
		}
	})
}

// FuzzIngestJobLine: never panics, and accepts only valid JSON.
func FuzzIngestJobLine(f *testing.F) {
	addSeeds(f, "testdata/jobs.ndjson", `{"job":"0b9e7c1a-1111-4a2b-8c3d-000000000001","account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90","status":"scheduled","progress":1e-300}`)
	f.Fuzz(func(t *testing.T, line []byte) {
		p := newParser("")
		var j siemsync.Job
		if err := p.job(line, &j); err != nil {
			return
		}
		m := decodeStd(t, line)
		if s, _ := m["status"].(string); s != j.Status {
			t.Fatalf("status = %q, encoding/json reads %q", j.Status, s)
		}
		if j.Progress != nil && (*j.Progress < 0 || *j.Progress > 1) {
			t.Fatalf("progress %v accepted", *j.Progress)
		}
	})
}

// decodeStd reads b with encoding/json, which must accept it.
func decodeStd(t *testing.T, b []byte) map[string]any {
	t.Helper()
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || d.More() {
		t.Fatalf("accepted %q, which encoding/json rejects: %v", b, err)
	}
	return m
}

package hecrecv

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/gen"
)

// envelopes returns about size bytes of HEC envelopes of realistic audit
// events, one a line.
func envelopes(size int) []byte {
	g := gen.New(5)
	acc := g.Account()
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		r := g.Audit(acc, time.Unix(1763719200, 0).Add(time.Duration(i)*time.Millisecond))
		line, _ := json.Marshal(map[string]any{
			"time": 1763719200.123, "host": "eu-1.example.net", "source": "siemsync:audit", "sourcetype": "_json",
			"event": map[string]any{"kind": "audit", "id": r.ID, "time": r.Time, "upload_time": r.Time, "host": "eu-1.example.net",
				"account": r.Account, "connector": nil, "acl": r.ACL, "method": r.Method, "user": r.User, "ip": r.IP,
				"metadata": r.Metadata, "event": r.Event},
		})
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkCountObjects is the Discard path's counting of a 4 MiB batch.
func BenchmarkCountObjects(b *testing.B) {
	body := envelopes(4 << 20)
	want := bytes.Count(body, []byte{'\n'})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if n := countObjects(body); n != want {
			b.Fatalf("%d objects, want %d", n, want)
		}
	}
}

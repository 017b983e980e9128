package hecrecv

import (
	"fmt"
	"strings"
	"testing"
)

// TestObjectCounterChunks feeds bodies to the counter split at every
// position: a string, an escape or a brace cut between two reads must not
// change the count.
func TestObjectCounterChunks(t *testing.T) {
	bodies := []string{
		`{}{}`,
		"{\"a\":{\"b\":{}}}\n{\"x\":\"}{\"}\n",
		`{"s":"\\"}{"t":"\"{"}`,
		`{"e":"a\\\"b{"} {"f":"\\\\"}`,
		ev("a") + "\n" + ev(`q"{}`) + "\n",
	}
	for _, b := range bodies {
		want := countObjects([]byte(b))
		for i := 0; i <= len(b); i++ {
			var c objectCounter
			c.write([]byte(b[:i]))
			c.write([]byte(b[i:]))
			if c.n != want {
				t.Errorf("%s split at %d: %d objects, want %d", b, i, c.n, want)
			}
		}
	}
}

// TestDiscardLargeGzip counts a gzipped body that takes many reads to
// decode, and refuses a blank one.
func TestDiscardLargeGzip(t *testing.T) {
	r, base := newServer(t, Options{Discard: true})
	var b strings.Builder
	for i := range 5000 {
		b.WriteString(ev(fmt.Sprintf("id-%d-{\\\"}", i)) + "\n")
	}
	if status, body, _ := (req{body: b.String(), gzip: true}).do(t, base); status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	if r.Count() != 5000 || r.Bytes() != int64(b.Len()) {
		t.Fatalf("count %d bytes %d, want 5000 and %d", r.Count(), r.Bytes(), b.Len())
	}
	if status, _, _ := (req{body: " \n ", gzip: true}).do(t, base); status != 400 {
		t.Fatalf("blank body: status %d, want 400", status)
	}
}

// TestObjectCounterStrings covers the eight-at-a-time skip inside strings:
// long strings with a quote, a backslash or a brace at every position.
func TestObjectCounterStrings(t *testing.T) {
	for n := 0; n < 40; n++ {
		for _, special := range []string{`\"`, `\\`, `{`, `}`, `é`} {
			s := strings.Repeat("a", n) + special + strings.Repeat("b", 40-n)
			body := `{"k":"` + s + `"}` + "\n" + `{"k":["` + s + `",{"x":"}"}]}`
			if got := countObjects([]byte(body)); got != 2 {
				t.Fatalf("%s: %d objects, want 2", body, got)
			}
		}
	}
}

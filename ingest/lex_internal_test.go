package ingest

import (
	"math/rand/v2"
	"testing"
)

// plainLen, which reads eight bytes at a time, stops where a byte-by-byte
// scan stops: at the first quote, backslash or control character,
// wherever it falls in a word and whatever follows it in the word (bytes
// just above and below the limits, UTF-8 bytes above 0x7f).
func TestPlainLen(t *testing.T) {
	slow := func(b []byte) int {
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 {
				return i
			}
		}
		return len(b)
	}
	alphabet := []byte{'a', '"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x21, '[', ']', 0x7f, 0x80, 0xa2, 0xe2, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, 40)
	for range 200_000 {
		b = b[:rng.IntN(cap(b))]
		for i := range b {
			b[i] = 'x'
			if rng.IntN(8) == 0 { // mostly plain, as in real strings
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		if got, want := plainLen(b), slow(b); got != want {
			t.Fatalf("plainLen(%q) = %d, want %d", b, got, want)
		}
	}
}

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/siemsync/siemsync/internal/gen"
)

// templates is how many distinct audit records the generator makes with
// internal/gen; every record streamed is one of them with a fresh id, time
// and account. gen builds a record with fmt, a map and encoding/json (some
// 20 µs), which would make the generator, not ingest, the bottleneck.
const templates = 1024

// auditStream writes NDJSON audit records: realistic ones (internal/gen:
// 450–660 bytes with metadata), cheap enough to make at several hundred
// thousand a second. Record i of an account occurs at base + i ms.
type auditStream struct {
	tails [][]byte // each template after its account value: `","connector":…}`
	rng   *rand.Rand
	base  time.Time
	lines atomic.Int64 // records written so far
	bytes atomic.Int64 // NDJSON bytes written so far
}

func newAuditStream(seed uint64, base time.Time) *auditStream {
	g := gen.New(seed)
	acc := g.Account()
	s := &auditStream{rng: rand.New(rand.NewPCG(seed, seed+1)), base: base}
	for i := range templates {
		line := gen.AppendAudit(nil, g.Audit(acc, base.Add(time.Duration(i)*time.Millisecond)))
		// json.Marshal writes the fields in declaration order: id, time,
		// account, then the rest; keep what follows the account.
		k := bytes.Index(line, []byte(`"account":"`+acc))
		if k < 0 {
			panic("bench: unexpected generated record " + string(line))
		}
		s.tails = append(s.tails, line[k+len(`"account":"`)+len(acc):])
	}
	return s
}

// appendRecord appends record i (0-based, counted per account) of account.
func (s *auditStream) appendRecord(b []byte, account string, i int) []byte {
	var u [16]byte
	lo, hi := s.rng.Uint64(), s.rng.Uint64()
	for k := range 8 {
		u[k], u[8+k] = byte(lo>>(8*k)), byte(hi>>(8*k))
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	b = append(b, `{"id":"`...)
	var h [36]byte
	hex.Encode(h[0:8], u[0:4])
	h[8] = '-'
	hex.Encode(h[9:13], u[4:6])
	h[13] = '-'
	hex.Encode(h[14:18], u[6:8])
	h[18] = '-'
	hex.Encode(h[19:23], u[8:10])
	h[23] = '-'
	hex.Encode(h[24:], u[10:])
	b = append(b, h[:]...)
	b = append(b, `","time":"`...)
	b = s.base.Add(time.Duration(i)*time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","account":"`...)
	b = append(b, account...)
	return append(b, s.tails[s.rng.IntN(len(s.tails))]...)
}

// write streams records [from, to) of the global order to w: perAccount
// records of each account in turn, account after account.
func (s *auditStream) write(ctx context.Context, w io.Writer, accounts []string, perAccount, from, to int) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	buf := make([]byte, 0, 1024)
	for g := from; g < to; g++ {
		if g&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		buf = s.appendRecord(buf[:0], accounts[g/perAccount], g%perAccount)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		s.lines.Add(1)
		s.bytes.Add(int64(len(buf)))
	}
	return bw.Flush()
}

// errf wraps an error with a phase name.
func errf(phase string, err error) error { return fmt.Errorf("%s: %w", phase, err) }

package ingest_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/internal/gen"
)

// auditFile builds NDJSON files of realistic audit records (internal/gen:
// 450–660 bytes each, with metadata) of one account. Each call returns a
// file of n records with ids never used before, so every record is new.
type auditFile struct {
	templates [][]byte // lines without their leading `{"id":"…",`
	next      int
}

func newAuditFile(tb testing.TB) *auditFile {
	tb.Helper()
	g := gen.New(3)
	acc := g.Account()
	f := &auditFile{}
	for i := range 512 {
		line := gen.AppendAudit(nil, g.Audit(acc, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second)))
		k := bytes.Index(line, []byte(`"time":`))
		if k < 0 {
			tb.Fatalf("unexpected record %s", line)
		}
		f.templates = append(f.templates, line[k:])
	}
	return f
}

func (f *auditFile) make(buf []byte, n int) []byte {
	buf = buf[:0]
	for range n {
		buf = fmt.Appendf(buf, `{"id":"00000000-0000-4000-8000-%012d",`, f.next)
		buf = append(buf, f.templates[f.next%len(f.templates)]...)
		f.next++
	}
	return buf
}

// BenchmarkIngestAudit ingests NDJSON files of 10,000 new realistic audit
// records each (one transaction per file) into a store that keeps growing.
func BenchmarkIngestAudit(b *testing.B) {
	const perFile = 10_000
	db := openDB(b)
	files := newAuditFile(b)
	var buf []byte
	var cpu time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		buf = files.make(buf, perFile)
		b.StartTimer()
		clk := startCPU()
		res, err := ingest.Audit(b.Context(), db, bytes.NewReader(buf), ingest.Options{})
		cpu += clk.stop()
		if err != nil {
			b.Fatal(err)
		}
		if res.Stored != perFile {
			b.Fatalf("stored %d of %d", res.Stored, perFile)
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N)*perFile/b.Elapsed().Seconds(), "records/s")
	// CPU per record: a busy machine disturbs it less than wall time.
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/(float64(b.N)*perFile), "cpu-µs/record")
}

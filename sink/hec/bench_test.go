package hec

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/gen"
)

// realisticEvents returns n audit events as internal/gen makes them
// (450–660 bytes of NDJSON each, with metadata), as the store returns them.
func realisticEvents(tb testing.TB, n int) []siemsync.Event {
	tb.Helper()
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	recs := gen.New(42).Audits(n, base)
	evs := make([]siemsync.Event, n)
	for i := range evs {
		recs[i].Seq = int64(i + 1)
		evs[i] = siemsync.Event{Audit: &recs[i], Host: "eu-1.example.net", UploadTime: base.Add(time.Hour)}
	}
	return evs
}

// batchOf encodes events (cycling through evs) into one batch of at least
// size bytes, the way the sync cycle's builder does, and returns how many
// events it holds.
func batchOf(s *Sink, dst []byte, evs []siemsync.Event, size int) ([]byte, int) {
	n := 0
	for len(dst) < size {
		dst = s.Append(dst, &evs[n%len(evs)])
		n++
	}
	return dst, n
}

// BenchmarkBatchGzip is batch assembly as a cycle does it: encode
// realistic audit events into a 4 MiB batch, then gzip it with the
// sink's pooled writer and level. Bytes are the uncompressed batch.
func BenchmarkBatchGzip(b *testing.B) {
	s := newTestSink(b, nil, Options{})
	evs := realisticEvents(b, 2000)
	buf := make([]byte, 0, siemsync.DefaultMaxBatchBytes+16<<10)
	var events, wire int
	b.ReportAllocs()
	for b.Loop() {
		buf, events = batchOf(s, buf[:0], evs, siemsync.DefaultMaxBatchBytes)
		z := compress(buf)
		wire = z.Len()
		releaseBuf(z)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(buf))/float64(wire), "ratio")
}

// BenchmarkGzip compares compressors and levels on a 4 MiB batch of
// realistic events and on a periodic cycle's few: it is why the sink uses
// klauspost/compress at BestSpeed (stateless compression gains nothing on
// small bodies and loses on large ones).
func BenchmarkGzip(b *testing.B) {
	s := newTestSink(b, nil, Options{})
	evs := realisticEvents(b, 2000)
	type writer interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	for _, c := range []struct {
		name string
		w    func() writer
	}{
		{"lib=klauspost/level=1", func() writer { w, _ := gzip.NewWriterLevel(nil, 1); return w }},
		{"lib=klauspost/level=5", func() writer { w, _ := gzip.NewWriterLevel(nil, 5); return w }},
		{"lib=klauspost/level=9", func() writer { w, _ := gzip.NewWriterLevel(nil, 9); return w }},
		{"lib=stdlib/level=1", func() writer { w, _ := stdgzip.NewWriterLevel(nil, 1); return w }},
		{"lib=klauspost/stateless", func() writer { w, _ := gzip.NewWriterLevel(nil, gzip.StatelessCompression); return w }},
		{"lib=stdlib/level=6", func() writer { w, _ := stdgzip.NewWriterLevel(nil, 6); return w }},
	} {
		// A drain's batch, and a periodic cycle's ten events.
		for _, size := range []int{siemsync.DefaultMaxBatchBytes, 5 << 10} {
			body, _ := batchOf(s, nil, evs, size)
			b.Run(fmt.Sprintf("%s/size=%d", c.name, size), func(b *testing.B) {
				zw := c.w()
				var out bytes.Buffer
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					out.Reset()
					zw.Reset(&out)
					zw.Write(body)
					zw.Close()
				}
				b.ReportMetric(float64(len(body))/float64(out.Len()), "ratio")
			})
		}
	}
}

// BenchmarkAppendRealistic encodes realistic audit events one at a time.
func BenchmarkAppendRealistic(b *testing.B) {
	s := newTestSink(b, nil, Options{})
	evs := realisticEvents(b, 1024)
	buf := make([]byte, 0, 4096)
	var total int
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = s.Append(buf[:0], &evs[i%len(evs)])
		total += len(buf)
		i++
	}
	b.SetBytes(int64(total / max(i, 1)))
}

// BenchmarkNew is the sink a cycle builds for its integration, with the
// process's shared transports as serve has them: a periodic cycle of a
// few events pays it once.
func BenchmarkNew(b *testing.B) {
	trs := NewTransports(TransportOptions{})
	in := &siemsync.Integration{ID: "int-1", URL: "http://127.0.0.1:8088",
		Token: "00000000-0000-0000-0000-000000000000", Gzip: true, Index: "main"}
	opts := Options{AllowPrivate: true, Transports: trs, Hostname: "h"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(in, opts); err != nil {
			b.Fatal(err)
		}
	}
}

package postgres_test

import (
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/gen"
	"github.com/siemsync/siemsync/store"
)

// realisticAudit returns n audit records of one account as internal/gen
// makes them (450–660 bytes of NDJSON each, with metadata).
func realisticAudit(tb testing.TB, n int) []siemsync.Audit {
	tb.Helper()
	return gen.New(7).Audits(n, time.Now().UTC().Truncate(time.Hour))
}

// BenchmarkIngestAudit stores realistic records in batches of 4,096, as
// ingest does, 98,304 a transaction. ns/op is the wall time per record,
// waits for PostgreSQL included; allocations are siemsync's. (siemsync
// bench --db postgres://… reports the CPU of both sides.)
func BenchmarkIngestAudit(b *testing.B) {
	db := open(b)
	recs := realisticAudit(b, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	const batch, perTx = 4096, 24 * 4096
	for lo := 0; lo < len(recs); lo += perTx {
		in, err := db.BeginIngest(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		for i := lo; i < min(len(recs), lo+perTx); i += batch {
			if _, err := in.AuditBatch(recs[i:min(len(recs), i+batch, lo+perTx)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := in.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditPage reads pages of 1,000 realistic records, as a sync
// cycle does, from an account of 50,000.
func BenchmarkAuditPage(b *testing.B) {
	const total, page = 50_000, 1000
	db := open(b)
	recs := realisticAudit(b, total)
	in, err := db.BeginIngest(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < total; i += 256 {
		if _, err := in.AuditBatch(recs[i:min(total, i+256)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := in.Commit(); err != nil {
		b.Fatal(err)
	}
	var dst []siemsync.Audit
	var after int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dst, err = db.AuditPage(b.Context(), store.AuditQuery{Account: recs[0].Account, After: after, Limit: page}, dst)
		if err != nil {
			b.Fatal(err)
		}
		after = dst[len(dst)-1].Seq
		if after >= int64(total) {
			after = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*page), "ns/record")
}

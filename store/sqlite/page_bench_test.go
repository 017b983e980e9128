package sqlite_test

import (
	"testing"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/gen"
	"github.com/siemsync/siemsync/store"
)

// realisticAudit returns n audit records of one account as internal/gen
// makes them (450–660 bytes of NDJSON each, with metadata).
func realisticAudit(tb testing.TB, n int) []siemsync.Audit {
	tb.Helper()
	return gen.New(7).Audits(n, t0)
}

// BenchmarkAuditPage reads pages of 1,000 realistic records, as a sync
// cycle does, from an account of 50,000.
func BenchmarkAuditPage(b *testing.B) {
	const total, page = 50_000, 1000
	f := setup(b)
	recs := realisticAudit(b, total)
	in, err := f.db.BeginIngest(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := in.AuditBatch(recs); err != nil {
		b.Fatal(err)
	}
	if err := in.Commit(); err != nil {
		b.Fatal(err)
	}
	var dst []siemsync.Audit
	var after int64
	b.ReportAllocs()
	for b.Loop() {
		dst, err = f.db.AuditPage(b.Context(), store.AuditQuery{Account: recs[0].Account, After: after, Limit: page}, dst)
		if err != nil {
			b.Fatal(err)
		}
		if len(dst) < page {
			after = 0
			continue
		}
		after = dst[len(dst)-1].Seq
	}
	b.ReportMetric(float64(b.N)*page/b.Elapsed().Seconds(), "records/s")
}

package sqlite_test

import (
	"encoding/json"
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
	g := gen.New(7)
	acc := g.Account()
	recs := make([]siemsync.Audit, n)
	for i := range recs {
		r := g.Audit(acc, t0.Add(time.Duration(i)*time.Millisecond))
		meta, err := json.Marshal(r.Metadata)
		if err != nil {
			tb.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339Nano, r.Time)
		recs[i] = siemsync.Audit{ID: r.ID, Time: ts, Account: r.Account, Connector: r.Connector,
			ACL: r.ACL, Method: r.Method, User: r.User, IP: r.IP, Metadata: meta, Event: r.Event}
	}
	return recs
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

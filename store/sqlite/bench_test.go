package sqlite_test

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRecords are n records shaped like ingest's: ten accounts, random-ish
// ids, compact metadata.
func benchRecords(file, n int) []siemsync.Audit {
	recs := make([]siemsync.Audit, n)
	for i := range recs {
		recs[i] = siemsync.Audit{
			ID:        fmt.Sprintf("%08x-0e8b-4f6a-9c1d-%012x", uint32(i*2654435761)^uint32(file), file),
			Time:      t0.Add(time.Duration(i) * time.Millisecond),
			Account:   fmt.Sprintf("3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c9%d", i%10),
			Connector: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", ACL: "connectors:write", Method: "POST",
			User: "alice@example.com", IP: "203.0.113.42",
			Metadata: json.RawMessage(fmt.Sprintf(`{"request_id":"r-%d","path":"/api/v2/connectors/7/settings","status":201}`, i)),
			Event:    "connector.settings.updated",
		}
	}
	return recs
}

// BenchmarkIngestAuditBatch measures the store side of ingest alone:
// AuditBatch and Commit of 10,000 records per transaction.
func BenchmarkIngestAuditBatch(b *testing.B) {
	const perTx = 10000
	f := setup(b)
	b.ReportAllocs()
	var cpu time.Duration
	for i := range b.N {
		b.StopTimer()
		recs := benchRecords(i, perTx)
		b.StartTimer()
		c := processCPU()
		in, err := f.db.BeginIngest(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if n, err := in.AuditBatch(recs); err != nil || n != perTx {
			b.Fatal(n, err)
		}
		if err := in.Commit(); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c
	}
	n := float64(b.N * perTx)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/record")
}

package store_test

import (
	"database/sql"
	"path/filepath"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"
	"github.com/siemsync/siemsync/store"
)

func cpuNow() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkZZPacked(b *testing.B) {
	path := filepath.Join(b.TempDir(), "x.db")
	db, err := store.Open(b.Context(), path, store.Options{})
	if err != nil { b.Fatal(err) }
	recs := realisticAudit(b, 20000)
	in, _ := db.BeginIngest(b.Context())
	in.AuditBatch(recs)
	in.Commit()
	db.Close()
	r, _ := sql.Open("sqlite", path+"?_query_only=1")
	defer r.Close()
	for _, q := range []struct{name, sql string; n int}{
		{"plain", `SELECT seq, id, time_ms, connector, acl, method, user_name, ip, metadata, event FROM audit WHERE account_num = 1 AND seq > ? ORDER BY seq LIMIT 1000`, 10},
		{"lens", `SELECT seq, time_ms, metadata, length(CAST(id AS BLOB)), length(CAST(connector AS BLOB)), length(CAST(acl AS BLOB)), length(CAST(method AS BLOB)), length(CAST(user_name AS BLOB)), length(CAST(ip AS BLOB)), id || connector || acl || method || user_name || ip || event FROM audit WHERE account_num = 1 AND seq > ? ORDER BY seq LIMIT 1000`, 9},
		{"packed", `SELECT seq, time_ms, metadata, printf('%d,%d,%d,%d,%d,%d,%d,', length(CAST(id AS BLOB)), length(CAST(connector AS BLOB)), length(CAST(acl AS BLOB)), length(CAST(method AS BLOB)), length(CAST(user_name AS BLOB)), length(CAST(ip AS BLOB)), length(CAST(event AS BLOB))) || id || connector || acl || method || user_name || ip || event FROM audit WHERE account_num = 1 AND seq > ? ORDER BY seq LIMIT 1000`, 4},
	} {
		b.Run(q.name, func(b *testing.B) {
			var after int64
			c0 := cpuNow()
			for b.Loop() {
				rows, err := r.Query(q.sql, after)
				if err != nil { b.Fatal(err) }
				n := 0
				var seq, t int64
				var meta sql.RawBytes
				var s [7]string
				var packed string
				for rows.Next() {
					if q.n == 10 {
						rows.Scan(&seq, &s[0], &t, &s[1], &s[2], &s[3], &s[4], &s[5], &meta, &s[6])
					} else if q.n == 9 {
						var l [6]int
						rows.Scan(&seq, &t, &meta, &l[0], &l[1], &l[2], &l[3], &l[4], &l[5], &packed)
					} else {
						rows.Scan(&seq, &t, &meta, &packed)
					}
					n++
				}
				rows.Close()
				after = seq
				if n < 1000 { after = 0 }
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(cpuNow()-c0)/float64(b.N)/1000, "cpu-ns/row")
		})
	}
}

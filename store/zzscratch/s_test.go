package zzscratch

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(0, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const schema = `CREATE TABLE accounts (num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
INSERT INTO accounts (id) VALUES ('a0'),('a1'),('a2'),('a3'),('a4'),('a5'),('a6'),('a7'),('a8'),('a9');
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, account_num INTEGER NOT NULL REFERENCES accounts (num), id TEXT NOT NULL, time_ms INTEGER NOT NULL,
    connector TEXT NOT NULL DEFAULT '', acl TEXT NOT NULL DEFAULT '', method TEXT NOT NULL DEFAULT '', user_name TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '', metadata BLOB, event TEXT NOT NULL, ingested_at INTEGER NOT NULL, UNIQUE (account_num, id));
CREATE INDEX audit_account_seq ON audit (account_num, seq);
`

func run(b *testing.B, schema, pre string, rows int, seqIDs bool) {
	dsn := filepath.Join(b.TempDir(), "x.db") + "?" + pre + "_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=foreign_keys(1)&_pragma=synchronous(normal)&_txlock=immediate&_pragma=cache_size(-32768)"
	db, _ := sql.Open("sqlite", dsn)
	db.SetMaxOpenConns(1)
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		b.Fatal(err)
	}
	ins := `INSERT INTO audit (account_num, id, time_ms, connector, acl, method, user_name, ip, metadata, event, ingested_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", rows), ",") + " ON CONFLICT (account_num, id) DO NOTHING"
	var cpu time.Duration
	args := make([]any, 0, 11*rows)
	for f := range b.N {
		c := cpuNow()
		tx, _ := db.Begin()
		st, err := tx.Prepare(ins)
		if err != nil {
			b.Fatal(err)
		}
		for i := range 10000 {
			id := fmt.Sprintf("%08x-0e8b-4f6a-9c1d-%012x", uint32(i*2654435761)^uint32(f), f)
			if seqIDs {
				id = fmt.Sprintf("%08x-0e8b-4f6a-9c1d-%012x", f, i)
			}
			args = append(args, int64(i%10+1), id, int64(1763719200000+i),
				"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "connectors:write", "POST", "alice@example.com", "203.0.113.42",
				[]byte(`{"request_id":"r-123456","path":"/api/v2/connectors/7/settings","status":201}`), "connector.settings.updated", int64(1763719200000))
			if len(args) == cap(args) {
				if _, err := st.Exec(args...); err != nil {
					b.Fatal(err)
				}
				args = args[:0]
			}
		}
		tx.Commit()
		cpu += cpuNow() - c
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*10000), "cpu-ns/rec")
}

func BenchmarkV(b *testing.B) {
	for _, v := range []struct {
		name, schema, pre string
		rows              int
		seq               bool
	}{
		{"seqids", schema + "CREATE INDEX audit_time ON audit(time_ms);", "", 64, true},
		{"full64", schema + "CREATE INDEX audit_time ON audit(time_ms);", "", 64, false},
		{"notime64", schema, "", 64, false},
		{"nofk-notime64", strings.Replace(schema, "REFERENCES accounts (num)", "", 1), "", 64, false},
		{"full128", schema + "CREATE INDEX audit_time ON audit(time_ms);", "", 128, false},
		{"full16", schema + "CREATE INDEX audit_time ON audit(time_ms);", "", 16, false},
		{"full64-p8k", schema + "CREATE INDEX audit_time ON audit(time_ms);", "_pragma=page_size(8192)&", 64, false},
		{"full64-p16k", schema + "CREATE INDEX audit_time ON audit(time_ms);", "_pragma=page_size(16384)&", 64, false},
		{"full64-noautoinc", strings.Replace(schema, "AUTOINCREMENT", "", 1) + "CREATE INDEX audit_time ON audit(time_ms);", "", 64, false},
	} {
		b.Run(v.name, func(b *testing.B) { run(b, v.schema, v.pre, v.rows, v.seq) })
	}
}

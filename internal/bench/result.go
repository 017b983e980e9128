package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strings"
)

// Result is what one bench run measured. Durations are in seconds, sizes
// in bytes, rates per second.
type Result struct {
	Mode        string  `json:"mode"` // drain or integrations
	Machine     Machine `json:"machine"`
	Destination string  `json:"destination"` // "built-in receiver" or the HEC URL
	Store       string  `json:"store"`       // "SQLite" or "PostgreSQL"

	Records        int64   `json:"records"`
	Integrations   int     `json:"integrations"`
	PerIntegration int     `json:"per_integration"`
	Gzip           bool    `json:"gzip"`
	MaxBatchBytes  int     `json:"max_batch_bytes"`
	MaxBatchEvents int     `json:"max_batch_events"`
	MaxInFlight    int     `json:"max_in_flight"`
	HECLatencyMS   float64 `json:"hec_latency_ms,omitempty"`
	PageSize       int     `json:"page_size"`
	Concurrency    int     `json:"concurrency"` // cycles at once per worker
	Workers        int     `json:"workers"`
	HECLatency     float64 `json:"hec_latency_seconds"`

	Ingest IngestStats `json:"ingest"`
	// SetupSeconds is the time to create the integrations (integrations mode).
	SetupSeconds float64   `json:"setup_seconds"`
	Sync         SyncStats `json:"sync"`

	// Verified: the destination accepted every record and (with the
	// built-in receiver) the receiver counted exactly that many events.
	Verified      bool  `json:"verified"`
	ReceiverCount int64 `json:"receiver_count"` // -1 with an external HEC
}

// Machine describes where the bench ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model"`
	MemTotal   int64  `json:"mem_total_bytes"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

// IngestStats is the NDJSON ingest phase.
type IngestStats struct {
	Records       int64   `json:"records"`
	Transactions  int     `json:"transactions"` // one ingest call (one file) each
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_second"`
	NDJSONBytes   int64   `json:"ndjson_bytes"`
	NDJSONMBps    float64 `json:"ndjson_mb_per_second"`
	Memory        Memory  `json:"memory"`
}

// SyncStats is the sync phase: one cycle of one integration (drain) or
// one cycle of every integration (integrations).
type SyncStats struct {
	Events       int64   `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_second"`
	RawBytes     int64   `json:"raw_bytes"`  // request bodies before compression
	WireBytes    int64   `json:"wire_bytes"` // request bodies as sent
	RawMBps      float64 `json:"raw_mb_per_second"`
	WireMBps     float64 `json:"wire_mb_per_second"`
	Compression  float64 `json:"compression_ratio"` // raw / wire

	Batches        int64   `json:"batches"`
	AvgBatchEvents float64 `json:"avg_batch_events"`
	AvgBatchBytes  float64 `json:"avg_batch_bytes"` // raw
	MaxBatchBytes  int64   `json:"max_batch_bytes_seen"`
	Requests       int64   `json:"requests"` // event POSTs, including retries
	FailedRequests int64   `json:"failed_requests"`
	LatencyP50     float64 `json:"request_latency_p50_seconds"`
	LatencyP99     float64 `json:"request_latency_p99_seconds"`
	LatencyMax     float64 `json:"request_latency_max_seconds"`
	// Connections is the number of TCP connections the built-in receiver
	// accepted (-1 with an external HEC): far fewer than Requests means
	// the client reuses connections.
	Connections int64 `json:"connections"`

	Cycles             int     `json:"cycles"`
	FailedCycles       int     `json:"failed_cycles"`
	IntegrationsPerSec float64 `json:"integrations_per_second"`
	CycleP50           float64 `json:"cycle_p50_seconds"`
	CycleP99           float64 `json:"cycle_p99_seconds"`

	Memory Memory `json:"memory"`
}

// Memory is the memory of one phase. PeakRSS is the kernel's high-water
// mark (VmHWM), reset at the start of the phase when RSSReset.
type Memory struct {
	PeakRSS     int64   `json:"peak_rss_bytes"`
	RSSReset    bool    `json:"rss_reset"`
	PeakHeap    int64   `json:"peak_heap_inuse_bytes"` // sampled (sampleEvery)
	PeakGoSys   int64   `json:"peak_go_sys_bytes"`     // memory the Go runtime held (sampled)
	GCs         uint32  `json:"gcs"`
	GCPauseSecs float64 `json:"gc_pause_seconds"`
	// Allocated is what the phase allocated on the Go heap: the work the
	// collector's CPU time follows.
	Allocated int64 `json:"allocated_bytes"`
	// CPUSecs is the CPU time (user + system) the process used in the
	// phase, the receiver's included with the built-in receiver.
	CPUSecs float64 `json:"cpu_seconds"`
	// GCCPUSecs is the part of it the garbage collector used (the
	// runtime's estimate).
	GCCPUSecs float64 `json:"gc_cpu_seconds"`
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		m.MemTotal = kB([]byte(v))
	}
	return m
}

// procField returns the value of the first "name: value" line of a /proc file.
func procField(path, name string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

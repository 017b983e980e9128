package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the result as one JSON object and a newline.
func WriteJSON(w io.Writer, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the result as a table for people.
func WriteTable(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	m := r.Machine
	gz := "on"
	if !r.Gzip {
		gz = "off"
	}
	switch r.Mode {
	case "drain":
		fmt.Fprintf(tw, "siemsync bench: drain %s records through one integration\n", group(r.Records))
	case "ingest":
		fmt.Fprintf(tw, "siemsync bench: ingest %s records\n", group(r.Records))
	default:
		fmt.Fprintf(tw, "siemsync bench: %s integrations × %s new records, one full cycle\n", group(int64(r.Integrations)), group(int64(r.PerIntegration)))
	}
	fmt.Fprintf(tw, "machine\t%d CPUs (GOMAXPROCS %d), %s, %s RAM, %s %s/%s\n", m.CPUs, m.GOMAXPROCS, orDash(m.CPUModel), gib(m.MemTotal), m.GoVersion, m.OS, m.Arch)
	if r.Mode != "ingest" {
		fmt.Fprintf(tw, "destination\t%s, gzip %s, batches ≤ %s / %s events, %d in flight, pages of %s\n", r.Destination, gz, mib(int64(r.MaxBatchBytes)), group(int64(r.MaxBatchEvents)), r.MaxInFlight, group(int64(r.PageSize)))
	}
	if r.Mode == "integrations" {
		fmt.Fprintf(tw, "concurrency\t%d cycles at once per worker, %s (serve's scheduler)\n", r.Concurrency, plural(r.Workers, "worker"))
	}
	fmt.Fprintln(tw)

	in := r.Ingest
	fmt.Fprintf(tw, "INGEST (NDJSON → %s)\n", r.Store)
	row(tw, "records", "%s in %s", group(in.Records), plural(in.Transactions, "transaction"))
	row(tw, "time", "%s", secs(in.Seconds))
	row(tw, "rate", "%s records/s  (%.1f MB/s of NDJSON, avg %d B/record)", group(int64(in.RecordsPerSec)), in.NDJSONMBps, div(in.NDJSONBytes, in.Records))
	row(tw, "CPU", "%s (%.0f%% of %d cores), %.1f µs/record", secs(in.Memory.CPUSecs), util(in.Memory.CPUSecs, in.Seconds, m.CPUs), m.CPUs, perItem(in.Memory.CPUSecs, in.Records))
	row(tw, "peak RSS", "%s", rss(in.Memory))
	row(tw, "Go heap peak", "%s in use, %s held; %d GCs", mib(in.Memory.PeakHeap), mib(in.Memory.PeakGoSys), in.Memory.GCs)
	if r.SetupSeconds > 0 {
		row(tw, "setup", "%s integrations created in %s", group(int64(r.Integrations)), secs(r.SetupSeconds))
	}
	fmt.Fprintln(tw)

	if r.Mode == "ingest" {
		check := "FAILED"
		if r.Verified {
			check = "ok"
		}
		row(tw, "check", "%s: %s records generated, %s stored", check, group(r.Records), group(in.Records))
		return tw.Flush()
	}
	s := r.Sync
	fmt.Fprintf(tw, "SYNC (store → sources → encoder → gzip → HTTP)\n")
	row(tw, "events", "%s in %s", group(s.Events), secs(s.Seconds))
	row(tw, "throughput", "%s events/s", group(int64(s.EventsPerSec)))
	if r.Mode == "integrations" {
		row(tw, "cycle wall time", "%s for %s cycles (%d failed)", secs(s.Seconds), group(int64(s.Cycles)), s.FailedCycles)
		row(tw, "integrations/s", "%.0f", s.IntegrationsPerSec)
		row(tw, "cycle p50 / p99", "%s / %s", ms(s.CycleP50), ms(s.CycleP99))
	}
	row(tw, "wire, raw", "%.1f MB/s  (%s)", s.RawMBps, mib(s.RawBytes))
	row(tw, "wire, compressed", "%.1f MB/s  (%s, ratio %.1f×)", s.WireMBps, mib(s.WireBytes), s.Compression)
	row(tw, "batches", "%s, avg %s events / %s raw, largest %s", group(s.Batches), group(int64(s.AvgBatchEvents+0.5)), mib(int64(s.AvgBatchBytes)), mib(s.MaxBatchBytes))
	row(tw, "requests", "%s (%d failed) over %s", group(s.Requests), s.FailedRequests, conns(s.Connections))
	row(tw, "request p50 / p99", "%s / %s (max %s)", ms(s.LatencyP50), ms(s.LatencyP99), ms(s.LatencyMax))
	row(tw, "CPU", "%s (%.0f%% of %d cores), %.1f µs/event", secs(s.Memory.CPUSecs), util(s.Memory.CPUSecs, s.Seconds, m.CPUs), m.CPUs, perItem(s.Memory.CPUSecs, s.Events))
	row(tw, "peak RSS", "%s", rss(s.Memory))
	row(tw, "Go heap peak", "%s in use, %s held; %d GCs using %s CPU, %s paused", mib(s.Memory.PeakHeap), mib(s.Memory.PeakGoSys), s.Memory.GCs, secs(s.Memory.GCCPUSecs), ms(s.Memory.GCPauseSecs))
	row(tw, "allocated", "%s, %s/event", mib(s.Memory.Allocated), bytesPer(s.Memory.Allocated, s.Events))
	fmt.Fprintln(tw)
	check := "FAILED"
	if r.Verified {
		check = "ok"
	}
	switch {
	case r.ReceiverCount >= 0:
		row(tw, "check", "%s: %s records ingested, %s accepted, %s counted by the receiver", check, group(r.Records), group(s.Events), group(r.ReceiverCount))
	default:
		row(tw, "check", "%s: %s records ingested, %s accepted by the HEC", check, group(r.Records), group(s.Events))
	}
	return tw.Flush()
}

func util(cpu, wall float64, cpus int) float64 {
	if wall <= 0 || cpus <= 0 {
		return 0
	}
	return cpu / wall / float64(cpus) * 100
}

func perItem(secs float64, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return secs / float64(n) * 1e6
}

func row(w io.Writer, name, format string, args ...any) {
	fmt.Fprintf(w, "  %s\t%s\n", name, fmt.Sprintf(format, args...))
}

func rss(m Memory) string {
	switch {
	case m.PeakRSS == 0:
		return "n/a (no /proc/self/status on this system)"
	case m.RSSReset:
		return mib(m.PeakRSS) + " (VmHWM of this phase)"
	}
	return mib(m.PeakRSS) + " (VmHWM of the process: could not reset it)"
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}

func ms(s float64) string {
	if s < 0.01 {
		return fmt.Sprintf("%.2f ms", s*1000)
	}
	return fmt.Sprintf("%.1f ms", s*1000)
}

func gib(n int64) string { return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30)) }

func conns(n int64) string {
	if n < 0 {
		return "? TCP connections"
	}
	return plural(n, "TCP connection")
}

// plural is "1 thing" or "1,000 things".
func plural[N int | int64](n N, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return group(int64(n)) + " " + thing + "s"
}

func div(a, b int64) int64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// bytesPer is n bytes shared by count items, e.g. "4.1 KiB".
func bytesPer(n, count int64) string {
	if count <= 0 {
		return "-"
	}
	per := float64(n) / float64(count)
	if per < 1024 {
		return fmt.Sprintf("%.0f B", per)
	}
	return fmt.Sprintf("%.1f KiB", per/1024)
}

package metrics

import (
	"fmt"
	"reflect"
	"strings"
	gosync "sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const (
	helpCycles = "# HELP siemsync_cycles_total Sync cycles run, by integration and result.\n# TYPE siemsync_cycles_total counter\n"
	helpEvents = "# HELP siemsync_events_sent_total Events accepted by the destination.\n# TYPE siemsync_events_sent_total counter\n"
	helpBytes  = "# HELP siemsync_bytes_sent_total Bytes of accepted batches: raw (before compression) and wire (as sent).\n# TYPE siemsync_bytes_sent_total counter\n"
	helpLag    = "# HELP siemsync_lag_seconds Seconds since the integration's last complete cycle.\n# TYPE siemsync_lag_seconds gauge\n"
)

func TestIntegrationSeries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		record func(m *Metrics)
		want   string
	}{
		{"nothing recorded, no series", func(*Metrics) {}, ""},
		{"cycles by result, only those seen", func(m *Metrics) {
			m.CycleDone("a", "ok")
			m.CycleDone("a", "ok")
			m.CycleDone("b", "error")
		}, helpCycles +
			`siemsync_cycles_total{integration="a",result="ok"} 2` + "\n" +
			`siemsync_cycles_total{integration="b",result="error"} 1` + "\n"},
		{"events by source and their bytes", func(m *Metrics) {
			m.Sent("a", "audit", 10, 1000)
			m.Sent("a", "audit", 5, 400)
			m.Sent("a", "jobs", 2, 50)
			m.Sent("b", "jobs", 0, 0)
			m.SentWire("a", 300)
			m.SentWire("a", 20)
		}, helpBytes +
			`siemsync_bytes_sent_total{encoding="raw",integration="a"} 1450` + "\n" +
			`siemsync_bytes_sent_total{encoding="wire",integration="a"} 320` + "\n" +
			`siemsync_bytes_sent_total{encoding="raw",integration="b"} 0` + "\n" +
			helpEvents +
			`siemsync_events_sent_total{integration="a",source="audit"} 15` + "\n" +
			`siemsync_events_sent_total{integration="a",source="jobs"} 2` + "\n" +
			`siemsync_events_sent_total{integration="b",source="jobs"} 0` + "\n"},
		{"lag set, forgotten, set again for one; counters stay", func(m *Metrics) {
			m.CycleDone("a", "ok")
			m.SetLag("a", 30)
			m.SetLag("b", 7)
			m.ForgetLag()
			m.SetLag("b", 12.5)
		}, helpCycles +
			`siemsync_cycles_total{integration="a",result="ok"} 1` + "\n" +
			helpLag +
			`siemsync_lag_seconds{integration="b"} 12.5` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := New()
			tc.record(m)
			names := []string{"siemsync_cycles_total", "siemsync_events_sent_total", "siemsync_bytes_sent_total", "siemsync_lag_seconds"}
			if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(tc.want), names...); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNilMetricsRecordsNothing(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.CycleDone("a", "ok")
	m.Sent("a", "audit", 1, 1)
	m.SentWire("a", 1)
	m.SetLag("a", 1)
	m.ForgetLag()
	m.ObserveRequest("splunk_hec", 1)
}

func TestIntegrationSeriesConcurrent(t *testing.T) {
	t.Parallel()
	m := New()
	var wg gosync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				id := fmt.Sprintf("in-%d", i%10)
				m.CycleDone(id, "ok")
				m.Sent(id, "audit", 2, 3)
				if i%100 == 0 {
					m.SetLag(id, float64(g))
					if _, err := m.Registry.Gather(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	var want strings.Builder
	want.WriteString(helpCycles)
	for i := range 10 {
		fmt.Fprintf(&want, "siemsync_cycles_total{integration=\"in-%d\",result=\"ok\"} 400\n", i)
	}
	want.WriteString(helpEvents)
	for i := range 10 {
		fmt.Fprintf(&want, "siemsync_events_sent_total{integration=\"in-%d\",source=\"audit\"} 800\n", i)
	}
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want.String()), "siemsync_cycles_total", "siemsync_events_sent_total"); err != nil {
		t.Error(err)
	}
}

// TestRowHasNoPointers guards the point of row: a pointer in it would make
// the collector scan every integration's series again.
func TestRowHasNoPointers(t *testing.T) {
	t.Parallel()
	var check func(t reflect.Type) bool
	check = func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Array:
			return check(t.Elem())
		case reflect.Struct:
			for f := range t.Fields() {
				if !check(f.Type) {
					return false
				}
			}
			return true
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			return true
		}
		return false
	}
	if !check(reflect.TypeFor[row]()) {
		t.Errorf("row %v holds a pointer", reflect.TypeFor[row]())
	}
}

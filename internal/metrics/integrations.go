package metrics

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// column is one series of an integration: a metric and, for a metric with
// a second label, that label's value.
type column uint8

const (
	cyclesOK column = iota
	cyclesError
	eventsAudit
	eventsJobs
	bytesRaw
	bytesWire
	lagSeconds
	columns
)

// row is an integration's series, plain numbers with no pointer in them.
type row struct {
	v   [columns]float64
	set uint8 // bit c: the series of column c exists (was recorded)
}

// integrations holds the series that every integration has, one row each.
//
// They are not client_golang vectors: a vector keeps a child per label set
// (a metric, its label pairs, their strings, a map entry), a score of
// pointers per series. At ten thousand integrations that was ~24 MiB of
// pointers, and every collection scanned them all: 40 % of the garbage
// collector's work in a round of 10,000 cycles (README, "Performance").
// Here one map entry and one string lead to a pointer-free row; the metrics
// are built only when scraped.
type integrations struct {
	mu   sync.Mutex
	at   map[string]int32
	ids  []string
	rows []row

	descs [columns]*prometheus.Desc
	kinds [columns]prometheus.ValueType
	label [columns]string // the second label's value; "" for none
}

func newIntegrations() *integrations {
	cycles := prometheus.NewDesc("siemsync_cycles_total", "Sync cycles run, by integration and result.",
		[]string{"integration", "result"}, nil)
	events := prometheus.NewDesc("siemsync_events_sent_total", "Events accepted by the destination.",
		[]string{"integration", "source"}, nil)
	bytes := prometheus.NewDesc("siemsync_bytes_sent_total", "Bytes of accepted batches: raw (before compression) and wire (as sent).",
		[]string{"integration", "encoding"}, nil)
	lag := prometheus.NewDesc("siemsync_lag_seconds", "Seconds since the integration's last complete cycle.",
		[]string{"integration"}, nil)
	s := &integrations{at: map[string]int32{}}
	for c, d := range []struct {
		desc  *prometheus.Desc
		kind  prometheus.ValueType
		label string
	}{
		cyclesOK:    {cycles, prometheus.CounterValue, "ok"},
		cyclesError: {cycles, prometheus.CounterValue, "error"},
		eventsAudit: {events, prometheus.CounterValue, "audit"},
		eventsJobs:  {events, prometheus.CounterValue, "jobs"},
		bytesRaw:    {bytes, prometheus.CounterValue, "raw"},
		bytesWire:   {bytes, prometheus.CounterValue, "wire"},
		lagSeconds:  {lag, prometheus.GaugeValue, ""},
	} {
		s.descs[c], s.kinds[c], s.label[c] = d.desc, d.kind, d.label
	}
	return s
}

// row returns the row of integration id, adding it. Callers hold mu.
func (s *integrations) row(id string) *row {
	i, ok := s.at[id]
	if !ok {
		i = int32(len(s.rows))
		s.at[id] = i
		s.ids = append(s.ids, id)
		s.rows = append(s.rows, row{})
	}
	return &s.rows[i]
}

// update applies f to the row of integration id, adding the row, and
// marks the columns it names as recorded.
func (s *integrations) update(id string, f func(r *row), cs ...column) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.row(id)
	f(r)
	for _, c := range cs {
		r.set |= 1 << c
	}
}

// forget drops column c of every integration, as a vector's Reset does.
func (s *integrations) forget(c column) {
	s.mu.Lock()
	for i := range s.rows {
		s.rows[i].v[c] = 0
		s.rows[i].set &^= 1 << c
	}
	s.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (s *integrations) Describe(ch chan<- *prometheus.Desc) {
	for c, d := range s.descs {
		if c == 0 || d != s.descs[c-1] {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector. It copies the rows and sends
// the metrics after, so that cycles do not wait on a scrape.
func (s *integrations) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	ids, rows := s.ids, slices.Clone(s.rows) // ids only grows: its elements stay
	s.mu.Unlock()
	for i, r := range rows {
		for c := range columns {
			if r.set&(1<<c) == 0 {
				continue
			}
			labels := []string{ids[i], s.label[c]}
			if s.label[c] == "" {
				labels = labels[:1]
			}
			ch <- prometheus.MustNewConstMetric(s.descs[c], s.kinds[c], r.v[c], labels...)
		}
	}
}

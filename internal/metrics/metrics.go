// Package metrics defines the Prometheus collectors of siemsync in one
// place, so the sync cycle, the sinks and the admin server agree on names.
// Labels carry integration ids and reasons, never a token or a URL.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the set of collectors. A nil *Metrics is valid and records
// nothing, so tests and the CLI can pass nil.
type Metrics struct {
	Registry        *prometheus.Registry
	Cycles          *prometheus.CounterVec   // integration, result (ok|error)
	EventsSent      *prometheus.CounterVec   // integration, source
	BytesSent       *prometheus.CounterVec   // integration, encoding (raw|wire)
	Failures        *prometheus.CounterVec   // integration, reason
	SetAside        *prometheus.CounterVec   // integration
	Lag             *prometheus.GaugeVec     // integration
	RequestDuration *prometheus.HistogramVec // kind (splunk_hec|syslog_cef)
	CycleDuration   prometheus.Histogram
}

// New registers every collector on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siemsync_cycles_total", Help: "Sync cycles run, by integration and result.",
		}, []string{"integration", "result"}),
		EventsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siemsync_events_sent_total", Help: "Events accepted by the destination.",
		}, []string{"integration", "source"}),
		BytesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siemsync_bytes_sent_total", Help: "Bytes of accepted batches: raw (before compression) and wire (as sent).",
		}, []string{"integration", "encoding"}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siemsync_send_failures_total", Help: "Failed send attempts, by reason (class and HEC code or HTTP status).",
		}, []string{"integration", "reason"}),
		SetAside: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siemsync_set_aside_events_total", Help: "Events set aside because the destination rejected them.",
		}, []string{"integration"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "siemsync_lag_seconds", Help: "Seconds since the integration's last complete cycle.",
		}, []string{"integration"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "siemsync_request_duration_seconds", Help: "Duration of one request to a destination (HEC POST or syslog batch write).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		CycleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "siemsync_cycle_duration_seconds", Help: "Duration of one sync cycle of one integration.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
		}),
	}
	m.Registry.MustRegister(m.Cycles, m.EventsSent, m.BytesSent, m.Failures, m.SetAside, m.Lag, m.RequestDuration, m.CycleDuration)
	return m
}

// ObserveRequest records the duration in seconds of one request of a sink kind.
func (m *Metrics) ObserveRequest(kind string, seconds float64) {
	if m == nil {
		return
	}
	m.RequestDuration.WithLabelValues(kind).Observe(seconds)
}

// Package metrics defines the Prometheus collectors of siemsync in one
// place, so the sync cycle, the sinks and the admin server agree on names.
// Labels carry integration ids and reasons, never a token or a URL.
package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the set of collectors. A nil *Metrics is valid and records
// nothing, so tests and the CLI can pass nil.
type Metrics struct {
	Registry        *prometheus.Registry
	Failures        *prometheus.CounterVec   // integration, reason
	SetAside        *prometheus.CounterVec   // integration
	RequestDuration *prometheus.HistogramVec // kind (splunk_hec|syslog_cef)
	CycleDuration   prometheus.Histogram

	// cycles, events and bytes sent, lag: integration (and result, source,
	// encoding)
	integrations *integrations
	// RequestDuration's series of each kind, looked up once, not at every
	// request
	requests sync.Map // kind → prometheus.Observer
}

// New registers every collector on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siemsync_send_failures_total", Help: "Failed send attempts, by reason (class and HEC code or HTTP status).",
		}, []string{"integration", "reason"}),
		SetAside: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siemsync_set_aside_events_total", Help: "Events set aside because the destination rejected them.",
		}, []string{"integration"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "siemsync_request_duration_seconds", Help: "Duration of one request to a destination (HEC POST or syslog batch write).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		CycleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "siemsync_cycle_duration_seconds", Help: "Duration of one sync cycle of one integration.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
		}),
		integrations: newIntegrations(),
	}
	m.Registry.MustRegister(m.integrations, m.Failures, m.SetAside, m.RequestDuration, m.CycleDuration)
	return m
}

// ObserveRequest records the duration in seconds of one request of a sink kind.
func (m *Metrics) ObserveRequest(kind string, seconds float64) {
	if m == nil {
		return
	}
	o, ok := m.requests.Load(kind)
	if !ok {
		o, _ = m.requests.LoadOrStore(kind, m.RequestDuration.WithLabelValues(kind))
	}
	o.(prometheus.Observer).Observe(seconds)
}

// CycleDone counts a cycle of an integration by result: "ok" or "error".
func (m *Metrics) CycleDone(integration, result string) {
	if m == nil {
		return
	}
	c := cyclesError
	if result == "ok" {
		c = cyclesOK
	}
	m.integrations.update(integration, func(r *row) { r.v[c]++ }, c)
}

// Sent counts events of a source ("audit" or "jobs") the destination
// accepted, and their bytes before compression.
func (m *Metrics) Sent(integration, source string, events, bytes int) {
	if m == nil {
		return
	}
	c := eventsAudit
	if source == "jobs" {
		c = eventsJobs
	}
	m.integrations.update(integration, func(r *row) {
		r.v[c] += float64(events)
		r.v[bytesRaw] += float64(bytes)
	}, c, bytesRaw)
}

// SentWire counts the bytes of a request the destination accepted, as
// sent (compressed, when it was).
func (m *Metrics) SentWire(integration string, bytes int) {
	if m == nil {
		return
	}
	m.integrations.update(integration, func(r *row) { r.v[bytesWire] += float64(bytes) }, bytesWire)
}

// SetLag sets the seconds since an integration's last complete cycle.
func (m *Metrics) SetLag(integration string, seconds float64) {
	if m == nil {
		return
	}
	m.integrations.update(integration, func(r *row) { r.v[lagSeconds] = seconds }, lagSeconds)
}

// ForgetLag drops the lag of every integration, for a refresh that sets
// it for the enabled ones only.
func (m *Metrics) ForgetLag() {
	if m == nil {
		return
	}
	m.integrations.forget(lagSeconds)
}

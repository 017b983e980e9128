// Package otelhec is an interoperability test: the siemsync binary sends to
// the OpenTelemetry Collector's splunkhecreceiver, a HEC receiver written by
// others, running in the test's process, and the test checks what that
// receiver parsed (otelhec_test.go).
//
// It is a module of its own so that the collector's dependencies stay out
// of siemsync's go.mod. All OpenTelemetry modules are of one release,
// contrib v0.147.0 (core v1.53.0 / v0.147.0): later releases' modules are
// not all served by the Go module proxy.
package otelhec

package sync

import (
	"sync/atomic"

	"github.com/siemsync/siemsync"
)

// filterSink applies the integration's filters (SPEC §8.2) in front of the
// destination: a record they drop is encoded as nothing, which the batch
// builder already treats as "moves the checkpoint, sends nothing", and is
// counted. Heartbeats are never filtered (siemsync.Integration.Keeps).
type filterSink struct {
	Sink
	in       *siemsync.Integration
	filtered *atomic.Int64
}

// filter returns dest wrapped with the integration's filters, or dest
// itself when it has none.
func (c *cycle) filter(dest Sink) Sink {
	if !c.in.Filtering() {
		return dest
	}
	return &filterSink{Sink: dest, in: c.in, filtered: &c.filtered}
}

func (f *filterSink) Append(dst []byte, ev *siemsync.Event) []byte {
	if !f.in.Keeps(ev) {
		f.filtered.Add(1)
		return dst
	}
	return f.Sink.Append(dst, ev)
}

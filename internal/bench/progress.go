package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// isTTY reports whether w is a terminal (a character device).
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows how far a phase is: on a terminal a bar redrawn in place
// a few times a second; elsewhere (a log, CI) a plain line every few
// seconds. It writes nothing when w is nil.
type progress struct {
	w     io.Writer
	tty   bool
	label string
	total int64
	unit  string
	count func() int64
	rss   func() int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// Intervals of the progress display.
const (
	ttyEvery   = 200 * time.Millisecond
	plainEvery = 5 * time.Second
	barWidth   = 28
)

func startProgress(w io.Writer, tty bool, label string, total int64, unit string, count, rss func() int64) *progress {
	p := &progress{w: w, tty: tty, label: label, total: total, unit: unit, count: count, rss: rss, start: time.Now(), stop: make(chan struct{})}
	if w == nil {
		return p
	}
	every := plainEvery
	if tty {
		every = ttyEvery
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
	return p
}

// done stops the display and leaves a final line.
func (p *progress) done() {
	close(p.stop)
	p.wg.Wait()
	if p.w != nil {
		p.draw(true)
	}
}

func (p *progress) draw(final bool) {
	n := p.count()
	el := time.Since(p.start)
	rate := 0.0
	if s := el.Seconds(); s > 0 {
		rate = float64(n) / s
	}
	frac := 0.0
	if p.total > 0 {
		frac = min(1, float64(n)/float64(p.total))
	}
	var b strings.Builder
	if p.tty {
		b.WriteString("\r\x1b[K")
	}
	fmt.Fprintf(&b, "%-7s ", p.label)
	if p.tty {
		full := int(frac * barWidth)
		b.WriteString("[" + strings.Repeat("█", full) + strings.Repeat("·", barWidth-full) + "] ")
	}
	fmt.Fprintf(&b, "%3.0f%%  %s/%s %s  %s %s/s", frac*100, group(n), group(p.total), p.unit, group(int64(rate)), p.unit)
	if !final && rate > 0 && p.total > n {
		eta := time.Duration(float64(p.total-n) / rate * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
	}
	if final {
		fmt.Fprintf(&b, "  in %s", el.Round(time.Millisecond))
	}
	if p.rss != nil {
		if r := p.rss(); r > 0 {
			fmt.Fprintf(&b, "  RSS %s", mib(r))
		}
	}
	if !p.tty || final {
		b.WriteByte('\n')
	}
	io.WriteString(p.w, b.String()) //nolint:errcheck // progress is best effort
}

package sync

import (
	"sync/atomic"
	"time"
)

// goPool runs functions on goroutines that wait for the next one when
// theirs returns. A sender on a new goroutine grew its stack through
// net/http's and gzip's frames, copying it each time, for every request;
// a kept goroutine has its grown stack already.
type goPool struct {
	work chan func()
	idle time.Duration // a goroutine with nothing to run this long ends

	started atomic.Int64 // goroutines started
}

func newGoPool(idle time.Duration) *goPool {
	return &goPool{work: make(chan func()), idle: idle}
}

// run runs f on a waiting goroutine, or on a new one when none waits: it
// never queues f behind another.
func (p *goPool) run(f func()) {
	select {
	case p.work <- f:
	default:
		p.started.Add(1)
		go p.keep(f)
	}
}

func (p *goPool) keep(f func()) {
	t := time.NewTimer(p.idle)
	defer t.Stop()
	for {
		f()
		t.Reset(p.idle)
		select {
		case f = <-p.work:
		case <-t.C:
			return
		}
	}
}

package sync

import (
	"testing"
	"time"
)

// TestGoPoolNeverQueues: a busy goroutine does not hold the next function
// back; another goroutine starts for it.
func TestGoPoolNeverQueues(t *testing.T) {
	t.Parallel()
	p := newGoPool(time.Minute)
	ran := make(chan int)
	hold := make(chan struct{})
	p.run(func() { <-hold; ran <- 1 })
	p.run(func() { ran <- 2 })
	if got := <-ran; got != 2 {
		t.Fatalf("ran %d first, want 2 while 1 is held", got)
	}
	close(hold)
	if got := <-ran; got != 1 {
		t.Fatalf("ran %d, want 1", got)
	}
	if n := p.started.Load(); n != 2 {
		t.Fatalf("%d goroutines for two functions at once, want 2", n)
	}
}

// TestGoPoolKeepsGoroutines: once its function returns, a goroutine takes
// the next one.
func TestGoPoolKeepsGoroutines(t *testing.T) {
	t.Parallel()
	p := newGoPool(time.Minute)
	ran := make(chan int)
	p.run(func() { ran <- 0 })
	<-ran
	for i := 1; i <= 10; i++ {
		select {
		case p.work <- func() { ran <- i }:
		case <-time.After(5 * time.Second):
			t.Fatalf("function %d: no goroutine took it", i)
		}
		if got := <-ran; got != i {
			t.Fatalf("ran %d, want %d", got, i)
		}
	}
	if n := p.started.Load(); n != 1 {
		t.Errorf("%d goroutines started, want 1", n)
	}
}

// TestGoPoolIdleGoroutinesEnd: a goroutine with nothing to run for the
// idle time ends, and the next function starts a new one.
func TestGoPoolIdleGoroutinesEnd(t *testing.T) {
	t.Parallel()
	p := newGoPool(10 * time.Millisecond)
	for deadline := time.Now().Add(5 * time.Second); p.started.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the idle goroutine never ended")
		}
		done := make(chan struct{})
		p.run(func() { close(done) })
		<-done
		time.Sleep(50 * time.Millisecond) // five idle times
	}
}

// TestGoPoolRunReuses: run hands a function to a waiting goroutine. Each
// function is run after the last one returned and its goroutine had time
// to wait again; a few more goroutines than one may start when it had not
// yet, none per function.
func TestGoPoolRunReuses(t *testing.T) {
	t.Parallel()
	p := newGoPool(time.Minute)
	for range 50 {
		done := make(chan struct{})
		p.run(func() { close(done) })
		<-done
		time.Sleep(2 * time.Millisecond)
	}
	if n := p.started.Load(); n > 5 {
		t.Errorf("%d goroutines started for 50 functions one after another, want a few at most", n)
	}
}

package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus reads VmRSS and VmHWM (the kernel's resident-set high-water
// mark) of this process from /proc/self/status, in bytes. ok is false
// where there is no such file (not Linux).
func procStatus() (rss, hwm int64, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			rss = kB(line[len("VmRSS:"):])
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			hwm = kB(line[len("VmHWM:"):])
		}
	}
	return rss, hwm, rss > 0
}

func kB(f []byte) int64 {
	f = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(f), []byte("kB")))
	n, _ := strconv.ParseInt(string(f), 10, 64)
	return n << 10
}

// resetPeak returns freed memory to the OS and resets the kernel's RSS
// high-water mark to the current RSS (writing 5 to /proc/self/clear_refs,
// Linux ≥ 4.0), so that VmHWM afterwards is the peak of what follows. It
// reports whether the reset worked; when not, VmHWM stays the peak of the
// whole process.
func resetPeak() bool {
	runtime.GC()
	debug.FreeOSMemory()
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Write([]byte("5"))
	return err == nil
}

// sampler samples RSS and the Go heap while a phase runs: the kernel
// keeps the RSS peak (VmHWM) exactly; the heap peak is sampled.
type sampler struct {
	stop chan struct{}
	wg   sync.WaitGroup

	rss      atomic.Int64 // last sampled VmRSS
	mu       sync.Mutex
	heapPeak uint64 // max HeapInuse seen
	sysPeak  uint64 // max Sys (all memory the Go runtime holds) seen
	cpu0     time.Duration
	gcCPU0   float64
	gc0      uint32 // NumGC at the start
	pause0   uint64 // PauseTotalNs at the start
	alloc0   uint64 // TotalAlloc at the start
}

// sampleEvery is how often the sampler reads the heap and the RSS. The
// reads cost CPU that the phase's figures include; every 50 ms they were
// 1–2 % of a round of small cycles. The RSS peak is the kernel's, exact
// whatever the interval.
const sampleEvery = 250 * time.Millisecond

func startSampler() *sampler {
	s := &sampler{stop: make(chan struct{})}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.gc0, s.pause0, s.alloc0 = ms.NumGC, ms.PauseTotalNs, ms.TotalAlloc
	s.cpu0 = cpuTime()
	s.gcCPU0 = gcCPU()
	s.sample()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// heapSamples are read with runtime/metrics, which (unlike
// runtime.ReadMemStats) does not stop the world.
var heapSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/total:bytes"},
}

// gcCPU is the CPU time the garbage collector has used so far (an
// estimate the runtime keeps).
func gcCPU() float64 {
	m := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return m[0].Value.Float64()
}

func (s *sampler) sample() {
	ms := slices.Clone(heapSamples)
	metrics.Read(ms)
	inuse := ms[0].Value.Uint64() + ms[1].Value.Uint64()
	sys := ms[2].Value.Uint64()
	rss, _, _ := procStatus()
	s.rss.Store(rss)
	s.mu.Lock()
	s.heapPeak = max(s.heapPeak, inuse)
	s.sysPeak = max(s.sysPeak, sys)
	s.mu.Unlock()
}

// finish stops sampling and returns the peaks of the phase.
func (s *sampler) finish() Memory {
	close(s.stop)
	s.wg.Wait()
	s.sample()
	_, hwm, _ := procStatus()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.mu.Lock()
	defer s.mu.Unlock()
	return Memory{
		PeakRSS:     hwm,
		PeakHeap:    int64(s.heapPeak),
		PeakGoSys:   int64(s.sysPeak),
		GCs:         ms.NumGC - s.gc0,
		GCPauseSecs: float64(ms.PauseTotalNs-s.pause0) / 1e9,
		Allocated:   int64(ms.TotalAlloc - s.alloc0),
		CPUSecs:     (cpuTime() - s.cpu0).Seconds(),
		GCCPUSecs:   gcCPU() - s.gcCPU0,
	}
}

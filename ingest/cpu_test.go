package ingest_test

import (
	"syscall"
	"time"
)

// cpuClock measures the process's CPU time, which a busy machine disturbs
// less than wall time; with two pipeline stages it also shows how much of
// the second core ingest uses.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) stop() time.Duration { return processCPU() - c.start }

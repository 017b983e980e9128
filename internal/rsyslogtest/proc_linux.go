package rsyslogtest

import (
	"os"
	"syscall"
)

// procAttr starts rsyslogd in its own process group and has the kernel
// kill it when the test process dies without running its cleanups (a test
// timeout, a crash). Pdeathsig fires when the creating OS thread exits; the
// Go runtime only ends threads of goroutines that exit while locked to
// one, which test code here does not do.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

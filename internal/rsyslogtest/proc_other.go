//go:build !unix

package rsyslogtest

import (
	"os"
	"syscall"
)

// rsyslogd does not run here; Start skips before using this.
func procAttr() *syscall.SysProcAttr { return nil }

func terminate(p *os.Process) error { return p.Kill() }

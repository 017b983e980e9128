package syslog

import "syscall"

// killWithParent has the kernel kill rsyslogd when the test process dies
// without running its cleanups (e.g. a test timeout).
func killWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

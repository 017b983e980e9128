//go:build !linux

package syslog

import "syscall"

func killWithParent(*syscall.SysProcAttr) {}

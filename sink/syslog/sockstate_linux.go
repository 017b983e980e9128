package syslog

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// peek asks the kernel, without waiting and without consuming anything,
// what the peer has done to conn. A read with a short deadline cannot
// answer this on a busy machine: once the deadline has passed, Go fails
// the read before it looks at the socket, and a dead connection passes
// for a quiet one.
func peek(conn net.Conn) (peerState, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return peerUnknown, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return peerUnknown, nil //nolint:nilerr // no access to the socket: cannot tell
	}
	var (
		n    int
		rerr error
		b    [1]byte
	)
	if cerr := rc.Control(func(fd uintptr) {
		n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}); cerr != nil {
		return peerClosed, cerr
	}
	switch {
	case errors.Is(rerr, syscall.EAGAIN):
		return peerQuiet, nil
	case rerr != nil:
		return peerClosed, rerr
	case n == 0:
		return peerClosed, io.EOF
	}
	return peerSent, nil
}

// sockError returns the error pending on conn's socket (a reset, say), or
// nil. It tells a connection whose unacknowledged bytes will never be
// acknowledged, because the peer reset it, from one that is just slow.
func sockError(conn net.Conn) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil //nolint:nilerr // no access to the socket: cannot tell
	}
	var v int
	var gerr error
	if cerr := rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}); cerr != nil {
		return cerr
	}
	if gerr != nil || v == 0 {
		return nil //nolint:nilerr // unknown is not an error of the connection
	}
	return syscall.Errno(v)
}

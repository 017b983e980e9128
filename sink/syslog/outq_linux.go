package syslog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// siocoutq is SIOCOUTQ (= TIOCOUTQ): bytes in the socket's send queue that
// the peer has not acknowledged yet.
const siocoutq = 0x5411

// waitAcked waits until the peer's TCP stack has acknowledged every byte
// written on conn, or the deadline passes. On Linux this turns "written to
// the local kernel" into "received by the server's kernel"; it still says
// nothing about the server application (see the package documentation).
func waitAcked(ctx context.Context, conn net.Conn, deadline time.Time) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil //nolint:nilerr // no access to the socket: skip the wait
	}
	sleep := 500 * time.Microsecond
	for {
		var n int32
		var serr syscall.Errno
		if cerr := rc.Control(func(fd uintptr) {
			_, _, serr = syscall.Syscall(syscall.SYS_IOCTL, fd, siocoutq, uintptr(unsafe.Pointer(&n)))
		}); cerr != nil {
			return cerr
		}
		if serr != 0 {
			return nil // not supported here: skip the wait
		}
		if n == 0 {
			return nil
		}
		if err := sockError(conn); err != nil {
			return fmt.Errorf("%d bytes not acknowledged by the server: %w", n, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return &ackTimeoutError{unacked: int(n)}
		}
		time.Sleep(sleep)
		sleep = min(sleep*2, 20*time.Millisecond)
	}
}

type ackTimeoutError struct{ unacked int }

func (e *ackTimeoutError) Error() string {
	return "timed out with " + strconv.Itoa(e.unacked) + " bytes not acknowledged by the server"
}
func (e *ackTimeoutError) Timeout() bool   { return true }
func (e *ackTimeoutError) Temporary() bool { return true }
func (e *ackTimeoutError) Is(target error) bool {
	return errors.Is(os.ErrDeadlineExceeded, target)
}

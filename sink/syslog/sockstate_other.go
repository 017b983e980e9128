//go:build !linux

package syslog

import "net"

// peek cannot look at the socket on this system: the timed read of the
// probe is the only check.
func peek(net.Conn) (peerState, error) { return peerUnknown, nil }

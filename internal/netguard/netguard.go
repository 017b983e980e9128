// Package netguard keeps siemsync from becoming a way into the operator's
// network. Customers type destination URLs and addresses; without a guard a
// customer could point an integration at 169.254.169.254 (cloud metadata),
// at the admin API on loopback, or at anything on the operator's private
// network, and read the answers back through Test connection messages.
//
// The check runs in the dialer's Control hook, on the address the socket is
// about to connect to, after name resolution. Checking the host name or the
// result of an earlier lookup is not enough: a name can resolve to a public
// address when checked and to a private one when dialled (DNS rebinding).
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden is matched by every refusal: errors.Is(err, ErrForbidden).
var ErrForbidden = errors.New("forbidden destination")

// Error is the refusal of one destination address.
type Error struct {
	Addr netip.Addr
	// Reason names the kind of address, e.g. "a private address".
	Reason string
}

// Error does not name the address: the host name was the customer's, but
// the address it resolved to may be the operator's internal one, and
// Test connection shows this message to the customer.
func (e *Error) Error() string {
	return fmt.Sprintf("the destination is %s; siemsync refuses loopback, private, link-local and cloud-metadata destinations unless the operator allows them with --allow-private-destinations",
		e.Reason)
}

// Is makes errors.Is(err, ErrForbidden) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrForbidden }

type block struct {
	prefix netip.Prefix
	reason string
}

// Order matters: the first match names the reason, so the narrow metadata
// prefixes come before the link-local range that contains them.
var blocked = []block{
	{netip.MustParsePrefix("169.254.169.254/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "a cloud metadata address"},
	{netip.MustParsePrefix("100.100.100.200/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (shared) address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"}, // includes 255.255.255.255
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("fc00::/7"), "a private address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	// Teredo tunnels to any IPv4 address (the client's is in the last 32
	// bits, obfuscated) through a relay: refuse the whole range.
	{netip.MustParsePrefix("2001::/32"), "a Teredo tunnel address"},
}

// IPv6 ranges that carry an IPv4 address a gateway may forward to; the
// embedded address is checked as well, so 64:ff9b::a01:203 is 10.1.2.3.
var embedding = []struct {
	prefix netip.Prefix
	offset int // byte offset of the IPv4 address in the IPv6 address
}{
	{netip.MustParsePrefix("::ffff:0:0/96"), 12},   // IPv4-mapped
	{netip.MustParsePrefix("::ffff:0:0:0/96"), 12}, // IPv4-translated (SIIT)
	{netip.MustParsePrefix("::/96"), 12},           // IPv4-compatible (deprecated)
	{netip.MustParsePrefix("64:ff9b::/96"), 12},    // NAT64 well-known prefix
	{netip.MustParsePrefix("64:ff9b:1::/48"), 12},  // NAT64 local-use prefix
	{netip.MustParsePrefix("2002::/16"), 2},        // 6to4
}

// Check returns a *Error when ip is an address siemsync must not connect to
// without the operator's permission, and nil when it is a public address.
func Check(ip net.IP) error {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return &Error{Addr: netip.Addr{}, Reason: "not a valid IP address"}
	}
	return CheckAddr(a)
}

// CheckAddr is Check for a netip.Addr.
func CheckAddr(a netip.Addr) error {
	// An IPv4-mapped address connects to the IPv4 address (and net.IP
	// holds every IPv4 address in that form), so judge and name it as IPv4.
	a = a.WithZone("").Unmap()
	if !a.IsValid() {
		return &Error{Addr: a, Reason: "not a valid IP address"}
	}
	if reason := classify(a); reason != "" {
		return &Error{Addr: a, Reason: reason}
	}
	return nil
}

func classify(a netip.Addr) string {
	for _, b := range blocked {
		if b.prefix.Contains(a) {
			return b.reason
		}
	}
	if a.Is4() {
		return ""
	}
	b16 := a.As16()
	for _, e := range embedding {
		if !e.prefix.Contains(a) {
			continue
		}
		v4 := netip.AddrFrom4([4]byte(b16[e.offset : e.offset+4]))
		for _, b := range blocked {
			if b.prefix.Contains(v4) {
				return b.reason + " embedded in an IPv6 address"
			}
		}
	}
	return ""
}

// Dialer returns a dialer with the given connect timeout that refuses, at
// connect time, every address Check refuses, unless allowPrivate is set.
func Dialer(allowPrivate bool, timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.ControlContext = Control
	}
	return d
}

// Control is a net.Dialer ControlContext that refuses forbidden addresses.
// address is the resolved "ip:port" the socket is about to connect to.
func Control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Not an IP socket address: nothing siemsync dials looks like
		// this, so refuse rather than guess.
		return fmt.Errorf("check destination %q: %w", address, ErrForbidden)
	}
	return CheckAddr(ap.Addr())
}

// DescribeLookup words the DNS step of Test connection for host and the
// addresses it resolved to. Test connection answers the customer who
// typed the host, so it names only addresses siemsync may connect to:
// what a name resolves to inside the operator's network stays there. ok is
// false when every address is refused.
func DescribeLookup(host string, addrs []netip.Addr, allowPrivate bool) (msg string, ok bool) {
	var shown []string
	refused := 0
	for _, a := range addrs {
		a = a.Unmap()
		if !allowPrivate && CheckAddr(a) != nil {
			refused++
			continue
		}
		shown = append(shown, a.String())
	}
	switch {
	case len(addrs) == 0:
		return host + " has no address records: check the host name", false
	case len(shown) == 0:
		return host + " resolves only to addresses siemsync refuses (loopback, private, link-local or cloud metadata): use a public host name, or ask the operator to allow private destinations (--allow-private-destinations)", false
	case refused > 0:
		return fmt.Sprintf("%s resolves to %s (and %d address(es) siemsync refuses, not shown)", host, strings.Join(shown, ", "), refused), true
	}
	return host + " resolves to " + strings.Join(shown, ", "), true
}

// LookupFailure words a failed lookup of host without the resolver's
// address or its raw error, which describe the operator's network.
func LookupFailure(host string, err error) string {
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return "cannot resolve " + host + ": no such host; check the host name"
	case errors.As(err, &de) && de.IsTimeout, errors.Is(err, context.DeadlineExceeded):
		return "looking up " + host + " timed out: check the host name, or ask the operator to check this server's DNS"
	}
	return "cannot resolve " + host + ": the lookup failed; check the host name, or ask the operator to check this server's DNS"
}

package netguard

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		ip     string
		reason string // "" = allowed
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"127.0.0.1", "a loopback address"},
		{"127.255.0.9", "a loopback address"},
		{"::1", "a loopback address"},
		{"10.1.2.3", "a private address"},
		{"172.16.0.1", "a private address"},
		{"172.31.255.255", "a private address"},
		{"172.32.0.1", ""},
		{"192.168.1.1", "a private address"},
		{"fd12:3456::1", "a private address"},
		{"fc00::1", "a private address"},
		{"169.254.169.254", "a cloud metadata address"},
		{"169.254.1.1", "a link-local address"},
		{"fe80::1", "a link-local address"},
		{"fd00:ec2::254", "a cloud metadata address"},
		{"100.64.0.1", "a carrier-grade NAT (shared) address"},
		{"100.127.255.255", "a carrier-grade NAT (shared) address"},
		{"100.128.0.1", ""},
		{"100.100.100.200", "a cloud metadata address"},
		{"0.0.0.0", "an unspecified address"},
		{"::", "an unspecified address"},
		{"224.0.0.1", "a multicast address"},
		{"ff02::1", "a multicast address"},
		{"255.255.255.255", "a reserved address"},
		{"::ffff:10.1.2.3", "a private address"},
		{"::ffff:127.0.0.1", "a loopback address"},
		{"::ffff:169.254.169.254", "a cloud metadata address"},
		{"::a01:203", "a private address embedded in an IPv6 address"},
		{"64:ff9b::a01:203", "a private address embedded in an IPv6 address"},
		{"64:ff9b::7f00:1", "a loopback address embedded in an IPv6 address"},
		{"2002:a9fe:a9fe::1", "a cloud metadata address embedded in an IPv6 address"},
		{"2002:c0a8:101::1", "a private address embedded in an IPv6 address"},
		{"2002:808:808::1", ""},
		{"::ffff:0:a01:203", "a private address embedded in an IPv6 address"},
		{"::ffff:0:7f00:1", "a loopback address embedded in an IPv6 address"},
		{"::ffff:0:a9fe:a9fe", "a cloud metadata address embedded in an IPv6 address"},
		{"::ffff:0:808:808", ""},
		{"2001:0:4136:e378:8000:63bf:f5fe:fdfe", "a Teredo tunnel address"}, // client 10.1.2.1 behind the obfuscation
		{"2001::1", "a Teredo tunnel address"},
		{"2001:db8::1", ""}, // documentation range, not Teredo
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip := net.ParseIP(tt.ip)
			if ip == nil {
				t.Fatalf("bad test ip %q", tt.ip)
			}
			err := Check(ip)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want nil", tt.ip, err)
				}
				return
			}
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("Check(%s) = %v, want ErrForbidden", tt.ip, err)
			}
			var ge *Error
			if !errors.As(err, &ge) || ge.Reason != tt.reason {
				t.Fatalf("Check(%s) reason = %q, want %q", tt.ip, ge.Reason, tt.reason)
			}
			if !strings.Contains(err.Error(), "--allow-private-destinations") {
				t.Errorf("message does not say how to allow it: %s", err)
			}
		})
	}
}

func TestCheck4in16(t *testing.T) {
	// net.ParseIP returns 16-byte slices for IPv4; both forms must agree.
	if err := Check(net.IPv4(10, 0, 0, 1).To4()); err == nil {
		t.Fatal("4-byte 10.0.0.1 allowed")
	}
	if err := Check(net.IPv4(10, 0, 0, 1)); err == nil {
		t.Fatal("16-byte 10.0.0.1 allowed")
	}
	if err := Check(net.IP{1, 2, 3}); err == nil {
		t.Fatal("invalid IP allowed")
	}
}

func TestMessage(t *testing.T) {
	got := Check(net.ParseIP("10.1.2.3")).Error()
	want := "the destination is a private address; siemsync refuses loopback, private, link-local and cloud-metadata destinations unless the operator allows them with --allow-private-destinations"
	if got != want {
		t.Fatalf("message\n got %q\nwant %q", got, want)
	}
}

func TestDialer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)

	tests := []struct {
		name    string
		allow   bool
		address string
		refused bool
	}{
		{"loopback refused", false, addr, true},
		// The name is resolved before the hook runs, so a host name that
		// resolves to loopback is caught just like a literal address.
		{"name resolving to loopback refused", false, net.JoinHostPort("localhost", port), true},
		{"loopback allowed", true, addr, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dialer(tt.allow, 2*time.Second)
			c, err := d.DialContext(t.Context(), "tcp", tt.address)
			if c != nil {
				c.Close()
			}
			if tt.refused {
				if !errors.Is(err, ErrForbidden) {
					t.Fatalf("dial %s = %v, want ErrForbidden", tt.address, err)
				}
				var ge *Error
				if !errors.As(err, &ge) || ge.Reason != "a loopback address" {
					t.Fatalf("dial %s: got %v, want a loopback *Error", tt.address, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial %s: %v", tt.address, err)
			}
		})
	}
}

func TestDialerHTTPClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	tr := &http.Transport{DialContext: Dialer(false, time.Second).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request to loopback went through")
	}
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("got %v, want ErrForbidden through url.Error", err)
	}
}

func TestControlBadAddress(t *testing.T) {
	if err := Control(t.Context(), "unix", "/tmp/sock", nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("got %v", err)
	}
}

func TestDescribeLookup(t *testing.T) {
	addrs := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	for _, tt := range []struct {
		addrs        []netip.Addr
		allowPrivate bool
		ok           bool
		want, hidden string
	}{
		{addrs("203.0.113.5"), false, true, "h resolves to 203.0.113.5", ""},
		{addrs("203.0.113.5", "10.1.2.3"), false, true, "h resolves to 203.0.113.5 (and 1 address(es) siemsync refuses, not shown)", "10.1.2.3"},
		{addrs("10.1.2.3", "::ffff:0:a01:203"), false, false, "h resolves only to addresses siemsync refuses", "10.1.2.3"},
		{addrs("10.1.2.3"), true, true, "h resolves to 10.1.2.3", ""},
		{nil, false, false, "h has no address records", ""},
	} {
		msg, ok := DescribeLookup("h", tt.addrs, tt.allowPrivate)
		if ok != tt.ok || !strings.HasPrefix(msg, tt.want) || tt.hidden != "" && strings.Contains(msg, tt.hidden) {
			t.Errorf("DescribeLookup(%v, %v) = %q, %v", tt.addrs, tt.allowPrivate, msg, ok)
		}
	}
	err := &net.DNSError{Err: "server misbehaving", Name: "h", Server: "10.0.0.2:53"}
	if msg := LookupFailure("h", err); strings.Contains(msg, "10.0.0.2") || strings.Contains(msg, "misbehaving") {
		t.Errorf("LookupFailure shows the resolver: %s", msg)
	}
}

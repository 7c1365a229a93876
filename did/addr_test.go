package did

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// wrap4 returns the IPv6 forms that embed an IPv4 address: IPv4-mapped, NAT64
// (well-known and local-use /96) and 6to4.
func wrap4(v4 netip.Addr) map[string]netip.Addr {
	b := v4.As4()
	nat64 := netip.MustParseAddr("64:ff9b::").As16()
	local := netip.MustParseAddr("64:ff9b:1::").As16()
	six := netip.MustParseAddr("2002::1").As16()
	copy(nat64[12:], b[:])
	copy(local[12:], b[:])
	copy(six[2:6], b[:])
	return map[string]netip.Addr{"mapped": netip.AddrFrom16(v4.As16()), "nat64": netip.AddrFrom16(nat64),
		"nat64-local": netip.AddrFrom16(local), "6to4": netip.AddrFrom16(six)}
}

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		// Found allowed by the security review.
		{"100.100.100.200", false}, // Alibaba Cloud metadata, CGNAT 100.64.0.0/10
		{"192.0.0.192", false},     // Oracle Cloud metadata, 192.0.0.0/24
		{"64:ff9b::a9fe:a9fe", false},
		{"64:ff9b::7f00:1", false},
		{"198.18.0.1", false},
		{"2002::1", false},          // 6to4 of 0.0.0.0
		{"2002:7f00:1::1", false},   // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::", false}, // 6to4 of 169.254.169.254
		{"0.1.2.3", false},
		{"240.0.0.1", false},
		// What the old check refused already.
		{"127.0.0.1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"0.0.0.0", false}, {"224.0.0.1", false}, {"255.255.255.255", false},
		{"::", false}, {"::1", false}, {"fe80::1", false}, {"fd00:ec2::254", false}, {"ff02::1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:169.254.169.254", false}, {"::ffff:10.0.0.1", false},
		// Other special-purpose and non-global ranges.
		{"192.0.2.1", false}, {"198.51.100.1", false}, {"203.0.113.1", false}, {"192.88.99.1", false},
		{"::127.0.0.1", false},          // IPv4-compatible
		{"::ffff:0:8.8.8.8", false},     // IPv4-translated (SIIT), outside 2000::/3
		{"64:ff9b:1:1::8.8.8.8", false}, // local-use NAT64 outside its first /96: layout unknown
		{"2001::8.8.8.8", false},        // Teredo: refused outright
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"2001:2::1", false}, {"2001:db8::1", false}, {"3fff::1", false}, {"5f00::1", false},
		{"100::1", false}, {"fec0::1", false}, {"fe80::1%eth0", false},
		{"2606:4700:4700::1111%eth0", false}, // a zone makes an address scoped
		// Public.
		{"8.8.8.8", true}, {"1.1.1.1", true}, {"9.9.9.9", true}, {"100.63.255.255", true}, {"100.128.0.0", true},
		{"198.17.255.255", true}, {"198.20.0.0", true}, {"192.0.1.255", true}, {"223.255.255.254", true},
		{"192.31.196.1", true}, {"192.52.193.1", true}, // AS112 and AMT are globally reachable
		{"2606:4700:4700::1111", true}, {"2001:4860:4860::8888", true}, {"2a00:1450:4001:80b::200e", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::8.8.8.8", true},   // DNS64/NAT64 deployments reach public IPv4 hosts this way
		{"64:ff9b:1::1.1.1.1", true}, // local-use NAT64, /96 layout
		{"2002:808:808::1", true},    // 6to4 of a public IPv4 address: judged by that address
	}
	for _, tt := range tests {
		ip, err := netip.ParseAddr(tt.addr)
		if err != nil {
			t.Fatalf("%s: %v", tt.addr, err)
		}
		if got := PublicAddr(ip); got != tt.want {
			t.Errorf("PublicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if PublicAddr(netip.Addr{}) {
		t.Error("PublicAddr(zero Addr) = true")
	}
}

// TestPublicAddrTables: both ends of every listed range are refused, and so are
// the IPv4-mapped, NAT64 and 6to4 forms of the IPv4 ones.
func TestPublicAddrTables(t *testing.T) {
	for _, p := range append(append([]netip.Prefix{}, nonPublic4...), nonPublic6...) {
		first, last := p.Masked().Addr(), lastAddr(p)
		for _, a := range []netip.Addr{first, last} {
			if PublicAddr(a) {
				t.Errorf("%s: PublicAddr(%s) = true", p, a)
			}
			if !a.Is4() {
				continue
			}
			for form, w := range wrap4(a) {
				if PublicAddr(w) {
					t.Errorf("%s: %s form PublicAddr(%s) = true", p, form, w)
				}
			}
		}
	}
	for form, w := range wrap4(netip.MustParseAddr("8.8.4.4")) {
		if !PublicAddr(w) {
			t.Errorf("%s form of 8.8.4.4: PublicAddr(%s) = false", form, w)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestRefusePrivate(t *testing.T) {
	tests := []struct {
		address string
		ok      bool
	}{
		{"8.8.8.8:443", true}, {"[2606:4700:4700::1111]:443", true}, {"[::ffff:1.1.1.1]:443", true},
		{"100.100.100.200:80", false}, {"[64:ff9b::a9fe:a9fe]:80", false}, {"[fe80::1%eth0]:443", false},
		{"[::1]:443", false}, {"localhost:443", false}, {"8.8.8.8", false}, {"", false},
	}
	for _, tt := range tests {
		err := refusePrivate("tcp", tt.address, nil)
		if (err == nil) != tt.ok {
			t.Errorf("refusePrivate(%q) = %v, want ok %v", tt.address, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "refusing to connect") {
			t.Errorf("refusePrivate(%q) = %v", tt.address, err)
		}
	}
}

// TestPublicHTTPClientChecksDialedAddress: the check runs on the address a name
// resolves to when the connection is made, so a name that resolves to loopback
// (as a rebinding DNS server would answer) is refused.
func TestPublicHTTPClientChecksDialedAddress(t *testing.T) {
	if ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", "localhost"); err != nil || len(ips) == 0 {
		t.Skipf("localhost does not resolve: %v", err)
	}
	_, host := webFixture(t, nil)
	_, port, _ := net.SplitHostPort(host)
	for _, allow := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodGet, "https://localhost:"+port+"/", nil)
		_, err := PublicHTTPClient(time.Second, allow).Do(req)
		var opErr *net.OpError
		refused := errors.As(err, &opErr) && strings.Contains(err.Error(), "refusing to connect to non-public address")
		if refused == allow {
			t.Errorf("allowPrivate %v: err = %v", allow, err)
		}
	}
}

package did

import (
	"net"
	"net/netip"
	"testing"
)

// FuzzRefusePrivate: the dial check accepts only an IP:port whose address
// PublicAddr accepts; an accepted address is none of the kinds the standard
// library calls loopback, private, link-local, multicast or unspecified; an
// IPv4 address and its mapped, NAT64 and 6to4 forms get the same answer.
func FuzzRefusePrivate(f *testing.F) {
	for _, s := range []string{"8.8.8.8:443", "[2606:4700:4700::1111]:443", "100.100.100.200:80", "192.0.0.192:80",
		"[64:ff9b::a9fe:a9fe]:80", "[64:ff9b::7f00:1]:443", "198.18.0.1:443", "[2002:7f00:1::1]:443", "0.1.2.3:1",
		"240.0.0.1:1", "[fe80::1%eth0]:443", "[::ffff:127.0.0.1]:80", "[2001::1]:443", "localhost:443", ":443", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, address string) {
		err := refusePrivate("tcp", address, nil)
		ap, perr := netip.ParseAddrPort(address)
		if perr != nil {
			if err == nil {
				t.Fatalf("accepted unparsable %q", address)
			}
			return
		}
		ip := ap.Addr()
		if (err == nil) != PublicAddr(ip) {
			t.Fatalf("refusePrivate(%q) = %v, PublicAddr = %v", address, err, PublicAddr(ip))
		}
		if std := net.IP(ip.AsSlice()); PublicAddr(ip) && (std.IsLoopback() || std.IsPrivate() || std.IsLinkLocalUnicast() ||
			std.IsLinkLocalMulticast() || std.IsUnspecified() || std.IsMulticast() || std.IsInterfaceLocalMulticast()) {
			t.Fatalf("PublicAddr(%s) = true for a standard library non-public address", ip)
		}
		if v4 := ip.Unmap(); v4.Is4() {
			for form, w := range wrap4(v4) {
				if PublicAddr(w) != PublicAddr(v4) {
					t.Fatalf("PublicAddr(%s) = %v but its %s form %s gets %v", v4, PublicAddr(v4), form, w, PublicAddr(w))
				}
			}
		}
	})
}

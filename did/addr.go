package did

import "net/netip"

// PublicAddr reports whether an outbound fetch may connect to ip: only globally
// routable unicast addresses pass. It refuses an invalid or zoned address, every
// range of nonPublic4 and nonPublic6, and IPv6 outside 2000::/3 (the only block
// IANA allocates for global unicast). An IPv4-mapped, NAT64 or 6to4 address is
// judged by the IPv4 address it embeds, so it passes exactly when that address
// does (64:ff9b::8.8.8.8 and 2002:808:808::1 pass, 64:ff9b::127.0.0.1 does not).
// Teredo (2001::/32) is refused outright: its embedded addresses are obfuscated
// and it tunnels through NATs.
func PublicAddr(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	if v4, ok := embeddedIPv4(ip); ok {
		ip = v4
	}
	if ip.Is4() {
		return !inAny(ip, nonPublic4)
	}
	return globalUnicast6.Contains(ip) && !inAny(ip, nonPublic6)
}

// Prefixes whose addresses carry an IPv4 address that PublicAddr checks instead.
var (
	// nat64 is the well-known NAT64 prefix 64:ff9b::/96, RFC 6052 §2.1; the IPv4
	// address is the last 32 bits.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// nat64Local is the /96 at the start of the local-use NAT64 prefix
	// 64:ff9b:1::/48, RFC 8215; the IPv4 address is the last 32 bits. The rest of
	// the /48 has an operator-chosen layout and is refused (nonPublic6).
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/96")
	// sixToFour is 6to4, RFC 3056 §2; the IPv4 address is bits 16-47.
	sixToFour = netip.MustParsePrefix("2002::/16")
	// globalUnicast6 is the IPv6 global unicast block, RFC 4291 §2.4 and the IANA
	// IPv6 Address Space registry.
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
)

// embeddedIPv4 returns the IPv4 address inside a NAT64 or 6to4 address.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64.Contains(ip), nat64Local.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

func inAny(ip netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// nonPublic4 is every entry of the IANA IPv4 Special-Purpose Address Registry
// that is not globally reachable, plus multicast and the reserved space. The
// registry's globally reachable entries (AS112 192.31.196.0/24 and
// 192.175.48.0/24, AMT 192.52.193.0/24) are public and not listed.
var nonPublic4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", RFC 791 §3.2 and RFC 1122 §3.2.1.3
	netip.MustParsePrefix("10.0.0.0/8"),      // private use, RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT; Alibaba Cloud metadata 100.100.100.200), RFC 6598
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback, RFC 1122 §3.2.1.3
	netip.MustParsePrefix("169.254.0.0/16"),  // link local (cloud metadata 169.254.169.254), RFC 3927
	netip.MustParsePrefix("172.16.0.0/12"),   // private use, RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (DS-Lite, NAT64 discovery; Oracle Cloud metadata 192.0.0.192), RFC 6890; the whole /24, PCP and TURN anycast .9 and .10 included
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation TEST-NET-1, RFC 5737
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated, RFC 7526
	netip.MustParsePrefix("192.168.0.0/16"),  // private use, RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking, RFC 2544
	netip.MustParsePrefix("198.51.100.0/24"), // documentation TEST-NET-2, RFC 5737
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation TEST-NET-3, RFC 5737
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast, RFC 5771
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, RFC 1112 §4; with limited broadcast 255.255.255.255/32, RFC 919 and RFC 8190
}

// nonPublic6 is every entry of the IANA IPv6 Special-Purpose Address Registry
// that is not globally reachable, plus multicast and deprecated site-local
// space. Entries outside 2000::/3 are refused by PublicAddr anyway and are listed
// so that the table matches the registry. The well-known NAT64 prefix and 6to4
// are not listed: PublicAddr checks the IPv4 address they embed.
var nonPublic6 = []netip.Prefix{
	netip.MustParsePrefix("::/128"),         // unspecified, RFC 4291 §2.5.2
	netip.MustParsePrefix("::1/128"),        // loopback, RFC 4291 §2.5.3
	netip.MustParsePrefix("::/96"),          // IPv4-compatible, deprecated, RFC 4291 §2.5.5.1
	netip.MustParsePrefix("::ffff:0:0/96"),  // IPv4-mapped, RFC 4291 §2.5.5.2 (unmapped and checked as IPv4 first)
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use IPv4/IPv6 translation, RFC 8215 (64:ff9b:1::/96 is checked as IPv4 first)
	netip.MustParsePrefix("100::/64"),       // discard-only, RFC 6666
	netip.MustParsePrefix("100:0:0:1::/64"), // dummy IPv6 prefix, RFC 9780
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments, RFC 2928; the whole /23, its few anycast, AMT, AS112, ORCHIDv2 and drone ID entries included
	netip.MustParsePrefix("2001::/32"),      // Teredo, RFC 4380 (embeds an obfuscated IPv4 address)
	netip.MustParsePrefix("2001:2::/48"),    // benchmarking, RFC 5180
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID, deprecated, RFC 4843
	netip.MustParsePrefix("2001:db8::/32"),  // documentation, RFC 3849
	netip.MustParsePrefix("3fff::/20"),      // documentation, RFC 9637
	netip.MustParsePrefix("5f00::/16"),      // segment routing (SRv6) SIDs, RFC 9602
	netip.MustParsePrefix("fc00::/7"),       // unique local, RFC 4193
	netip.MustParsePrefix("fe80::/10"),      // link-local unicast, RFC 4291 §2.5.6
	netip.MustParsePrefix("fec0::/10"),      // site-local, deprecated, RFC 3879
	netip.MustParsePrefix("ff00::/8"),       // multicast, RFC 4291 §2.7
}

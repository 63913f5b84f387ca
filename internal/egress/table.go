package egress

import "net/netip"

// rule is one refused range and the words a user reads when an address falls in it.
type rule struct {
	prefix netip.Prefix
	reason string
}

const (
	reasonMetadata  = "a cloud metadata endpoint"
	reasonLoopback  = "a loopback address"
	reasonPrivate   = "a private address (RFC 1918)"
	reasonLinkLocal = "a link-local address"
	reasonMulticast = "a multicast address"
	reasonDocs      = "a documentation address"
)

// metadataEndpoints hand out cloud credentials to whoever asks. They are checked before
// refusedRanges, so that 169.254.169.254 is reported as what it is rather than as link-local;
// 168.63.129.16 is public space, so only listing it catches it. Read only.
var metadataEndpoints = []rule{
	{netip.MustParsePrefix("169.254.169.254/32"), reasonMetadata},
	{netip.MustParsePrefix("fd00:ec2::254/128"), reasonMetadata + " (AWS)"},
	{netip.MustParsePrefix("168.63.129.16/32"), reasonMetadata + " (Azure)"},
	{netip.MustParsePrefix("100.100.100.200/32"), reasonMetadata + " (Alibaba Cloud)"},
}

// refusedRanges are the special-purpose ranges no public receiver lives in. Within a family,
// more specific prefixes come first (0.0.0.0/32 before 0.0.0.0/8). Read only.
var refusedRanges = []rule{
	{netip.MustParsePrefix("0.0.0.0/32"), "the unspecified address"},
	{netip.MustParsePrefix("0.0.0.0/8"), `in 0.0.0.0/8 ("this network")`},
	{netip.MustParsePrefix("127.0.0.0/8"), reasonLoopback},
	{netip.MustParsePrefix("10.0.0.0/8"), reasonPrivate},
	{netip.MustParsePrefix("172.16.0.0/12"), reasonPrivate},
	{netip.MustParsePrefix("192.168.0.0/16"), reasonPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address (RFC 6598)"},
	{netip.MustParsePrefix("169.254.0.0/16"), reasonLinkLocal},
	{netip.MustParsePrefix("224.0.0.0/4"), reasonMulticast},
	{netip.MustParsePrefix("255.255.255.255/32"), "the broadcast address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved for IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), reasonDocs + " (RFC 5737)"},
	{netip.MustParsePrefix("198.51.100.0/24"), reasonDocs + " (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), reasonDocs + " (RFC 5737)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address (RFC 2544)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a deprecated 6to4 relay address (RFC 7526)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address (240.0.0.0/4)"},

	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), reasonLoopback},
	// NAT64 and the tunnelling prefixes embed an IPv4 address a gateway would reach for us.
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address (RFC 6052)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address (RFC 8215)"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address (RFC 3056)"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address (RFC 4380)"},
	{netip.MustParsePrefix("2001:2::/48"), "a benchmarking address (RFC 5180)"},
	{netip.MustParsePrefix("2001:db8::/32"), reasonDocs + " (RFC 3849)"},
	{netip.MustParsePrefix("3fff::/20"), reasonDocs + " (RFC 9637)"},
	{netip.MustParsePrefix("fc00::/7"), "a unique local address (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), reasonLinkLocal},
	{netip.MustParsePrefix("ff00::/8"), reasonMulticast},
}

// globalUnicast6 is where every public IPv6 address lives; anything outside it (IPv4-compatible,
// site-local, discard-only, unassigned) is not a receiver on the internet.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// Refused reports whether outgoing webhook requests must not reach ip, and why, as a phrase
// that completes "<ip> is …" (for example "a private address (RFC 1918)"). An IPv4-mapped IPv6
// address is judged by the IPv4 address it carries, since dialing it reaches that address.
// Refused knows nothing of a Policy's exceptions; Policy applies them on top.
func Refused(ip netip.Addr) (reason string, refused bool) {
	if !ip.IsValid() {
		return "not a valid IP address", true
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		v4 := ip.Unmap()
		if reason, refused := Refused(v4); refused {
			return "the IPv4-mapped form of " + v4.String() + ", " + reason, true
		}
		return "", false
	}
	if reason, ok := match(metadataEndpoints, ip); ok {
		return reason, true
	}
	if reason, ok := match(refusedRanges, ip); ok {
		return reason, true
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return "outside the IPv6 global unicast range 2000::/3", true
	}
	return "", false
}

// isMetadata reports whether ip is a cloud metadata endpoint, which no host allowlist opens.
func isMetadata(ip netip.Addr) bool {
	_, ok := match(metadataEndpoints, ip.WithZone("").Unmap())
	return ok
}

func match(rules []rule, ip netip.Addr) (string, bool) {
	for _, r := range rules {
		if r.prefix.Contains(ip) {
			return r.reason, true
		}
	}
	return "", false
}

// Package egress keeps outgoing webhook requests away from the operator's own network.
// A webhook URL is chosen by a tenant, so without a guard it is a server-side request forgery
// (SSRF) handle: it could aim our dispatcher at cluster services, private ranges or a cloud
// metadata endpoint that hands out credentials. Checking the URL once is not enough, because
// DNS can answer differently at delivery time (DNS rebinding); so the client checks every
// address at dial time, the one it actually connects to, and follows no redirects.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrRefused is wrapped by every error that refuses a URL or an address; errors.As with a
// *RefusedError gives the details.
var ErrRefused = errors.New("egress: refused")

// RefusedError says which address (or which part of a URL) was refused and why. Its message is
// meant for users: it ends up in the delivery log.
type RefusedError struct {
	Host   string     // the host name being checked; empty for a literal address
	Addr   netip.Addr // the refused address; invalid when the URL itself was refused
	Reason string     // completes "<Addr> is …", or stands alone when Addr is invalid
}

func (e *RefusedError) Error() string {
	switch {
	case !e.Addr.IsValid():
		return "egress: " + e.Reason
	case e.Host != "":
		return fmt.Sprintf("egress: %s resolves to %s, %s", e.Host, e.Addr, e.Reason)
	default:
		return fmt.Sprintf("egress: %s is %s", e.Addr, e.Reason)
	}
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Resolver looks host names up; *net.Resolver is one. Tests supply their own to fake DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which addresses outgoing webhook requests may reach. The zero Policy is the
// production one: https only, public addresses only.
type Policy struct {
	// AllowLoopback is for `qual dev`: http and https to 127.0.0.0/8, ::1 and localhost, any
	// port. It opens loopback only, not the other private ranges.
	AllowLoopback bool
	// Allow is the operator's allowlist of addresses: these pass even if private, and even if
	// a metadata endpoint. IPv4 addresses are matched as IPv4, including IPv4-mapped ones.
	Allow []netip.Prefix
	// AllowHosts is the operator's allowlist of host names (exact, case-insensitive, a trailing
	// dot ignored) that may use http and resolve to private addresses; never to a cloud metadata
	// endpoint, which only Allow opens. A literal IP written here counts as a host name.
	AllowHosts []string
	// Resolver resolves host names at dial time; nil means net.DefaultResolver.
	Resolver Resolver
}

// checkAddr refuses ip unless it is public or one of the Policy's exceptions covers it. host is
// the URL's host: the name ip was resolved from, or the literal address itself.
func (p Policy) checkAddr(host string, ip netip.Addr) error {
	reason, refused := Refused(ip)
	if !refused || p.allowedAddr(ip) {
		return nil
	}
	if p.allowedHost(host) && !isMetadata(ip) {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		host = "" // the message names the address once
	}
	return &RefusedError{Host: host, Addr: ip, Reason: reason}
}

// allowedAddr reports whether an exception other than the host allowlist lets ip through.
func (p Policy) allowedAddr(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	if p.AllowLoopback && ip.IsLoopback() {
		return true
	}
	for _, prefix := range p.Allow {
		if prefix.Contains(ip) {
			return true
		}
	}
	return false
}

// allowedHost reports whether host is on the operator's host allowlist.
func (p Policy) allowedHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, h := range p.AllowHosts {
		if strings.EqualFold(host, strings.TrimSuffix(h, ".")) {
			return true
		}
	}
	return false
}

package apiserver

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/ratelimit"
)

// DefaultAnonymousLimit is the budget of unauthenticated requests per client address when
// none is configured: 60 a minute, all of which may come in one burst, one back every second.
var DefaultAnonymousLimit = ratelimit.Limit{Quota: 60, Window: time.Minute}

// anonymous limits what callers without valid credentials may make the server do: requests
// that end in 401 and CORS preflights spend one request each from a budget per client
// address, in memory (per replica: this is abuse protection, not an exact quota). Over it
// they get 429 RATE_LIMITED with Retry-After. A request with valid credentials never spends
// from it, so a valid key keeps working from an address that is flooding bad tokens.
//
// The client address is the connection's peer address (RemoteAddr); X-Forwarded-For is
// believed only from peers in trustedProxies, which is empty unless configured. An IPv6
// client is counted by its /64, the block one host or site normally holds, so a single
// host cannot mint a fresh budget per address.
//
// The limiter's keys expire once their budget is full again (see ratelimit.Memory), so a
// flood of made-up or spoofed-by-proxy addresses holds memory in proportion to its rate over
// the last second or so, not to every address ever seen.
type anonymous struct {
	lim *ratelimit.Memory
}

// anonymousBudget names the budget in the rate-limit headers of its 429.
const anonymousBudget = "unauthenticated"

// limitAnonymous spends one request of the client address's unauthenticated budget. It
// returns nil when the request may go on, else the 429 to answer, with the rate-limit headers
// of that budget already on w.
func (s *Server) limitAnonymous(w http.ResponseWriter, r *http.Request) *envelope.Error {
	limit := s.cfg.AnonymousLimit
	key := "anonymous:" + clientKey(clientAddr(r, s.cfg.TrustedProxies))
	res, err := s.anon.lim.Allow(context.Background(), key, limit, 1)
	if err != nil { // only an invalid configured limit; refuse nothing for it
		s.cfg.Logger.Error(err, "unauthenticated rate limit")
		return nil
	}
	if res.Allowed {
		return nil
	}
	res.Headers(w.Header(), anonymousBudget, limit)
	e := envelope.New(envelope.CodeRateLimited, "Too many unauthenticated requests from this address; retry later")
	e.RetryAfter = res.RetryAfter
	return e
}

// unauthenticated answers a request whose credentials failed: e (a 401) spends from the
// client address's budget and is written as is, or as 429 once the budget is spent. Other
// failures (a dependency down) spend nothing.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, e *envelope.Error) {
	if e.Code == envelope.CodeUnauthorized {
		if limited := s.limitAnonymous(w, r); limited != nil {
			e = limited
		}
	}
	envelope.WriteError(w, e)
}

// clientAddr is the address a request came from: the connection's peer, or, when that peer is
// a trusted proxy, the last address in X-Forwarded-For that is not one (proxies append the
// peer they saw, so entries to the left of a trusted one are the client's own claims). It is
// the zero Addr when RemoteAddr is not an IP (a Unix socket): all such requests share one
// budget.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	addr := peerAddr(r.RemoteAddr)
	if !addr.IsValid() || !inAny(trusted, addr) {
		return addr
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				list, hop = list[:j], list[j+1:]
			} else {
				list, hop = "", list
			}
			a := peerAddr(strings.TrimSpace(hop))
			if !a.IsValid() {
				return addr // a malformed hop: trust nothing further left
			}
			addr = a
			if !inAny(trusted, a) {
				return a
			}
		}
	}
	return addr
}

// peerAddr parses "host:port", a bare IP or "[v6]", unmapping IPv4-in-IPv6.
func peerAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

func inAny(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey names a client address's budget: an IPv4 address, or an IPv6 address's /64.
func clientKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	default:
		return a.String()
	}
}

package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Transport limits. An attempt as a whole is bounded by the Client's timeout; these keep one
// slow phase from using all of it silently, and the idle pool keeps deliveries to a busy
// receiver on warm connections.
const (
	dialTimeout            = 10 * time.Second
	tlsHandshakeTimeout    = 10 * time.Second
	expectContinueTimeout  = time.Second
	idleConnTimeout        = 90 * time.Second
	maxIdleConns           = 256
	maxIdleConnsPerHost    = 16
	maxResponseHeaderBytes = 64 << 10
)

// Client returns an HTTP client for webhook deliveries under p:
//   - every address is checked when dialed (see dialContext), so DNS rebinding cannot pass;
//   - no redirect is followed: a 3xx comes back as the response, a failed delivery;
//   - timeout bounds a whole attempt, from dial to the end of the body;
//   - a response body reads as at most maxResponse bytes (none if maxResponse <= 0) and then
//     ends, silently; reading a short body to its end keeps the connection for reuse;
//   - no proxy, from the environment or otherwise: a proxy would dial on our behalf, unchecked.
//
// Each Client has its own connection pool: build one per Policy and share it.
func (p Policy) Client(timeout time.Duration, maxResponse int64) *http.Client {
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            p.dialContext,
		ForceAttemptHTTP2:      true, // a custom DialContext turns HTTP/2 off unless asked
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ExpectContinueTimeout:  expectContinueTimeout,
		IdleConnTimeout:        idleConnTimeout,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    maxIdleConnsPerHost,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	return &http.Client{
		Transport: &cappedTransport{base: transport, max: maxResponse},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: timeout,
	}
}

// dialContext resolves the host in address, refuses the connection if ANY of its addresses is
// refused (a name that points at both public and private space is not a receiver we trust),
// then dials the vetted addresses in turn. The dialer's Control hook checks the address each
// socket actually connects to, as a second line behind the resolver check.
func (p Policy) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("egress: dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("egress: dial %s: bad port: %w", address, err)
	}
	ips, err := p.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if err := p.checkAddr(host, ip); err != nil {
			return nil, err
		}
	}
	dialer := p.dialer(host)
	var first error
	for _, ip := range ips {
		conn, err := dialer.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// resolve returns host's addresses of network's family, unmapped; a literal is its own answer.
func (p Policy) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	var family string
	switch network {
	case "tcp":
		family = "ip"
	case "tcp4", "tcp6":
		family = "ip" + network[3:]
	default:
		return nil, fmt.Errorf("egress: dial %s: unsupported network %q", host, network)
	}
	if localhostName(host) {
		// Names under localhost are loopback whatever a resolver says (RFC 6761); Go's own
		// resolver knows only localhost itself.
		return loopbackOf(family), nil
	}
	resolver := p.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	found, err := resolver.LookupNetIP(ctx, family, host)
	if err != nil {
		return nil, fmt.Errorf("egress: resolve %s: %w", host, withoutServer(err))
	}
	ips := make([]netip.Addr, 0, len(found))
	for _, ip := range found {
		ip = ip.Unmap()
		if (family == "ip4" && !ip.Is4()) || (family == "ip6" && !ip.Is6()) {
			continue
		}
		ips = append(ips, ip)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("egress: resolve %s: no %s addresses", host, family)
	}
	return ips, nil
}

// loopbackOf is the loopback addresses of family ("ip", "ip4" or "ip6").
func loopbackOf(family string) []netip.Addr {
	switch family {
	case "ip4":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	case "ip6":
		return []netip.Addr{netip.IPv6Loopback()}
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
}

// dialer returns a dialer for host's vetted addresses whose Control hook refuses a socket the
// Policy refuses, whatever resolved its address: it sees the address the kernel will connect to.
func (p Policy) dialer(host string) *net.Dialer {
	return &net.Dialer{
		Timeout: dialTimeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			addrPort, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("egress: dial %s: %w", address, err)
			}
			return p.checkAddr(host, addrPort.Addr())
		},
	}
}

// cappedTransport caps every response body at max bytes.
type cappedTransport struct {
	base *http.Transport
	max  int64
}

func (t *cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = cappedBody{Reader: io.LimitReader(resp.Body, t.max), Closer: resp.Body}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (t *cappedTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

type cappedBody struct {
	io.Reader
	io.Closer
}

// withoutServer drops the resolver's address from a DNS error ("lookup x on 10.0.0.10:53: no
// such host"): the error reaches a tenant's delivery log, and the cluster's DNS address is
// none of its business.
func withoutServer(err error) error {
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || dnsErr.Server == "" {
		return err
	}
	quiet := *dnsErr
	quiet.Server = ""
	return &quiet
}

package egress

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeDNS answers from a map, so tests need no DNS server; unknown names are NXDOMAIN.
type fakeDNS map[string][]string

func (f fakeDNS) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	addrs, ok := f[strings.ToLower(host)]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.96.0.10:53", IsNotFound: true}
	}
	var ips []netip.Addr
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		if network == "ip" || (network == "ip4") == ip.Is4() {
			ips = append(ips, ip)
		}
	}
	return ips, nil
}

// countingServer is a loopback HTTP server that counts the requests reaching it.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// get sends one request and returns the status and the body as read through the client.
func get(t *testing.T, c *http.Client, target string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(body), nil
}

// wantRefused fails unless err is a refusal naming addr.
func wantRefused(t *testing.T, err error, addr string) {
	t.Helper()
	var refused *RefusedError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &refused) || refused.Addr.String() != addr {
		t.Fatalf("err = %v, want a refusal of %s", err, addr)
	}
}

func TestLoopbackServerRefusedUnlessAllowed(t *testing.T) {
	srv, hits := countingServer(t, ok)

	_, _, err := get(t, Policy{}.Client(5*time.Second, 1024), srv.URL)
	wantRefused(t, err, "127.0.0.1")
	if !strings.Contains(err.Error(), "egress: 127.0.0.1 is a loopback address") {
		t.Errorf("message %q does not say which address and why", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the refused request reached the server")
	}

	status, body, err := get(t, Policy{AllowLoopback: true}.Client(5*time.Second, 1024), srv.URL)
	if err != nil || status != http.StatusOK || body != "ok" {
		t.Fatalf("AllowLoopback: %d %q %v, want 200 ok", status, body, err)
	}
	status, _, err = get(t, Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.Client(5*time.Second, 1024), srv.URL)
	if err != nil || status != http.StatusOK {
		t.Fatalf("Allow 127.0.0.0/8: %d %v, want 200", status, err)
	}
	if hits.Load() != 2 {
		t.Fatalf("server saw %d requests, want 2", hits.Load())
	}
}

func TestNamesAreCheckedAtDialTime(t *testing.T) {
	srv, hits := countingServer(t, ok)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	dns := fakeDNS{
		"rebind.test":   {"10.0.0.5"},
		"mixed.test":    {"93.184.216.34", "127.0.0.1"},
		"metadata.test": {"169.254.169.254"},
		"local.test":    {"127.0.0.1"},
	}
	client := func(p Policy) *http.Client { p.Resolver = dns; return p.Client(5*time.Second, 1024) }

	_, _, err := get(t, client(Policy{}), "http://rebind.test"+port)
	wantRefused(t, err, "10.0.0.5")
	if !strings.Contains(err.Error(), "egress: rebind.test resolves to 10.0.0.5, a private address (RFC 1918)") {
		t.Errorf("message %q does not name the host, the address and the reason", err)
	}
	// One refused address is enough, even beside a public one.
	_, _, err = get(t, client(Policy{}), "http://mixed.test"+port)
	wantRefused(t, err, "127.0.0.1")
	// The host allowlist opens private space but not metadata endpoints.
	_, _, err = get(t, client(Policy{AllowHosts: []string{"metadata.test"}}), "http://metadata.test/")
	wantRefused(t, err, "169.254.169.254")
	_, _, err = get(t, client(Policy{}), "http://local.test"+port)
	wantRefused(t, err, "127.0.0.1")
	if hits.Load() != 0 {
		t.Fatalf("a refused request reached the server")
	}

	// The resolver's answer is what gets dialed.
	for _, p := range []Policy{{AllowLoopback: true}, {AllowHosts: []string{"LOCAL.test"}}} {
		if status, _, err := get(t, client(p), "http://local.test"+port); err != nil || status != http.StatusOK {
			t.Errorf("%+v: %d %v, want 200", p, status, err)
		}
	}
	// A name under localhost is loopback, whatever the resolver says: dialed in dev, refused
	// otherwise.
	evil := fakeDNS{"hooks.localhost": {"93.184.216.34"}}
	if status, _, err := get(t, Policy{AllowLoopback: true, Resolver: evil}.Client(5*time.Second, 1024), "http://hooks.localhost"+port); err != nil || status != http.StatusOK {
		t.Errorf("hooks.localhost in dev: %d %v, want 200", status, err)
	}
	_, _, err = get(t, Policy{Resolver: evil}.Client(5*time.Second, 1024), "http://hooks.localhost"+port)
	wantRefused(t, err, "127.0.0.1")
	if _, _, err := get(t, client(Policy{}), "http://nxdomain.test/"); err == nil || errors.Is(err, ErrRefused) {
		t.Errorf("unknown name: err = %v, want a resolution error", err)
	}
}

func TestDialerChecksTheDialedAddress(t *testing.T) {
	check := Policy{}.dialer("hooks.example").Control
	var raw syscall.RawConn
	for addr, want := range map[string]string{
		"10.0.0.5:443":           "10.0.0.5",
		"[::ffff:127.0.0.1]:443": "::ffff:127.0.0.1",
		"[fd00:ec2::254]:80":     "fd00:ec2::254",
		"[fe80::1%lo]:80":        "fe80::1%lo",
		"168.63.129.16:80":       "168.63.129.16",
		"93.184.216.34:443":      "",
		"[2606:4700::1111]:443":  "",
	} {
		err := check("tcp", addr, raw)
		if want == "" {
			if err != nil {
				t.Errorf("Control(%s) = %v, want nil", addr, err)
			}
			continue
		}
		wantRefused(t, err, want)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	target, targetHits := countingServer(t, ok)
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		to := "http://169.254.169.254/latest/meta-data/"
		if r.URL.Path == "/loopback" {
			to = target.URL
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	c := Policy{AllowLoopback: true}.Client(5*time.Second, 1024)
	for _, path := range []string{"/metadata", "/loopback"} {
		status, _, err := get(t, c, srv.URL+path)
		if err != nil || status != http.StatusFound {
			t.Fatalf("%s: %d %v, want the 302 itself", path, status, err)
		}
	}
	if targetHits.Load() != 0 {
		t.Fatalf("the redirect was followed")
	}
}

func TestResponseBodyIsCapped(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 1<<20))
	})
	status, body, err := get(t, Policy{AllowLoopback: true}.Client(5*time.Second, 100), srv.URL)
	if err != nil || status != http.StatusOK || body != strings.Repeat("x", 100) {
		t.Fatalf("%d, %d bytes, %v; want 200 and exactly 100 bytes", status, len(body), err)
	}
}

func TestShortBodiesKeepTheConnection(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := Policy{AllowLoopback: true}.Client(5*time.Second, 1024)
	for i := range 5 {
		if status, body, err := get(t, c, srv.URL); err != nil || status != http.StatusOK || body != "ok" {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
	if conns.Load() != 1 {
		t.Fatalf("5 sequential requests used %d connections, want 1 (keep-alive)", conns.Load())
	}
}

func TestTimeoutBoundsAnAttempt(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	start := time.Now()
	_, _, err := get(t, Policy{AllowLoopback: true}.Client(200*time.Millisecond, 1024), srv.URL)
	var urlErr *url.Error
	if !errors.As(err, &urlErr) || !urlErr.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("the attempt took %v with a 200ms timeout", elapsed)
	}
}

func TestHTTPSVerifiesTheNameWhileDialingTheVettedAddress(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	// httptest's certificate is for example.com; point that name at the loopback server.
	p := Policy{AllowHosts: []string{"example.com", "other.test"}, Resolver: fakeDNS{
		"example.com": {"127.0.0.1"},
		"other.test":  {"127.0.0.1"},
	}}
	c := p.Client(5*time.Second, 1024)
	c.Transport.(*cappedTransport).base.TLSClientConfig.RootCAs = roots

	if status, body, err := get(t, c, "https://example.com"+port); err != nil || status != http.StatusOK || body != "ok" {
		t.Fatalf("https://example.com: %d %q %v, want 200 ok", status, body, err)
	}
	var certErr x509.HostnameError
	_, _, err := get(t, c, "https://other.test"+port)
	if err == nil || errors.Is(err, ErrRefused) || !errors.As(err, &certErr) {
		t.Fatalf("https://other.test: err = %v, want a certificate error for the name", err)
	}
}

func TestClientTransport(t *testing.T) {
	c := Policy{}.Client(7*time.Second, 1024)
	transport := c.Transport.(*cappedTransport).base
	if transport.Proxy != nil {
		t.Error("the transport takes a proxy: it would dial on our behalf, unchecked")
	}
	if transport.DisableKeepAlives || transport.MaxIdleConnsPerHost != maxIdleConnsPerHost {
		t.Errorf("keep-alives off or MaxIdleConnsPerHost %d", transport.MaxIdleConnsPerHost)
	}
	if c.Timeout != 7*time.Second || transport.TLSHandshakeTimeout == 0 || transport.DialContext == nil {
		t.Errorf("timeout %v, TLS handshake timeout %v, DialContext set %v",
			c.Timeout, transport.TLSHandshakeTimeout, transport.DialContext != nil)
	}
}

// A name that does not resolve fails the attempt saying so, without the cluster resolver's
// address: the error is shown in the tenant's delivery log.
func TestResolveErrorHidesTheResolver(t *testing.T) {
	c := Policy{Resolver: fakeDNS{}}.Client(5*time.Second, 1024)
	resp, err := c.Get("https://nowhere.example/hook")
	if err == nil {
		_ = resp.Body.Close()
	}
	var dnsErr *net.DNSError
	if err == nil || !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("got %v, want a not-found DNS error", err)
	}
	if strings.Contains(err.Error(), "10.96.0.10") || !strings.Contains(err.Error(), "no such host") {
		t.Fatalf("the error %q names the resolver or hides the cause", err)
	}
}

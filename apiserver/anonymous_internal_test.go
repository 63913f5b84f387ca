package apiserver

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddressAndBudgetKey(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{name: "ipv4 peer", remote: "203.0.113.7:5123", want: "203.0.113.7"},
		{name: "ipv6 peer counts by its /64", remote: "[2001:db8:1:2:aaaa::1]:443", want: "2001:db8:1:2::/64"},
		{name: "another address in that /64", remote: "[2001:db8:1:2:bbbb::9]:443", want: "2001:db8:1:2::/64"},
		{name: "ipv6 with a zone", remote: "[fe80::1%eth0]:443", want: "fe80::/64"},
		{name: "ipv4-mapped ipv6 is ipv4", remote: "[::ffff:203.0.113.7]:80", want: "203.0.113.7"},
		{name: "not an IP (a Unix socket)", remote: "@", want: "unknown"},
		{name: "X-Forwarded-For ignored by default", remote: "10.1.2.3:80", xff: []string{"198.51.100.1"}, want: "10.1.2.3"},
		{name: "X-Forwarded-For ignored from an untrusted peer", remote: "203.0.113.7:80", xff: []string{"198.51.100.1"},
			trusted: proxies, want: "203.0.113.7"},
		{name: "trusted proxy: the hop it saw", remote: "10.1.2.3:80", xff: []string{"6.6.6.6, 198.51.100.1"},
			trusted: proxies, want: "198.51.100.1"},
		{name: "a chain of trusted proxies, over two header lines", remote: "10.1.2.3:80",
			xff: []string{"6.6.6.6, 198.51.100.1", "10.9.9.9 , fd00::5"}, trusted: proxies, want: "198.51.100.1"},
		{name: "a malformed hop stops the walk", remote: "10.1.2.3:80", xff: []string{"198.51.100.1, garbage"},
			trusted: proxies, want: "10.1.2.3"},
		{name: "only trusted hops", remote: "10.1.2.3:80", xff: []string{"10.4.4.4"}, trusted: proxies, want: "10.4.4.4"},
		{name: "trusted proxy without the header", remote: "10.1.2.3:80", trusted: proxies, want: "10.1.2.3"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientKey(clientAddr(r, c.trusted)); got != c.want {
			t.Errorf("%s: budget key %q, want %q", c.name, got, c.want)
		}
	}
}

func TestEndpointIsTheSameUnderEveryBasePath(t *testing.T) {
	for pattern, want := range map[string]string{
		"GET /api/v1/campaigns":          "GET /campaigns",
		"GET /v1/campaigns":              "GET /campaigns",
		"GET /api/v1/teams/{id}/members": "GET /teams/{id}/members",
		"GET /v1x/other":                 "GET /v1x/other",
		"":                               "",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Pattern = pattern
		if got := endpoint(r); got != want {
			t.Errorf("endpoint(%q) = %q, want %q", pattern, got, want)
		}
	}
}

package egress

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	prod := Policy{}
	dev := Policy{AllowLoopback: true}
	operator := Policy{
		AllowHosts: []string{"hooks.internal", "10.9.9.9"},
		Allow:      []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")},
	}
	cases := []struct {
		policy Policy
		url    string
		want   string // "" for accepted, else a piece of the error
	}{
		{prod, "https://hooks.example.com/qual", ""},
		{prod, "HTTPS://hooks.example.com:8443/qual?x=1", ""},
		{prod, "https://93.184.216.34/hook", ""},
		{prod, "https://[2606:4700::1111]:443/hook", ""},
		{prod, "http://hooks.example.com/qual", "must use https"},
		{prod, "ftp://hooks.example.com/", "absolute and use https"},
		{prod, "//hooks.example.com/", "absolute and use https"},
		{prod, "/relative", "absolute and use https"},
		{prod, "https:hooks.example.com", "must name a host"},
		{prod, "https:///path", "must name a host"},
		{prod, "https://:443/path", "must name a host"},
		{prod, "https://user:pass@hooks.example.com/", "user name or password"},
		{prod, "https://@hooks.example.com/", "user name or password"},
		{prod, "https://hooks.example.com/qual#section", "#fragment"},
		{prod, "https://hooks.example.com/qual#", "#fragment"},
		{prod, "https://hooks.example.com/qual?a=1#", "#fragment"},
		{prod, "https://hooks.example.com/q%23al?a=%23", ""},
		// Written as sent, as REST asks: no space, control or non-ASCII character, and every
		// % an escape (a client would encode these itself, and ask for another URL).
		{prod, "https://hooks.example.com/a b", "ASCII URI with no spaces"},
		{prod, "https://hooks.example.com/a\tb", "ASCII URI with no spaces"},
		{prod, "https://hooks.example.com/a\x7f", "ASCII URI with no spaces"},
		{prod, "https://hooks.example.com/caf\u00e9", "ASCII URI with no spaces"},
		{prod, "https://b\u00fccher.example/", "ASCII URI with no spaces"},
		{prod, "https://hooks.example.com/a?b=%zz", "% that does not start an escape"},
		{prod, "https://hooks.example.com/a?b=%4", "% that does not start an escape"},
		{prod, "https://hooks.example.com/100%", "% that does not start an escape"},
		{prod, "https://hooks.example.com/a%2fb?c=%E2%9C%93", ""},
		{prod, "https://hooks.example.com:0/", "port 0"},
		{prod, "https://hooks.example.com:65536/", "port 65536"},
		{prod, "https://hooks.example.com:x/", "does not parse"},
		{prod, "https://10.0.0.5/hook", "10.0.0.5 is a private address (RFC 1918)"},
		{prod, "https://%31%30.0.0.5/hook", "does not parse"}, // Go does not unescape an IP host
		{prod, "https://169.254.169.254/latest/meta-data/", "cloud metadata endpoint"},
		{prod, "https://[::1]/", "::1 is a loopback address"},
		{prod, "https://[::ffff:127.0.0.1]/", "IPv4-mapped form of 127.0.0.1"},
		{prod, "https://[fe80::1%25eth0]/", "link-local"},
		{prod, "https://[64:ff9b::a00:5]/", "NAT64"},
		{prod, "https://127.1/", "non-standard form"},
		{prod, "https://2130706433/", "non-standard form"},
		{prod, "https://0x7f.0x0.0x0.0x1/", "non-standard form"},
		{prod, "https://127.0.0.1./", "non-standard form"},
		{prod, "https://localhost/", "localhost is a loopback address"},
		{prod, "https://api.LOCALHOST./", "is a loopback address"},

		{dev, "http://localhost:8080/hook", ""},
		{dev, "http://127.0.0.1:9000/hook", ""},
		{dev, "http://[::1]:9000/hook", ""},
		{dev, "https://localhost/hook", ""},
		{dev, "http://hooks.example.com/", "must use https"},
		{dev, "https://10.0.0.5/", "private address"},
		{dev, "http://0.0.0.0:8080/", "unspecified address"},

		{operator, "http://hooks.internal:8080/", ""},
		{operator, "http://HOOKS.INTERNAL./", ""},
		{operator, "http://10.9.9.9/", ""},
		{operator, "https://10.1.2.3/", ""},
		{operator, "http://10.1.2.3/", "must use https"},
		{operator, "http://other.internal/", "must use https"},
		{operator, "https://10.2.0.1/", "private address"},
	}
	for _, c := range cases {
		err := c.policy.CheckURL(c.url)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v CheckURL(%q) = %v, want nil", c.policy, c.url, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v CheckURL(%q) = %v, want an error containing %q", c.policy, c.url, err, c.want)
		case err != nil && !errors.Is(err, ErrRefused):
			t.Errorf("CheckURL(%q) = %v, does not wrap ErrRefused", c.url, err)
		}
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"https://hooks.example.com/qual", "http://localhost:8080/", "https://10.0.0.5/",
		"https://[::ffff:127.0.0.1]/", "https://user@h/", "https://127.1/", "https:opaque",
		"https://[fe80::1%25eth0]:8443/", "http://hooks.internal/", "https://%31%30.0.0.5/", "",
		"https://hooks.example.com/#x", "https://hooks.example.com/a#",
		"https://hooks.example.com/a b", "https://hooks.example.com/%zz",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowLoopback bool) {
		p := Policy{AllowLoopback: allowLoopback, AllowHosts: []string{"hooks.internal"}}
		err := p.CheckURL(raw)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("CheckURL(%q) = %v, does not wrap ErrRefused", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("CheckURL accepted %q, which does not parse: %v", raw, perr)
		}
		if CheckURLCharacters(raw) != nil {
			t.Fatalf("CheckURL accepted %q, whose characters REST refuses", raw)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("CheckURL accepted %q: scheme %q, opaque %q, host %q, user %v", raw, u.Scheme, u.Opaque, u.Hostname(), u.User)
		}
		// What is accepted is what is requested: no fragment, which a client would drop.
		if u.Fragment != "" || strings.Contains(raw, "#") {
			t.Fatalf("CheckURL accepted %q, whose fragment %q is never sent", raw, u.Fragment)
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			devLoopback := allowLoopback && ip.Unmap().IsLoopback()
			if _, refused := Refused(ip); refused && !devLoopback {
				t.Fatalf("CheckURL accepted %q, whose address %s is refused", raw, ip)
			}
		}
	})
}

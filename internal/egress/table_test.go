package egress

import (
	"bufio"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
)

type vector struct {
	addr    netip.Addr
	refused bool
	reason  string
}

// readVectors reads testdata/addresses.txt: `address  allowed|refused  reason`, # comments.
func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/addresses.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vectors []vector
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 || (fields[1] != "allowed" && fields[1] != "refused") {
			t.Fatalf("addresses.txt:%d: want `address allowed|refused reason`, got %q", line, text)
		}
		addr, err := netip.ParseAddr(fields[0])
		if err != nil {
			t.Fatalf("addresses.txt:%d: %v", line, err)
		}
		v := vector{addr: addr, refused: fields[1] == "refused", reason: strings.Join(fields[2:], " ")}
		if v.refused == (v.reason == "") {
			t.Fatalf("addresses.txt:%d: a refused address needs a reason, an allowed one has none", line)
		}
		vectors = append(vectors, v)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return vectors
}

func TestRefusedTable(t *testing.T) {
	vectors := readVectors(t)
	if len(vectors) < 50 {
		t.Fatalf("only %d vectors read", len(vectors))
	}
	for _, v := range vectors {
		reason, refused := Refused(v.addr)
		if refused != v.refused || reason != v.reason {
			t.Errorf("Refused(%s) = %q, %v; want %q, %v", v.addr, reason, refused, v.reason, v.refused)
		}
	}
}

func TestEveryRefusedRangeHasAVector(t *testing.T) {
	vectors := readVectors(t)
	for _, r := range append(append([]rule(nil), metadataEndpoints...), refusedRanges...) {
		found := false
		for _, v := range vectors {
			found = found || (v.refused && r.prefix.Contains(v.addr.WithZone("")))
		}
		if !found {
			t.Errorf("no refused address in testdata/addresses.txt for %s (%s)", r.prefix, r.reason)
		}
	}
}

func TestRefusedErrorNamesAddressAndReason(t *testing.T) {
	err := Policy{}.checkAddr("10.0.0.5", netip.MustParseAddr("10.0.0.5"))
	if got, want := err.Error(), "egress: 10.0.0.5 is a private address (RFC 1918)"; got != want {
		t.Errorf("literal: %q, want %q", got, want)
	}
	err = Policy{}.checkAddr("hooks.example", netip.MustParseAddr("169.254.169.254"))
	if got, want := err.Error(), "egress: hooks.example resolves to 169.254.169.254, a cloud metadata endpoint"; got != want {
		t.Errorf("name: %q, want %q", got, want)
	}
	var refused *RefusedError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &refused) || refused.Addr != netip.MustParseAddr("169.254.169.254") {
		t.Errorf("%v: want a *RefusedError wrapping ErrRefused", err)
	}
}

func TestAllowLoopbackOpensLoopbackOnly(t *testing.T) {
	p := Policy{AllowLoopback: true}
	for _, v := range readVectors(t) {
		wantAllowed := !v.refused || v.addr.Unmap().IsLoopback()
		if err := p.checkAddr(v.addr.String(), v.addr); (err == nil) != wantAllowed {
			t.Errorf("AllowLoopback, %s: err = %v, want allowed %v", v.addr, err, wantAllowed)
		}
	}
}

func TestAllowPrefixes(t *testing.T) {
	p := Policy{Allow: []netip.Prefix{
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("fd00:1::/32"),
	}}
	for addr, allowed := range map[string]bool{
		"10.1.2.3":        true,
		"::ffff:10.1.2.3": true, // judged as the IPv4 address it reaches
		"fd00:1::5":       true,
		"10.2.0.1":        false,
		"192.168.1.1":     false,
		"127.0.0.1":       false,
		"fd00:2::5":       false,
	} {
		ip := netip.MustParseAddr(addr)
		if err := p.checkAddr(addr, ip); (err == nil) != allowed {
			t.Errorf("%s: err = %v, want allowed %v", addr, err, allowed)
		}
	}
}

func TestAllowHostsOpensPrivateButNotMetadata(t *testing.T) {
	p := Policy{AllowHosts: []string{"Hooks.Internal.", "10.9.9.9"}}
	cases := []struct {
		host, addr string
		allowed    bool
	}{
		{"hooks.internal", "10.0.0.5", true},
		{"HOOKS.internal.", "fd00::5", true},
		{"10.9.9.9", "10.9.9.9", true},
		{"hooks.internal", "169.254.169.254", false},
		{"hooks.internal", "::ffff:168.63.129.16", false},
		{"other.internal", "10.0.0.5", false},
		{"10.9.9.8", "10.9.9.8", false},
	}
	for _, c := range cases {
		if err := p.checkAddr(c.host, netip.MustParseAddr(c.addr)); (err == nil) != c.allowed {
			t.Errorf("%s -> %s: err = %v, want allowed %v", c.host, c.addr, err, c.allowed)
		}
	}
}

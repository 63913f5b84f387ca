package egress

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CheckURL is the static check API validation runs on a webhook URL: an absolute http or https
// URL with a host, a valid port if any, no user name or password and no fragment. It must use
// https unless its host is loopback under AllowLoopback or on AllowHosts. A literal IP is
// checked against the table (Refused) and the Policy's exceptions; so are `localhost` and its
// subdomains, which are loopback by definition (RFC 6761). Other host names are not resolved
// here: DNS may answer differently at delivery time, so the Client checks them when it dials.
// Every error wraps ErrRefused and says why.
func (p Policy) CheckURL(raw string) error {
	if err := CheckURLCharacters(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return refused("the URL does not parse: " + strings.TrimPrefix(err.Error(), "parse "))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return refused("the URL must be absolute and use https")
	}
	if u.Opaque != "" || u.Host == "" {
		return refused("the URL must name a host, as in https://host/path")
	}
	if u.User != nil {
		return refused("the URL must not carry a user name or password")
	}
	// A client never sends the fragment, so the receiver would be asked for another URL than
	// the one written. Any "#" starts one (a literal one is written %23), even an empty one.
	if strings.Contains(raw, "#") {
		return refused("the URL must not carry a #fragment: it is never sent to the receiver")
	}
	host := u.Hostname()
	if host == "" {
		return refused("the URL must name a host, as in https://host/path")
	}
	if err := checkPort(u.Port()); err != nil {
		return err
	}
	loopback, err := p.checkHost(host)
	if err != nil {
		return err
	}
	httpAllowed := (loopback && p.AllowLoopback) || p.allowedHost(host)
	if u.Scheme == "http" && !httpAllowed {
		return refused("the URL must use https; http is only for hosts the operator allows")
	}
	return nil
}

// CheckURLCharacters refuses a URL that is not written as it is sent: a space, a control or a
// non-ASCII character (the client would percent-encode it, or an IDN, on its own), or a "%"
// that does not start an escape of two hex digits. The REST API, the Webhook schema's CEL
// rules and this policy refuse the same characters, so a Webhook applied with kubectl is
// never taken with a URL that REST refuses. The error wraps ErrRefused.
func CheckURLCharacters(raw string) error {
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return refused("the URL must be an ASCII URI with no spaces: " +
			"write an international domain in its xn-- form and percent-encode the rest")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && (i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2])) {
			return refused("the URL has a % that does not start an escape of two hex digits")
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkHost checks what can be known about host without DNS, and reports whether it is loopback.
func (p Policy) checkHost(host string) (loopback bool, err error) {
	if ip, perr := netip.ParseAddr(host); perr == nil {
		return ip.WithZone("").Unmap().IsLoopback(), p.checkAddr(host, ip)
	}
	if numericHost(host) {
		// Resolvers read 127.1, 2130706433 or 0x7f.1 as IPv4 addresses; no real name looks so.
		return false, refused(host + " is an IP address in a non-standard form; write it as a.b.c.d")
	}
	if localhostName(host) {
		if p.AllowLoopback || p.allowedHost(host) {
			return true, nil
		}
		return true, refused(host + " is " + reasonLoopback)
	}
	return false, nil
}

// checkPort refuses a port outside 1-65535; url.Parse only checks that it is digits.
func checkPort(port string) error {
	if port == "" {
		return nil
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return refused("port " + port + " is not between 1 and 65535")
	}
	return nil
}

// numericHost reports whether host's last label is all digits or hex with 0x: no top-level
// domain looks like that, but some resolvers parse such a name as an IPv4 address.
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if lower := strings.ToLower(last); strings.HasPrefix(lower, "0x") {
		last = lower[2:]
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// localhostName reports whether host is localhost or a name under it, which resolve to
// loopback (RFC 6761).
func localhostName(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

func refused(reason string) error { return &RefusedError{Reason: reason} }

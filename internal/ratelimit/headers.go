package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers sets the rate-limit response headers for budget name under l: X-RateLimit-Limit,
// X-RateLimit-Remaining, X-RateLimit-Reset (Unix second, rounded up, when the budget is full),
// RateLimit-Policy and RateLimit (IETF draft), and Retry-After (whole seconds, at least 1)
// only when the request was refused.
func (r Result) Headers(h http.Header, name string, l Limit) {
	quoted := sfString(name)
	remaining := strconv.Itoa(r.Remaining)
	h.Set("X-RateLimit-Limit", strconv.Itoa(l.Quota))
	h.Set("X-RateLimit-Remaining", remaining)
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(r.At.Add(r.ResetAfter)), 10))
	h.Set("RateLimit-Policy", quoted+";q="+strconv.Itoa(l.Quota)+";w="+ceilSeconds(l.Window))
	h.Set("RateLimit", quoted+";r="+remaining+";t="+ceilSeconds(r.ResetAfter))
	if r.Allowed {
		h.Del("Retry-After")
		return
	}
	h.Set("Retry-After", ceilSeconds(max(r.RetryAfter, time.Second)))
}

// sfString quotes name as a structured-field string (RFC 9651): only \ and " are escaped.
func sfString(name string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

// ceilSeconds is d in whole seconds, rounded up, never negative.
func ceilSeconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// ceilUnix is t's Unix second, rounded up.
func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

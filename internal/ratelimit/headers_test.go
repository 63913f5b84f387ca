package ratelimit

import (
	"net/http"
	"testing"
	"time"
)

func TestHeaders(t *testing.T) {
	at := time.Unix(1_800_000_000, 250_000_000)
	l := Limit{Quota: 60, Window: time.Minute}
	cases := []struct {
		name string
		r    Result
		want map[string]string
	}{
		{"allowed", Result{Allowed: true, Limit: 60, Remaining: 58, ResetAfter: 11*time.Second + 500*time.Millisecond, At: at},
			map[string]string{
				"X-Ratelimit-Limit": "60", "X-Ratelimit-Remaining": "58", "X-Ratelimit-Reset": "1800000012",
				"Ratelimit-Policy": `"requests";q=60;w=60`, "Ratelimit": `"requests";r=58;t=12`, "Retry-After": "",
			}},
		{"refused", Result{Limit: 60, RetryAfter: 1001 * time.Millisecond, ResetAfter: time.Minute, At: at},
			map[string]string{
				"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1800000061",
				"Ratelimit": `"requests";r=0;t=60`, "Retry-After": "2",
			}},
		{"refused under a second", Result{Limit: 60, RetryAfter: time.Millisecond, ResetAfter: time.Minute, At: at},
			map[string]string{"Retry-After": "1"}},
		{"full budget", Result{Allowed: true, Limit: 60, Remaining: 60, At: time.Unix(1_800_000_000, 0)},
			map[string]string{"X-Ratelimit-Reset": "1800000000", "Ratelimit": `"requests";r=60;t=0`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Retry-After": {"stale"}}
			c.r.Headers(h, "requests", l)
			for k, want := range c.want {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestHeadersQuoteName(t *testing.T) {
	h := http.Header{}
	Result{Allowed: true, At: time.Unix(0, 0)}.Headers(h, `a"b\c`, Limit{Quota: 1, Window: 1500 * time.Millisecond})
	if got, want := h.Get("RateLimit-Policy"), `"a\"b\\c";q=1;w=2`; got != want {
		t.Fatalf("RateLimit-Policy = %q, want %q", got, want)
	}
}

package delivery

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// DefaultSchedule is the wait before each retry (api.md): a delivery is tried eight times over
// about 28 hours.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Schedule decides when a failed delivery is tried again.
type Schedule struct {
	// Waits are the waits before the first, second, ... retry; after the last, the delivery
	// has failed.
	Waits []time.Duration
	// Jitter spreads each wait by up to this fraction either way (0.1: ±10%), so endpoints
	// that failed together do not all come back at once.
	Jitter float64
	// MaxRetryAfter caps how far a receiver's Retry-After may push the next attempt.
	MaxRetryAfter time.Duration
}

// Next returns the wait before the next attempt after attempts failed ones, honouring the
// receiver's Retry-After when it asks for longer; ok is false when no attempt is left.
func (s Schedule) Next(attempts int, retryAfter time.Duration) (wait time.Duration, ok bool) {
	if attempts < 1 || attempts > len(s.Waits) {
		return 0, false
	}
	wait = s.Waits[attempts-1]
	if s.Jitter > 0 {
		wait += time.Duration((rand.Float64()*2 - 1) * s.Jitter * float64(wait)) //nolint:gosec // jitter, not a secret
	}
	if retryAfter > wait {
		wait = min(retryAfter, s.MaxRetryAfter)
	}
	return wait, true
}

// RetryAfter reads a response's Retry-After, in seconds or as an HTTP date; 0 when absent or
// unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

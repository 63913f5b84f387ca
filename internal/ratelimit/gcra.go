package ratelimit

import "time"

// allow decides whether n requests fit at now (Unix nanoseconds) for a key whose theoretical
// arrival time is tat (0 when unknown), and returns the TAT to store when allowed.
func allow(tat, now int64, l Limit, n int) (Result, int64) {
	tat = max(tat, now)
	newTAT := tat + l.interval()*int64(n)
	if wait := newTAT - l.burst() - now; wait > 0 {
		reset := time.Duration(tat - now)
		return Result{Limit: l.Quota, Remaining: l.remaining(reset), RetryAfter: time.Duration(wait), ResetAfter: reset}, tat
	}
	reset := time.Duration(newTAT - now)
	return Result{Allowed: true, Limit: l.Quota, Remaining: l.remaining(reset), ResetAfter: reset}, newTAT
}

// peek reports the budget at now without spending.
func peek(tat, now int64, l Limit) Result {
	reset := time.Duration(max(tat, now) - now)
	r := Result{Limit: l.Quota, Remaining: l.remaining(reset), ResetAfter: reset}
	r.Allowed = r.Remaining > 0
	if !r.Allowed {
		r.RetryAfter = l.retryOne(reset)
	}
	return r
}

package ratelimit

import (
	"math/bits"
	"time"
)

// spent is what a limiter keeps per key: the theoretical arrival time (TAT, Unix nanoseconds)
// and the emission interval of the limit it was spent under.
type spent struct {
	tat      int64
	interval int64 // 0 when unknown (a key no decision has written yet)
}

// under is the key's TAT under l. GCRA keeps time, not requests: a debt of d stands for
// d/interval requests. When l's interval is not the one the debt was spent under (the
// team's plan changed), the debt is rescaled by the ratio of the two intervals, so the
// requests already spent count as as many requests of the new limit instead of more (a
// larger quota) or fewer (a smaller one). It never comes to more than one full budget of l,
// so nothing spent takes longer than a window to come back.
func (s spent) under(now int64, l Limit) int64 {
	iv := l.interval()
	if s.interval == 0 || s.interval == iv || s.tat <= now {
		return s.tat
	}
	// debt*iv can pass 2^63 (an hour's debt times an hour's interval): 128-bit product.
	hi, lo := bits.Mul64(uint64(s.tat-now), uint64(iv))
	if hi >= uint64(s.interval) { // the quotient would not fit in 64 bits
		return now + l.burst()
	}
	debt, _ := bits.Div64(hi, lo, uint64(s.interval))
	return now + int64(min(debt, uint64(l.burst())))
}

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

// refund gives n requests back at now to a key whose theoretical arrival time is tat, and
// returns the TAT to store: never before now, a full budget.
func refund(tat, now int64, l Limit, n int) int64 {
	return max(tat-l.interval()*int64(n), now)
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

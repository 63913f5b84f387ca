package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrInvalid reports a Limit or a cost that no budget can serve.
var ErrInvalid = errors.New("ratelimit: invalid limit or cost")

// Limit is a budget: Quota requests per Window, all of which may be spent in a burst.
type Limit struct {
	Quota  int
	Window time.Duration
}

// Result is one decision.
type Result struct {
	// Allowed tells whether the requests were spent (for Peek: whether one would be).
	Allowed bool
	// Limit is the quota.
	Limit int
	// Remaining is how many requests are left right now, after this one if it was allowed.
	Remaining int
	// RetryAfter is >0 only when refused: wait this long before the refused n can be spent
	// (for Peek and for n=1: one request).
	RetryAfter time.Duration
	// ResetAfter is the time until the budget is full again.
	ResetAfter time.Duration
	// At is the local clock at the decision; Headers derives X-RateLimit-Reset from it.
	At time.Time
}

// Limiter spends budgets.
type Limiter interface {
	// Allow spends n (normally 1) from key's budget if it can.
	Allow(ctx context.Context, key string, l Limit, n int) (Result, error)
	// Peek reports the budget without spending.
	Peek(ctx context.Context, key string, l Limit) (Result, error)
	// Refund gives back n that Allow spent from key's budget under l, for work the spend
	// paid for that did not happen, so a caller can spend before the work (holding nothing
	// while the limiter answers) and still charge only work that happened. It never gives
	// back more than is spent: the budget is at most full again.
	Refund(ctx context.Context, key string, l Limit, n int) error
}

// interval is the emission interval in nanoseconds: one request returns to the budget per
// interval. The burst tolerance is interval*Quota (at most Window, by truncation).
func (l Limit) interval() int64 { return int64(l.Window) / int64(l.Quota) }

// burst is the time a full budget represents.
func (l Limit) burst() int64 { return l.interval() * int64(l.Quota) }

// check rejects limits whose interval is under a microsecond (Redis's clock resolution) and
// costs outside 1..Quota: a larger one could never be spent, and spending nothing is Peek.
func (l Limit) check(n int) error {
	if l.Quota < 1 || l.Window < time.Duration(l.Quota)*time.Microsecond {
		return fmt.Errorf("%w: %d per %s (need quota >= 1 and window/quota >= 1µs)", ErrInvalid, l.Quota, l.Window)
	}
	if n < 1 || n > l.Quota {
		return fmt.Errorf("%w: cost %d outside 1..%d", ErrInvalid, n, l.Quota)
	}
	return nil
}

// remaining is how many requests fit when the budget is full again after resetAfter.
func (l Limit) remaining(resetAfter time.Duration) int {
	r := (l.burst() - int64(resetAfter)) / l.interval()
	return int(max(0, min(r, int64(l.Quota))))
}

// retryOne is how long until one request fits, given resetAfter; <=0 when one fits now.
func (l Limit) retryOne(resetAfter time.Duration) time.Duration {
	return resetAfter + time.Duration(l.interval()-l.burst())
}

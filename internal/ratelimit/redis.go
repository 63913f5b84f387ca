package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// floatSlack absorbs the float rounding of redis_rate's script (times in float seconds at
// microsecond clock resolution) before counting whole requests.
const floatSlack = time.Microsecond

// Redis is a Limiter shared by replicas: redis_rate's GCRA Lua script decides atomically on
// the server with the server's clock, so replicas with skewed clocks still agree exactly.
type Redis struct {
	lim    *redis_rate.Limiter
	prefix string
}

// NewRedis returns a limiter storing its state under "rate:"+prefix+key.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{lim: redis_rate.NewLimiter(c), prefix: prefix}
}

// Allow spends n from key's budget if it can. A Redis error is returned, never taken as allowed.
func (r *Redis) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	if err := l.check(n); err != nil {
		return Result{}, fmt.Errorf("allow %q: %w", key, err)
	}
	res, err := r.lim.AllowN(ctx, r.prefix+key, l.rate(), n)
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis allow %q: %w", key, err)
	}
	out := fromRedis(l, res)
	if out.Allowed = res.Allowed > 0; !out.Allowed {
		out.RetryAfter = max(toMicro(res.RetryAfter), time.Microsecond)
	}
	return out, nil
}

// Peek reports key's budget without spending: redis_rate's AllowN with n=0 computes it.
func (r *Redis) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	if err := l.check(1); err != nil { // validates l alone
		return Result{}, fmt.Errorf("peek %q: %w", key, err)
	}
	res, err := r.lim.AllowN(ctx, r.prefix+key, l.rate(), 0)
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis peek %q: %w", key, err)
	}
	out := fromRedis(l, res)
	if out.Allowed = out.Remaining > 0; !out.Allowed {
		out.RetryAfter = max(l.retryOne(out.ResetAfter), time.Microsecond)
	}
	return out, nil
}

// fromRedis fills the fields both methods share. Remaining is recounted from ResetAfter, as
// the memory limiter does, rather than taken from the script, which truncates a float.
func fromRedis(l Limit, res *redis_rate.Result) Result {
	reset := max(toMicro(res.ResetAfter), 0)
	return Result{Limit: l.Quota, Remaining: l.remaining(reset - floatSlack), ResetAfter: reset, At: time.Now()}
}

// toMicro rounds a duration parsed from the script's float seconds to Redis's resolution.
func toMicro(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

// rate is the redis_rate form of l: the burst is the whole quota.
func (l Limit) rate() redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Quota, Burst: l.Quota, Period: l.Window}
}

package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// floatSlack absorbs the rounding of the script's times (Lua numbers, stored at microsecond
// resolution) before counting whole requests.
const floatSlack = time.Microsecond

// gcra is the decision, run atomically on the server with the server's clock: the GCRA of
// gcra.go (allow, peek and spent.under), in microseconds.
//
// KEYS[1] holds the TAT as seconds since 2017-01-01, the format of go-redis/redis_rate, which
// kept these budgets before: a key it wrote reads as it is. KEYS[2] holds the emission
// interval the TAT was spent under, which redis_rate does not keep, so that a budget spent
// under another limit (a plan change) is carried over as spent.under does. A key without it
// counts as spent under the current limit.
//
// ARGV: the emission interval (µs), the quota, the cost (0: peek; below 0: a refund of that
// many, never past a full budget). It answers {allowed, reset after (µs), retry after (µs)}
// and writes only what it spent, gave back or carried over.
var gcra = redis.NewScript(`
redis.replicate_commands()
local interval = tonumber(ARGV[1])
local burst = interval * tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call("TIME")
local now = (tonumber(t[1]) - 1483228800) * 1000000 + tonumber(t[2])

local tat = now
local stored = redis.call("GET", KEYS[1])
if stored then
  tat = math.max(math.floor(tonumber(stored) * 1000000 + 0.5), now)
end
local carried = false
local was = tonumber(redis.call("GET", KEYS[2]) or "")
if was and was ~= interval and tat > now then
  tat = now + math.min(math.floor((tat - now) * interval / was), burst)
  carried = true
end

if cost < 0 then
  local back = math.max(tat + interval * cost, now)
  local ttl = math.ceil((back - now) / 1000000)
  if ttl > 0 then
    redis.call("SET", KEYS[1], string.format("%.6f", back / 1000000), "EX", ttl)
    redis.call("SET", KEYS[2], ARGV[1], "EX", ttl)
  else
    redis.call("DEL", KEYS[1], KEYS[2])
  end
  return {1, math.floor(back - now), 0}
end

local new_tat = tat + interval * cost
local wait = new_tat - burst - now
local keep = tat
if wait <= 0 then
  keep = new_tat
end
if carried or (wait <= 0 and cost > 0) then
  local ttl = math.ceil((keep - now) / 1000000)
  if ttl > 0 then
    redis.call("SET", KEYS[1], string.format("%.6f", keep / 1000000), "EX", ttl)
    redis.call("SET", KEYS[2], ARGV[1], "EX", ttl)
  end
end
if wait > 0 then
  return {0, math.floor(tat - now), math.ceil(wait)}
end
return {1, math.floor(new_tat - now), 0}
`)

// Redis is a Limiter shared by replicas: every decision is one Lua script on the server,
// atomic and timed by the server's clock, so replicas with skewed clocks still agree exactly.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a limiter storing its state under "rate:"+prefix+key (and
// "rate:"+prefix+key+":interval").
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix}
}

// Allow spends n from key's budget if it can. A Redis error is returned, never taken as allowed.
func (r *Redis) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	if err := l.check(n); err != nil {
		return Result{}, fmt.Errorf("allow %q: %w", key, err)
	}
	out, err := r.decide(ctx, key, l, n)
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis allow %q: %w", key, err)
	}
	return out, nil
}

// Peek reports key's budget without spending: the script with cost 0. A budget spent under
// another limit is carried over to l and kept so, as Memory.Peek does.
func (r *Redis) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	if err := l.check(1); err != nil { // validates l alone
		return Result{}, fmt.Errorf("peek %q: %w", key, err)
	}
	out, err := r.decide(ctx, key, l, 0)
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis peek %q: %w", key, err)
	}
	if out.Allowed = out.Remaining > 0; !out.Allowed {
		out.RetryAfter = max(l.retryOne(out.ResetAfter), time.Microsecond)
	}
	return out, nil
}

// Refund gives n back to key's budget (see Limiter): the script with cost -n.
func (r *Redis) Refund(ctx context.Context, key string, l Limit, n int) error {
	if err := l.check(n); err != nil {
		return fmt.Errorf("refund %q: %w", key, err)
	}
	if _, err := r.decide(ctx, key, l, -n); err != nil {
		return fmt.Errorf("ratelimit: redis refund %q: %w", key, err)
	}
	return nil
}

// decide runs the script. Remaining is counted from ResetAfter, as the memory limiter does.
func (r *Redis) decide(ctx context.Context, key string, l Limit, n int) (Result, error) {
	k := "rate:" + r.prefix + key
	interval := strconv.FormatFloat(float64(l.interval())/float64(time.Microsecond), 'f', -1, 64)
	v, err := gcra.Run(ctx, r.c, []string{k, k + ":interval"}, interval, l.Quota, n).Int64Slice()
	if err != nil {
		return Result{}, err
	}
	if len(v) != 3 {
		return Result{}, fmt.Errorf("script answered %d values, want 3", len(v))
	}
	reset := max(time.Duration(v[1])*time.Microsecond, 0)
	out := Result{Allowed: v[0] == 1, Limit: l.Quota, Remaining: l.remaining(reset - floatSlack), ResetAfter: reset, At: time.Now()}
	if !out.Allowed {
		out.RetryAfter = max(time.Duration(v[2])*time.Microsecond, time.Microsecond)
	}
	return out, nil
}

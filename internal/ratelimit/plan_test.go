package ratelimit

import (
	"context"
	"testing"
	"time"
)

// The interview budgets of two plans: starter (one back every 6 min) and pro (every 3 min).
var (
	starterHourly = Limit{Quota: 10, Window: time.Hour}
	proHourly     = Limit{Quota: 20, Window: time.Hour}
)

// spend allows n single requests of l on key, each of which must be allowed.
func spend(t *testing.T, lim Limiter, key string, l Limit, n int) {
	t.Helper()
	for i := range n {
		if r, err := lim.Allow(context.Background(), key, l, 1); err != nil || !r.Allowed {
			t.Fatalf("request %d of %d under %d/%s: %+v, %v", i+1, n, l.Quota, l.Window, r, err)
		}
	}
}

// left peeks at key under l and checks what remains and when the budget is full again.
func left(t *testing.T, b backend, lim Limiter, key string, l Limit, remaining int, reset time.Duration) Result {
	t.Helper()
	r, err := lim.Peek(context.Background(), key, l)
	if err != nil {
		t.Fatal(err)
	}
	if r.Remaining != remaining {
		t.Fatalf("%s under %d/%s: %d remaining, want %d (%+v)", key, l.Quota, l.Window, r.Remaining, remaining, r)
	}
	near(t, b, 0, key+" ResetAfter", r.ResetAfter, reset)
	return r
}

// A plan change keeps the requests already spent as as many requests of the new plan: GCRA
// keeps time, and an interview spent under starter is 6 minutes of it, which under pro
// would otherwise be two interviews.
func TestPlanChangeKeepsWhatWasSpent(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			lim, _ := b.open(t)
			ctx := context.Background()

			// Upgrade: 10 of starter's 10 spent leave 10 of pro's 20, and no more.
			spend(t, lim, "up", starterHourly, 10)
			left(t, b, lim, "up", proHourly, 10, 30*time.Minute)
			spend(t, lim, "up", proHourly, 10)
			if r, err := lim.Allow(ctx, "up", proHourly, 1); err != nil || r.Allowed || r.Remaining != 0 {
				t.Fatalf("21st interview under pro: %+v, %v; want refused", r, err)
			}

			// Downgrade: 5 of pro's 20 spent leave 5 of starter's 10, and no more.
			spend(t, lim, "down", proHourly, 5)
			left(t, b, lim, "down", starterHourly, 5, 30*time.Minute)
			spend(t, lim, "down", starterHourly, 5)
			if r, err := lim.Allow(ctx, "down", starterHourly, 1); err != nil || r.Allowed {
				t.Fatalf("11th interview under starter: %+v, %v; want refused", r, err)
			}

			// More spent than the smaller plan holds: its whole budget is spent, and it comes
			// back within one window, at the smaller plan's pace.
			spend(t, lim, "over", proHourly, 15)
			r := left(t, b, lim, "over", starterHourly, 0, time.Hour)
			near(t, b, 0, "RetryAfter", r.RetryAfter, 6*time.Minute)

			// Back and forth: every plan sees the same 4 spent.
			spend(t, lim, "flap", starterHourly, 4)
			left(t, b, lim, "flap", proHourly, 16, 12*time.Minute)
			left(t, b, lim, "flap", starterHourly, 6, 24*time.Minute)
			spend(t, lim, "flap", proHourly, 1)
			left(t, b, lim, "flap", starterHourly, 5, 30*time.Minute)

			// A key nothing was spent from is full under any plan.
			left(t, b, lim, "fresh", proHourly, 20, 0)
		})
	}
}

// After a plan change, what was spent comes back at the new plan's pace.
func TestPlanChangeRecoversAtTheNewPace(t *testing.T) {
	slow := Limit{Quota: 10, Window: 10 * time.Second} // one back every second
	fast := Limit{Quota: 20, Window: 10 * time.Second} // one back every half second
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			lim, wait := b.open(t)
			spend(t, lim, "k", slow, 10)
			left(t, b, lim, "k", fast, 10, 5*time.Second)
			wait(time.Second + b.slack/2)
			// Two came back in a second, not one.
			if r, err := lim.Peek(context.Background(), "k", fast); err != nil || r.Remaining != 12 {
				t.Fatalf("a second after the change: %+v, %v; want 12 remaining", r, err)
			}
		})
	}
}

// A budget go-redis/redis_rate wrote (a TAT in float seconds since 2017, no interval), as
// replicas of an older release did, reads as spent under the current limit.
func TestRedisReadsRedisRateKeys(t *testing.T) {
	c, prefix := rds.Client(t), rds.Prefix(t)
	ctx := context.Background()
	now, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	tat := float64(now.Add(10*time.Minute).UnixMicro()-1483228800_000000) / 1e6 // two of starter's interviews
	if err := c.Set(ctx, "rate:"+prefix+"old", tat, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	b := backends()[1]
	left(t, b, NewRedis(c, prefix), "old", starterHourly, 8, 10*time.Minute)
	spend(t, NewRedis(c, prefix), "old", starterHourly, 8)
	left(t, b, NewRedis(c, prefix), "old", proHourly, 10, 29*time.Minute) // 58 minutes of starter
}

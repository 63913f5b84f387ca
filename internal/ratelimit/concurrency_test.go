package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hammer has 32 goroutines spend one key of quota 50 per minute 8 times each (256 tries),
// spread over lims, and returns how many were allowed.
func hammer(t *testing.T, lims ...Limiter) int64 {
	t.Helper()
	l := Limit{Quota: 50, Window: time.Minute}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			lim := lims[g%len(lims)]
			for range 8 {
				r, err := lim.Allow(context.Background(), "team", l, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return allowed.Load()
}

func TestExactUnderConcurrency(t *testing.T) {
	cases := []struct {
		name string
		lims func(t *testing.T) []Limiter
	}{
		{"memory", func(*testing.T) []Limiter { return []Limiter{NewMemory()} }},
		{"redis", func(t *testing.T) []Limiter { return []Limiter{NewRedis(rds.Client(t), rds.Prefix(t))} }},
		{"redis two replicas", func(t *testing.T) []Limiter {
			p := rds.Prefix(t)
			return []Limiter{NewRedis(rds.Client(t), p), NewRedis(rds.Client(t), p)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := hammer(t, c.lims(t)...); got != 50 {
				t.Fatalf("allowed %d requests, want exactly 50", got)
			}
		})
	}
}

func TestRedisErrorIsReturned(t *testing.T) {
	c := rds.Client(t)
	lim := NewRedis(c, rds.Prefix(t))
	_ = c.Close()
	r, err := lim.Allow(context.Background(), "k", perMinute5, 1)
	if err == nil || r.Allowed {
		t.Fatalf("Allow on a closed client = %+v, %v; want an error and not allowed", r, err)
	}
	if _, err := lim.Peek(context.Background(), "k", perMinute5); err == nil {
		t.Fatal("Peek on a closed client: want an error")
	}
}

package ratelimit

import (
	"os"
	"sync"
	"testing"
	"time"

	"qual.cx/operator/internal/ratelimit/redistest"
)

// rds is the test binary's Redis, started on first use.
var rds = redistest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	rds.Close()
	os.Exit(code)
}

// fakeClock is a hand-moved clock for the memory limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// backend opens a fresh limiter and says how to let time pass for it.
type backend struct {
	name  string
	slack time.Duration // how far real time may move durations between two calls
	open  func(t *testing.T) (Limiter, func(time.Duration))
}

func backends() []backend {
	return []backend{
		{name: "memory", open: func(*testing.T) (Limiter, func(time.Duration)) {
			c := newFakeClock()
			return NewMemory(WithClock(c.Now)), c.Advance
		}},
		{name: "redis", slack: 100 * time.Millisecond, open: func(t *testing.T) (Limiter, func(time.Duration)) {
			return NewRedis(rds.Client(t), rds.Prefix(t)), time.Sleep
		}},
	}
}

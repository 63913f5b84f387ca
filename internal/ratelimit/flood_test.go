package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestMemoryStaysBoundedUnderAKeyFlood spends one request each from a stream of keys never
// seen twice, as a flood of client addresses would: 10,000 new keys per second for a
// minute, each live for a second (one request of 60 per minute). Every decision adds a key, so
// a sweep paced by the keys held would never come; the limiter must hold about the live keys,
// not every key it ever saw.
func TestMemoryStaysBoundedUnderAKeyFlood(t *testing.T) {
	c := newFakeClock()
	m := NewMemory(WithClock(c.Now))
	l := Limit{Quota: 60, Window: time.Minute}
	ctx := context.Background()
	const perSecond, seconds = 10_000, 60
	most := 0
	for i := range perSecond * seconds {
		if r, err := m.Allow(ctx, fmt.Sprint("addr-", i), l, 1); err != nil || !r.Allowed {
			t.Fatalf("key %d: %+v, %v", i, r, err)
		}
		c.Advance(time.Second / perSecond)
		if i%1000 == 0 {
			most = max(most, m.Len())
		}
	}
	// About perSecond keys are live at any time; between two sweeps of a shard at most as many
	// stale ones accumulate again, plus what arrives during one rotation of the sweeps.
	if limit := 2*perSecond + shardCount*minSweep; most > limit {
		t.Fatalf("held up to %d keys under the flood, want at most %d (about %d live)", most, limit, perSecond)
	}
	t.Logf("held at most %d keys, about %d live", most, perSecond)
}

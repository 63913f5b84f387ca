package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemoryAllowDoesNotAllocate(t *testing.T) {
	m := NewMemory()
	l := Limit{Quota: 1000, Window: time.Second}
	ctx := context.Background()
	if _, err := m.Allow(ctx, "team-1", l, 1); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() { _, _ = m.Allow(ctx, "team-1", l, 1) })
	if allocs != 0 {
		t.Fatalf("Allow on an existing key: %v allocs, want 0", allocs)
	}
}

func TestMemoryEvictsStaleKeys(t *testing.T) {
	c := newFakeClock()
	m := NewMemory(WithClock(c.Now))
	l := Limit{Quota: 10, Window: time.Minute}
	ctx := context.Background()
	const keys = 100_000
	for i := range keys {
		if _, err := m.Allow(ctx, fmt.Sprint("team-", i), l, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n < keys/2 {
		t.Fatalf("Len = %d right after use, want most of %d kept", n, keys)
	}
	c.Advance(time.Minute)
	for i := range 2 * keys { // enough decisions for every shard to sweep once
		if _, err := m.Allow(ctx, fmt.Sprint("hot-", i%10), l, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n > 10 {
		t.Fatalf("Len = %d after the window passed, want only the 10 hot keys", n)
	}
	for i := range m.shards {
		if p := m.shards[i].peak; p > 4*minSweep {
			t.Fatalf("shard %d peak %d: map not rebuilt after eviction", i, p)
		}
	}
}

package ratelimit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// shardCount spreads keys over independent mutexes; a power of two so a mask picks the shard.
const shardCount = 64

// Memory is a Limiter for one replica: key -> theoretical arrival time (and the interval it
// was spent under) in sharded maps.
// Stale keys (budget full again) are dropped inline, so it needs no goroutine and no Close.
type Memory struct {
	now    func() time.Time
	shards [shardCount]shard
	cursor atomic.Uint64 // sweeps started; picks the next shard in rotation
}

// Option configures a Memory limiter.
type Option func(*Memory)

// WithClock replaces time.Now, so tests can move time by hand.
func WithClock(now func() time.Time) Option {
	return func(m *Memory) { m.now = now }
}

// NewMemory returns an empty in-memory limiter.
func NewMemory(opts ...Option) *Memory {
	m := &Memory{now: time.Now}
	for _, o := range opts {
		o(m)
	}
	for i := range m.shards {
		m.shards[i].tats = make(map[string]spent)
	}
	return m
}

// Allow spends n from key's budget if it can. It never allocates for a key it already holds.
func (m *Memory) Allow(_ context.Context, key string, l Limit, n int) (Result, error) {
	if err := l.check(n); err != nil {
		return Result{}, fmt.Errorf("allow %q: %w", key, err)
	}
	at := m.now()
	s := m.shard(key)
	s.mu.Lock()
	was := s.tats[key]
	carried := was.under(at.UnixNano(), l)
	res, tat := allow(carried, at.UnixNano(), l, n)
	if res.Allowed || carried != was.tat {
		s.store(key, spent{tat: tat, interval: l.interval()})
	}
	due := s.tick()
	s.mu.Unlock()
	if due {
		m.sweepNext(at.UnixNano())
	}
	res.At = at
	return res, nil
}

// Peek reports key's budget without spending. A budget spent under another limit is carried
// over to l (see spent.under) and kept so.
func (m *Memory) Peek(_ context.Context, key string, l Limit) (Result, error) {
	if err := l.check(1); err != nil { // validates l alone
		return Result{}, fmt.Errorf("peek %q: %w", key, err)
	}
	at := m.now()
	s := m.shard(key)
	s.mu.Lock()
	was := s.tats[key]
	carried := was.under(at.UnixNano(), l)
	if carried != was.tat { // kept, so what is spent comes back at l's pace from now on
		s.store(key, spent{tat: carried, interval: l.interval()})
	}
	res := peek(carried, at.UnixNano(), l)
	s.mu.Unlock()
	res.At = at
	return res, nil
}

// Refund gives n back to key's budget (see Limiter). A key it does not hold is full already.
func (m *Memory) Refund(_ context.Context, key string, l Limit, n int) error {
	if err := l.check(n); err != nil {
		return fmt.Errorf("refund %q: %w", key, err)
	}
	at := m.now().UnixNano()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if was, ok := s.tats[key]; ok { // a TAT of now or before is full, and swept as stale
		s.store(key, spent{tat: refund(was.under(at, l), at, l, n), interval: l.interval()})
	}
	return nil
}

// Len is the number of keys held, stale ones not yet dropped included.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tats)
		s.mu.Unlock()
	}
	return n
}

// sweepNext sweeps the next shard in rotation, unless it was swept too recently: a shard whose
// last sweep kept k keys waits shardCount*k decisions, and idle shards are swept too because
// any busy shard drives the rotation.
//
// The wait is paced by the keys the last sweep kept, not by the keys held now: under a flood of
// new keys (one per decision, say one per client address) the keys held grow as fast as the
// decisions, so a wait proportional to them would never end and stale keys would pile up
// without bound. Paced by the survivors, a shard holds at most about twice the keys still
// live (plus one rotation's worth), and sweeping costs O(1) per decision amortised: a sweep of
// at most 2k+minSweep keys follows at least shardCount*k decisions.
func (m *Memory) sweepNext(now int64) {
	c := m.cursor.Add(1)
	s := &m.shards[c%shardCount]
	s.mu.Lock()
	if (c-s.sweptAt)*minSweep >= shardCount*uint64(s.kept) {
		s.sweep(now)
		s.sweptAt, s.kept = c, len(s.tats)
	}
	s.mu.Unlock()
}

// shard picks key's shard by 32-bit FNV-1a, inlined: hash/fnv would need a []byte copy.
func (m *Memory) shard(key string) *shard {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return &m.shards[h&(shardCount-1)]
}

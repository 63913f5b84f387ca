package ratelimit

import (
	"strings"
	"sync"
)

// minSweep is how many decisions in one shard start one sweep (of the next shard in rotation).
const minSweep = 256

// shard is one lock and its keys. Padding keeps neighbouring locks off one cache line.
type shard struct {
	mu      sync.Mutex
	tats    map[string]spent
	ops     int    // decisions since this shard last started a sweep
	peak    int    // most keys held since the map was last rebuilt
	sweptAt uint64 // Memory.cursor when this shard was last swept
	kept    int    // keys the last sweep kept: they pace the next one
	_       [16]byte
}

// store records what key spent, copying a new key so the map never pins the caller's buffer.
func (s *shard) store(key string, sp spent) {
	if _, ok := s.tats[key]; ok {
		s.tats[key] = sp
		return
	}
	s.tats[strings.Clone(key)] = sp
	s.peak = max(s.peak, len(s.tats))
}

// tick counts a decision and reports whether it is time to start a sweep.
func (s *shard) tick() bool {
	s.ops++
	if s.ops < minSweep {
		return false
	}
	s.ops = 0
	return true
}

// sweep drops keys whose budget is full again: they hold nothing a new key would not.
func (s *shard) sweep(now int64) {
	for k, sp := range s.tats {
		if sp.tat <= now {
			delete(s.tats, k)
		}
	}
	s.shrink()
}

// shrink rebuilds a map that lost most of its keys: Go maps never give memory back.
func (s *shard) shrink() {
	if s.peak < 4*minSweep || len(s.tats)*4 > s.peak {
		return
	}
	m := make(map[string]spent, len(s.tats))
	for k, v := range s.tats {
		m[k] = v
	}
	s.tats, s.peak = m, len(m)
}

package interviews

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"qual.cx/operator/internal/store"
)

// Sweep defaults.
const (
	DefaultIdleTimeout   = 2 * time.Hour
	DefaultSweepInterval = time.Minute
	defaultSweepBatch    = 500
)

// Sweeper abandons interviews nobody has answered for longer than IdleTimeout. It is a
// manager runnable that needs leader election, so however many replicas run, one sweeps;
// the store's sweep is also safe to run twice at once, so a leader change cannot double it.
type Sweeper struct {
	Store       store.Store
	IdleTimeout time.Duration // zero: DefaultIdleTimeout
	Interval    time.Duration // zero: DefaultSweepInterval
	Log         logr.Logger
	Now         func() time.Time // nil: time.Now
}

// NeedLeaderElection makes the sweep run on the leader only.
func (s *Sweeper) NeedLeaderElection() bool { return true }

// Start sweeps every Interval until ctx ends. A failed sweep is logged and retried at the
// next tick: the database may be down for a while, and the sweep has nothing to lose.
func (s *Sweeper) Start(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil {
			s.Log.Error(err, "sweeping idle interviews failed")
		} else if n > 0 {
			s.Log.Info("abandoned idle interviews", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep abandons every interview idle past the timeout, in batches so no transaction holds
// the database for long, and returns how many it abandoned.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	before := now().Add(-idle)
	total := 0
	for {
		done, err := s.Store.AbandonIdleInterviews(ctx, before, defaultSweepBatch)
		total += len(done)
		if err != nil {
			return total, fmt.Errorf("interviews: sweep: %w", err)
		}
		if len(done) < defaultSweepBatch {
			return total, nil
		}
	}
}

package ratelimit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"qual.cx/operator/internal/ratelimit/redistest"
)

// stub is a primary that fails while down is set, counting the calls that reach it.
type stub struct {
	Limiter
	down  atomic.Bool
	calls atomic.Int64
	delay time.Duration
}

var errStubDown = errors.New("dial unix /redis.sock: connect: connection refused")

func (s *stub) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	if s.down.Load() {
		return Result{}, errStubDown
	}
	return s.Limiter.Allow(ctx, key, l, n)
}

func (s *stub) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	if s.down.Load() {
		return Result{}, errStubDown
	}
	return s.Limiter.Peek(ctx, key, l)
}

// logLines records what a logger was told, one line per message.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		l.lines = append(l.lines, prefix+" "+args)
		l.mu.Unlock()
	}, funcr.Options{})
}

func (l *logLines) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}

// failoverFixture is a Failover over a stub, on a hand-moved clock.
type failoverFixture struct {
	f     *Failover
	p     *stub
	clock *fakeClock
	logs  *logLines
}

func newFailoverFixture(mode FailMode) failoverFixture {
	c := newFakeClock()
	p := &stub{Limiter: NewMemory(WithClock(c.Now))}
	logs := &logLines{}
	f := NewFailover(p, FailoverOptions{Mode: mode, Fallback: NewMemory(WithClock(c.Now)), Backoff: time.Second,
		Logger: logs.logger(), Now: c.Now})
	return failoverFixture{f: f, p: p, clock: c, logs: logs}
}

var perMinute3 = Limit{Quota: 3, Window: time.Minute}

func TestFailoverClosedRefusesAndBacksOff(t *testing.T) {
	fx := newFailoverFixture(FailClosed)
	ctx := context.Background()
	if r, err := fx.f.Allow(ctx, "a", perMinute3, 1); err != nil || !r.Allowed || r.Remaining != 2 {
		t.Fatalf("primary up: %+v, %v", r, err)
	}
	fx.p.down.Store(true)
	for i := range 100 {
		r, err := fx.f.Allow(ctx, "a", perMinute3, 1)
		if !errors.Is(err, ErrUnavailable) || r.Allowed {
			t.Fatalf("decision %d with the primary down: %+v, %v; want ErrUnavailable", i, r, err)
		}
		if _, err := fx.f.Peek(ctx, "a", perMinute3); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("peek %d with the primary down: %v; want ErrUnavailable", i, err)
		}
		if i == 0 && !errors.Is(err, errStubDown) {
			t.Fatalf("the refusal %v does not carry the cause", err)
		}
	}
	if n := fx.p.calls.Load(); n != 2 {
		t.Fatalf("the primary was asked %d times, want 2: once while up, once to find it down", n)
	}
	if err := fx.f.Ready(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready while down = %v, want ErrUnavailable", err)
	}
	if _, down := fx.f.Down(); !down {
		t.Fatal("Down() = false during an outage")
	}

	// One try per back-off, while it stays down.
	for range 3 {
		fx.clock.Advance(time.Second)
		before := fx.p.calls.Load()
		for range 10 {
			_, _ = fx.f.Allow(ctx, "a", perMinute3, 1)
		}
		if n := fx.p.calls.Load() - before; n != 1 {
			t.Fatalf("after a back-off: the primary was asked %d times by 10 decisions, want 1", n)
		}
	}

	// Back: the first decision after the back-off finds it and the primary decides again.
	fx.p.down.Store(false)
	fx.clock.Advance(time.Second)
	if err := fx.f.Ready(ctx); err != nil {
		t.Fatalf("Ready after recovery = %v", err)
	}
	for i, want := range []bool{true, true, false} { // the primary's budget: 1 of 3 spent before
		if r, err := fx.f.Allow(ctx, "a", perMinute3, 1); err != nil || r.Allowed != want {
			t.Fatalf("decision %d after recovery: %+v, %v; want allowed=%v", i, r, err, want)
		}
	}
	if _, down := fx.f.Down(); down {
		t.Fatal("Down() = true after recovery")
	}
	if e, i := fx.logs.count("unavailable"), fx.logs.count("answers again"); e != 1 || i != 1 {
		t.Fatalf("logged %d outage and %d recovery lines, want one each:\n%s", e, i, strings.Join(fx.logs.lines, "\n"))
	}
}

func TestFailoverOpenEnforcesLocally(t *testing.T) {
	fx := newFailoverFixture(FailOpen)
	ctx := context.Background()
	if r, err := fx.f.Allow(ctx, "a", perMinute3, 3); err != nil || !r.Allowed {
		t.Fatalf("primary up: %+v, %v", r, err)
	}
	if r, _ := fx.f.Allow(ctx, "a", perMinute3, 1); r.Allowed {
		t.Fatal("the primary's exhausted budget allowed a request")
	}
	fx.p.down.Store(true)
	// The fallback has its own, full budget: 3 allowed, then refused, with no error.
	for i, want := range []bool{true, true, true, false, false} {
		r, err := fx.f.Allow(ctx, "a", perMinute3, 1)
		if err != nil || r.Allowed != want {
			t.Fatalf("decision %d with the primary down: %+v, %v; want allowed=%v", i, r, err, want)
		}
		if !want && r.RetryAfter <= 0 {
			t.Fatalf("a local refusal has no RetryAfter: %+v", r)
		}
	}
	if r, err := fx.f.Peek(ctx, "b", perMinute3); err != nil || r.Remaining != 3 {
		t.Fatalf("peek with the primary down: %+v, %v; want the fallback's full budget", r, err)
	}
	if err := fx.f.Ready(ctx); err != nil {
		t.Fatalf("Ready while failing open = %v, want nil", err)
	}
	if n := fx.p.calls.Load(); n != 3 {
		t.Fatalf("the primary was asked %d times, want 3", n)
	}

	fx.p.down.Store(false)
	fx.clock.Advance(time.Second)
	for i, want := range []bool{true, true, true, false} {
		if r, err := fx.f.Allow(ctx, "c", perMinute3, 1); err != nil || r.Allowed != want {
			t.Fatalf("decision %d after recovery: %+v, %v", i, r, err)
		}
	}
	if r, _ := fx.p.Limiter.Peek(ctx, "c", perMinute3); r.Remaining != 0 {
		t.Fatalf("after recovery the decisions were not the primary's: its budget shows %d left", r.Remaining)
	}
	if e, i := fx.logs.count("unavailable"), fx.logs.count("answers again"); e != 1 || i != 1 {
		t.Fatalf("logged %d outage and %d recovery lines, want one each", e, i)
	}
}

func TestFailoverProbesOnceUnderConcurrency(t *testing.T) {
	fx := newFailoverFixture(FailOpen)
	fx.p.delay = 20 * time.Millisecond // the try is slow: every other decision arrives meanwhile
	fx.p.down.Store(true)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if _, err := fx.f.Allow(ctx, "a", Limit{Quota: 1000, Window: time.Minute}, 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	first := fx.p.calls.Load()
	if first < 1 {
		t.Fatal("the primary was never asked")
	}
	// Decisions already on their way when the outage started may each have asked once; from
	// then on one try per back-off.
	fx.clock.Advance(time.Second)
	for range 64 {
		wg.Go(func() { _, _ = fx.f.Allow(ctx, "a", Limit{Quota: 1000, Window: time.Minute}, 1) })
	}
	wg.Wait()
	if n := fx.p.calls.Load() - first; n != 1 {
		t.Fatalf("64 concurrent decisions after a back-off asked the primary %d times, want 1", n)
	}
	if e := fx.logs.count("unavailable"); e != 1 {
		t.Fatalf("logged the outage %d times, want once", e)
	}
}

func TestFailoverIgnoresCallerErrors(t *testing.T) {
	fx := newFailoverFixture(FailClosed)
	fx.p.down.Store(true)
	if _, err := fx.f.Allow(context.Background(), "a", Limit{}, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid limit: %v, want ErrInvalid", err)
	}
	if _, err := fx.f.Peek(context.Background(), "a", Limit{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid limit: %v, want ErrInvalid", err)
	}
	canceled := &cancelingStub{}
	f := NewFailover(canceled, FailoverOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Allow(ctx, "a", perMinute3, 1); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("a canceled decision: %v, want context.Canceled", err)
	}
	if _, down := f.Down(); down {
		t.Fatal("a canceled decision started an outage")
	}
	if n := fx.p.calls.Load(); n != 0 {
		t.Fatalf("invalid limits reached the primary %d times", n)
	}
}

// cancelingStub answers as a client does for a canceled context.
type cancelingStub struct{ Limiter }

func (cancelingStub) Allow(ctx context.Context, _ string, _ Limit, _ int) (Result, error) {
	return Result{}, ctx.Err()
}

func TestParseFailMode(t *testing.T) {
	for _, s := range []string{"closed", "open"} {
		if m, err := ParseFailMode(s); err != nil || m.String() != s {
			t.Errorf("ParseFailMode(%q) = %v, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "Open", "fail-open"} {
		if _, err := ParseFailMode(s); err == nil {
			t.Errorf("ParseFailMode(%q): want an error", s)
		}
	}
}

// TestFailoverRedisRestart stops a real Redis under two replicas' failover limiters sharing
// a budget and starts it again: closed refuses while it is down, open decides locally, and
// both return to the shared budget by themselves once it answers.
func TestFailoverRedisRestart(t *testing.T) {
	srv := redistest.NewPrivate()
	defer srv.Close()
	ctx := context.Background()
	l := Limit{Quota: 5, Window: time.Minute}
	for _, mode := range []FailMode{FailClosed, FailOpen} {
		t.Run(mode.String(), func(t *testing.T) {
			prefix := srv.Prefix(t)
			logs := &logLines{}
			opts := FailoverOptions{Mode: mode, Backoff: 200 * time.Millisecond, ProbeTimeout: 100 * time.Millisecond, Logger: logs.logger()}
			a := NewFailover(NewRedis(srv.Client(t), prefix), opts)
			b := NewFailover(NewRedis(srv.Client(t), prefix), opts)
			if r, err := a.Allow(ctx, "k", l, 5); err != nil || !r.Allowed {
				t.Fatalf("a spends the shared budget: %+v, %v", r, err)
			}
			if r, err := b.Allow(ctx, "k", l, 1); err != nil || r.Allowed {
				t.Fatalf("b after a spent the shared budget: %+v, %v; want refused", r, err)
			}

			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r, err := a.Allow(ctx, "k", l, 1)
			first := time.Since(start)
			switch mode {
			case FailClosed:
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("closed, Redis down: %+v, %v; want ErrUnavailable", r, err)
				}
			case FailOpen:
				if err != nil || !r.Allowed {
					t.Fatalf("open, Redis down: %+v, %v; want allowed by the local budget", r, err)
				}
			}
			start = time.Now()
			for range 100 {
				_, _ = a.Allow(ctx, "k", l, 1)
			}
			t.Logf("Redis down: first decision %v, the next 100 %v", first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("100 decisions during the back-off took %v: the dead Redis was asked again", d)
			}
			time.Sleep(200 * time.Millisecond) // the back-off: the next decision tries Redis again
			start = time.Now()
			_, _ = a.Allow(ctx, "k", l, 1)
			if d := time.Since(start); d > 400*time.Millisecond {
				t.Errorf("the decision trying the dead Redis again took %v, want at most its 100ms probe timeout and some slack", d)
			}
			if _, down := a.Down(); !down {
				t.Fatal("a dead Redis ended the outage")
			}

			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			up := time.Now()
			// Both go back to the (restarted, empty) shared budget: a spends it all, and b,
			// whose local budget is untouched, is refused.
			for _, f := range []*Failover{a, b} {
				deadline := time.Now().Add(10 * time.Second)
				for {
					_, _ = f.Peek(ctx, "other", l)
					if _, down := f.Down(); !down {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("still failing over 10s after Redis came back")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			t.Logf("back on Redis %v after it answered PING", time.Since(up).Round(time.Millisecond))
			if r, err := a.Allow(ctx, "k", l, 5); err != nil || !r.Allowed {
				t.Fatalf("a after recovery: %+v, %v; want the restarted Redis's full budget", r, err)
			}
			if r, err := b.Allow(ctx, "k", l, 1); err != nil || r.Allowed {
				t.Fatalf("b after recovery: %+v, %v; want refused by the shared budget", r, err)
			}
			if e, i := logs.count("unavailable"), logs.count("answers again"); e < 1 || e > 2 || i != e {
				t.Fatalf("logged %d outages and %d recoveries for two limiters (a alone saw the outage, or both)", e, i)
			}
		})
	}
}

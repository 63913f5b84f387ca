package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"
)

var perMinute5 = Limit{Quota: 5, Window: time.Minute} // one request back every 12 s

// step is one call and what it must return; durations are compared within the backend's slack.
type step struct {
	op         string // "allow", "peek", or "refund" (what a peek then shows)
	key        string
	n          int
	allowed    bool
	remaining  int
	retryAfter time.Duration
	resetAfter time.Duration
}

func allowStep(n int, allowed bool, remaining int, retry, reset time.Duration) step {
	return step{op: "allow", key: "a", n: n, allowed: allowed, remaining: remaining, retryAfter: retry, resetAfter: reset}
}

func refundStep(n int, remaining int, reset time.Duration) step {
	return step{op: "refund", key: "a", n: n, allowed: remaining > 0, remaining: remaining, resetAfter: reset}
}

func peekStep(allowed bool, remaining int, retry, reset time.Duration) step {
	return step{op: "peek", key: "a", allowed: allowed, remaining: remaining, retryAfter: retry, resetAfter: reset}
}

const s = time.Second

var conformance = []struct {
	name  string
	limit Limit
	steps []step
}{
	{"burst then refused", perMinute5, []step{
		allowStep(1, true, 4, 0, 12*s), allowStep(1, true, 3, 0, 24*s), allowStep(1, true, 2, 0, 36*s),
		allowStep(1, true, 1, 0, 48*s), allowStep(1, true, 0, 0, 60*s),
		allowStep(1, false, 0, 12*s, 60*s), allowStep(1, false, 0, 12*s, 60*s),
	}},
	{"peek does not spend", perMinute5, []step{
		peekStep(true, 5, 0, 0), peekStep(true, 5, 0, 0),
		allowStep(1, true, 4, 0, 12*s), peekStep(true, 4, 0, 12*s), peekStep(true, 4, 0, 12*s),
		allowStep(4, true, 0, 0, 60*s), peekStep(false, 0, 12*s, 60*s), peekStep(false, 0, 12*s, 60*s),
	}},
	{"n greater than one", Limit{Quota: 10, Window: time.Minute}, []step{
		allowStep(4, true, 6, 0, 24*s), allowStep(4, true, 2, 0, 48*s),
		allowStep(3, false, 2, 6*s, 48*s), // refused spends nothing and waits for the missing one
		allowStep(2, true, 0, 0, 60*s), allowStep(1, false, 0, 6*s, 60*s),
	}},
	{"refund gives back what was spent and no more", perMinute5, []step{
		allowStep(2, true, 3, 0, 24*s), refundStep(1, 4, 12*s), refundStep(1, 5, 0), refundStep(1, 5, 0),
		allowStep(5, true, 0, 0, 60*s), allowStep(1, false, 0, 12*s, 60*s),
		refundStep(1, 1, 48*s), allowStep(1, true, 0, 0, 60*s),
	}},
	{"keys are independent", Limit{Quota: 2, Window: time.Minute}, []step{
		allowStep(2, true, 0, 0, 60*s), allowStep(1, false, 0, 30*s, 60*s),
		{op: "allow", key: "b", n: 1, allowed: true, remaining: 1, resetAfter: 30 * s},
		{op: "peek", key: "c", allowed: true, remaining: 2},
	}},
}

func TestConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range conformance {
				t.Run(tc.name, func(t *testing.T) {
					lim, _ := b.open(t)
					for i, st := range tc.steps {
						checkStep(t, b, i, do(t, lim, tc.limit, st), st)
					}
				})
			}
		})
	}
}

func do(t *testing.T, lim Limiter, l Limit, st step) Result {
	t.Helper()
	var (
		r   Result
		err error
	)
	switch st.op {
	case "peek":
		r, err = lim.Peek(context.Background(), st.key, l)
	case "refund":
		if err = lim.Refund(context.Background(), st.key, l, st.n); err == nil {
			r, err = lim.Peek(context.Background(), st.key, l)
		}
	default:
		r, err = lim.Allow(context.Background(), st.key, l, st.n)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", st.op, st.key, err)
	}
	if r.Limit != l.Quota {
		t.Fatalf("Limit = %d, want %d", r.Limit, l.Quota)
	}
	return r
}

func checkStep(t *testing.T, b backend, i int, got Result, want step) {
	t.Helper()
	if got.Allowed != want.allowed || got.Remaining != want.remaining {
		t.Errorf("step %d %s(%s, %d): allowed=%v remaining=%d, want %v %d",
			i, want.op, want.key, want.n, got.Allowed, got.Remaining, want.allowed, want.remaining)
	}
	near(t, b, i, "RetryAfter", got.RetryAfter, want.retryAfter)
	near(t, b, i, "ResetAfter", got.ResetAfter, want.resetAfter)
}

// near checks got within [want-slack, want]: on a real clock durations only shrink.
func near(t *testing.T, b backend, i int, what string, got, want time.Duration) {
	t.Helper()
	lo := want - b.slack
	if want == 0 {
		lo = 0
	}
	if got < lo || got > want {
		t.Errorf("step %d: %s = %v, want %v (slack %v)", i, what, got, want, b.slack)
	}
}

func TestRecovery(t *testing.T) {
	l := Limit{Quota: 5, Window: time.Second} // one request back every 200 ms
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			lim, wait := b.open(t)
			checkStep(t, b, 0, do(t, lim, l, step{key: "k", n: 5}), step{allowed: true, remaining: 0, resetAfter: time.Second})
			checkStep(t, b, 1, do(t, lim, l, step{key: "k", n: 1}), step{retryAfter: 200 * time.Millisecond, resetAfter: time.Second})
			wait(200*time.Millisecond + b.slack/2)
			if r := do(t, lim, l, step{key: "k", n: 1}); !r.Allowed || r.Remaining != 0 {
				t.Fatalf("after one interval: %+v, want one allowed", r)
			}
			if r := do(t, lim, l, step{key: "k", n: 1}); r.Allowed {
				t.Fatalf("second after one interval: %+v, want refused", r)
			}
			wait(time.Second)
			if r := do(t, lim, l, step{op: "peek", key: "k"}); r.Remaining != 5 || r.ResetAfter != 0 {
				t.Fatalf("after a window: %+v, want a full budget", r)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			lim, _ := b.open(t)
			ctx := context.Background()
			for _, c := range []struct {
				l Limit
				n int
			}{{perMinute5, 6}, {perMinute5, 0}, {perMinute5, -1}, {Limit{Window: time.Minute}, 1}, {Limit{Quota: 10, Window: time.Nanosecond}, 1}} {
				if _, err := lim.Allow(ctx, "k", c.l, c.n); !errors.Is(err, ErrInvalid) {
					t.Errorf("Allow(%+v, %d) error = %v, want ErrInvalid", c.l, c.n, err)
				}
			}
			if _, err := lim.Peek(ctx, "k", Limit{}); !errors.Is(err, ErrInvalid) {
				t.Errorf("Peek(zero limit) error = %v, want ErrInvalid", err)
			}
		})
	}
}

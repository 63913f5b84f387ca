package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// ErrUnavailable wraps the error of a shared limiter that could not decide (Redis is down):
// the request is neither allowed nor refused, and a caller answers it as temporarily
// unavailable (503), not as rate limited. A Failover has already logged the outage, once.
var ErrUnavailable = errors.New("ratelimit: shared limiter unavailable")

// FailMode is what a Failover does while its primary (shared) limiter cannot decide.
type FailMode int

const (
	// FailClosed refuses: Allow and Peek return an error wrapping ErrUnavailable, so no
	// request goes through unmetered.
	FailClosed FailMode = iota
	// FailOpen decides locally: the fallback limiter (by default each replica's own memory)
	// enforces the same limits, so each replica allows the whole budget on its own.
	FailOpen
)

// ParseFailMode reads "closed" or "open".
func ParseFailMode(s string) (FailMode, error) {
	switch s {
	case "closed":
		return FailClosed, nil
	case "open":
		return FailOpen, nil
	}
	return 0, fmt.Errorf("fail mode %q: want closed or open", s)
}

func (m FailMode) String() string {
	if m == FailOpen {
		return "open"
	}
	return "closed"
}

// The defaults of FailoverOptions.
const (
	// DefaultBackoff is how long a Failover leaves its primary alone after a failure.
	DefaultBackoff = time.Second
	// DefaultProbeTimeout bounds a decision that tries a failed primary again.
	DefaultProbeTimeout = 500 * time.Millisecond
)

// FailoverOptions configure a Failover.
type FailoverOptions struct {
	// Mode is what to do while the primary fails; the zero value is FailClosed.
	Mode FailMode
	// Fallback decides while the primary fails in FailOpen; nil is NewMemory().
	Fallback Limiter
	// Backoff is how long the primary is skipped after it failed before one decision tries
	// it again; zero is DefaultBackoff.
	Backoff time.Duration
	// ProbeTimeout bounds the decision that tries a failed primary again, so that the request
	// it serves is not held for the client's whole dial and retry budget; zero is
	// DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// Logger is told once when an outage starts and once when it ends; the zero Logger
	// discards.
	Logger logr.Logger
	// Now is the clock of the back-off; nil is time.Now.
	Now func() time.Time
}

// Failover is a Limiter over a shared primary (Redis) that fails in the configured
// direction while the primary cannot decide, and goes back to it by itself.
//
// After a failure the primary is skipped for a back-off; then one decision (and only one,
// however many run at once) tries it again, within ProbeTimeout: on success the outage
// ends, on failure the back-off starts over. A dead Redis is asked about once per back-off,
// not once per request. Only the decisions under way when an outage starts wait for the
// client's own dial and retry budget (go-redis's defaults: about 2s).
//
// Invalid limits are refused before the primary is asked, and a decision whose own context
// was canceled says nothing about the primary.
type Failover struct {
	primary  Limiter
	fallback Limiter
	mode     FailMode
	backoff  int64
	probe    time.Duration
	log      logr.Logger
	now      func() time.Time
	out      atomic.Pointer[outage] // nil while the primary answers
}

// outage is one period during which the primary failed.
type outage struct {
	since time.Time
	cause error
	next  atomic.Int64 // Unix nanosecond from which one decision may try the primary again
	local atomic.Int64 // decisions taken without the primary: refused, or by the fallback
}

// NewFailover wraps primary.
func NewFailover(primary Limiter, o FailoverOptions) *Failover {
	f := &Failover{primary: primary, fallback: o.Fallback, mode: o.Mode, backoff: int64(o.Backoff),
		probe: o.ProbeTimeout, log: o.Logger, now: o.Now}
	if f.fallback == nil {
		f.fallback = NewMemory()
	}
	if f.backoff <= 0 {
		f.backoff = int64(DefaultBackoff)
	}
	if f.probe <= 0 {
		f.probe = DefaultProbeTimeout
	}
	if f.now == nil {
		f.now = time.Now
	}
	return f
}

// Allow spends from the primary's budget, or while it fails refuses (FailClosed) or spends
// from the fallback's (FailOpen).
func (f *Failover) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	if err := l.check(n); err != nil {
		return Result{}, fmt.Errorf("allow %q: %w", key, err)
	}
	return f.decide(ctx, func(ctx context.Context, lim Limiter) (Result, error) { return lim.Allow(ctx, key, l, n) })
}

// Peek reports the primary's budget, or while it fails refuses (FailClosed) or reports the
// fallback's (FailOpen).
func (f *Failover) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	if err := l.check(1); err != nil {
		return Result{}, fmt.Errorf("peek %q: %w", key, err)
	}
	return f.decide(ctx, func(ctx context.Context, lim Limiter) (Result, error) { return lim.Peek(ctx, key, l) })
}

// Refund gives n back to the primary's budget, or while it fails to the fallback's (FailOpen),
// which gives back nothing it did not spend; with FailClosed it fails, and the unit stays spent.
func (f *Failover) Refund(ctx context.Context, key string, l Limit, n int) error {
	if err := l.check(n); err != nil {
		return fmt.Errorf("refund %q: %w", key, err)
	}
	_, err := f.decide(ctx, func(ctx context.Context, lim Limiter) (Result, error) { return Result{}, lim.Refund(ctx, key, l, n) })
	return err
}

// decide asks the primary when it is not backing off, bounded in time; when the primary
// fails it refuses (FailClosed) or asks the fallback (FailOpen).
func (f *Failover) decide(ctx context.Context, ask func(context.Context, Limiter) (Result, error)) (Result, error) {
	o, try := f.route()
	if try {
		pctx, cancel := f.bound(ctx, o)
		r, err := ask(pctx, f.primary)
		cancel()
		if o = f.settle(ctx, err); o == nil {
			return r, err
		}
	}
	if f.mode == FailClosed {
		return Result{}, o.refusal()
	}
	o.local.Add(1)
	return ask(ctx, f.fallback)
}

// readyKey is the key Ready peeks at: peeking at a key never spent writes nothing.
const readyKey = "ready-probe"

// Ready reports whether the limiter can decide as configured: always with FailOpen (the
// fallback decides while the primary fails); with FailClosed, only while the primary
// answers. It asks the primary as a decision would, so at most once per back-off while it
// fails. The REST server's /ready calls it.
func (f *Failover) Ready(ctx context.Context) error {
	if f.mode == FailOpen {
		return nil
	}
	_, err := f.Peek(ctx, readyKey, Limit{Quota: 1, Window: time.Second})
	return err
}

// Down returns since when the primary has been failing, or false while it answers.
func (f *Failover) Down() (time.Time, bool) {
	if o := f.out.Load(); o != nil {
		return o.since, true
	}
	return time.Time{}, false
}

// route returns the current outage (nil while the primary answers) and whether this
// decision asks the primary: always while it answers; during an outage only once the
// back-off has passed, and then only the one decision that claims the next try.
func (f *Failover) route() (*outage, bool) {
	o := f.out.Load()
	if o == nil {
		return nil, true
	}
	now := f.now().UnixNano()
	next := o.next.Load()
	if now < next || !o.next.CompareAndSwap(next, now+f.backoff) {
		return o, false
	}
	return o, true // the others keep skipping the primary meanwhile
}

// bound gives a decision that tries a failed primary again (o is not nil) ProbeTimeout.
func (f *Failover) bound(ctx context.Context, o *outage) (context.Context, context.CancelFunc) {
	if o == nil {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, f.probe)
}

func noCancel() {}

// settle records what the primary's answer says about it and returns the outage the
// decision must fall back under, or nil when the answer stands.
func (f *Failover) settle(ctx context.Context, err error) *outage {
	if err == nil {
		if o := f.out.Load(); o != nil && f.out.CompareAndSwap(o, nil) {
			f.log.Info("shared rate limiter answers again; back to shared limits",
				"down_for", f.now().Sub(o.since).Round(time.Millisecond).String(), "decisions_without_it", o.local.Load(),
				"fail_mode", f.mode.String())
		}
		return nil
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // the caller went away: nothing learned about the primary
	}
	now := f.now()
	if o := f.out.Load(); o != nil {
		o.next.Store(now.UnixNano() + f.backoff)
		return o
	}
	o := &outage{since: now, cause: err}
	o.next.Store(now.UnixNano() + f.backoff)
	if f.out.CompareAndSwap(nil, o) {
		what := "requests are refused with 503 until it answers"
		if f.mode == FailOpen {
			what = "each replica enforces the limits on its own until it answers"
		}
		f.log.Error(err, "shared rate limiter unavailable; "+what, "fail_mode", f.mode.String(),
			"retry_every", time.Duration(f.backoff).String())
		return o
	}
	if cur := f.out.Load(); cur != nil { // another decision started the outage a moment ago
		return cur
	}
	return o
}

// refusal is the error of a decision refused under FailClosed.
func (o *outage) refusal() error {
	o.local.Add(1)
	return fmt.Errorf("%w since %s: %w", ErrUnavailable, o.since.UTC().Format(time.RFC3339), o.cause)
}

// ReadinessChecker is a Limiter that can tell whether it is able to decide; the REST
// server's /ready asks a Limiter implementing it.
type ReadinessChecker interface {
	Ready(ctx context.Context) error
}

var _ ReadinessChecker = (*Failover)(nil)

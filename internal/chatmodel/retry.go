package chatmodel

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
)

// retryPolicy retries a provider call that failed in a way that may pass: rate limiting,
// server errors, lost connections. The client library's own retries are off, because
// this policy must also stop at the caller's deadline: a wait that would end past it (say,
// a long Retry-After) gives up at once, so the caller can fall back now rather than time
// out later.
type retryPolicy struct {
	retries int           // attempts after the first
	base    time.Duration // backoff before the first retry, doubled for each further one
	maxWait time.Duration // longest backoff (a server's Retry-After may be longer)
	// minAttempt is the least time a retry needs to have a chance; a wait that leaves
	// less before the deadline is not worth it.
	minAttempt time.Duration
}

// do calls call until it succeeds, fails for good, runs out of p's retries or would pass
// ctx's deadline. It returns the number of attempts made.
func do[T any](ctx context.Context, p retryPolicy, call func(context.Context) (T, error)) (T, int, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		out, err := call(ctx)
		if err == nil {
			return out, attempt + 1, nil
		}
		if attempt >= p.retries || !retryable(ctx, err) {
			return zero, attempt + 1, err
		}
		wait := p.delay(err, attempt, time.Now())
		if !p.fits(ctx, wait) {
			return zero, attempt + 1, &retryBudgetError{wait: wait, err: err}
		}
		if err := sleep(ctx, wait); err != nil {
			return zero, attempt + 1, fmt.Errorf("wait to retry: %w", err)
		}
	}
}

// delay is how long to wait before retry number attempt+1: the server's Retry-After when
// it sent one, else exponential backoff with jitter so that many calls failing together
// do not retry together.
func (p retryPolicy) delay(err error, attempt int, now time.Time) time.Duration {
	if apiErr, ok := errors.AsType[*openai.Error](err); ok && apiErr.Response != nil {
		if d, ok := parseRetryAfter(apiErr.Response.Header, now); ok {
			return d
		}
	}
	backoff := p.maxWait
	if attempt < 30 { // beyond that the shift overflows and the cap applies anyway
		backoff = min(p.base<<attempt, p.maxWait)
	}
	if backoff <= 0 {
		return 0
	}
	return backoff/2 + rand.N(backoff/2+1) // "equal jitter": between half and all of it
}

// fits reports whether waiting d still leaves a retry time to run before ctx's deadline.
func (p retryPolicy) fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline)-d >= p.minAttempt
}

// retryable reports whether another attempt may succeed: the caller is still waiting and
// the failure is a lost connection, 408, 409, 429 or a server error.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	if apiErr, ok := errors.AsType[*openai.Error](err); ok {
		switch apiErr.StatusCode {
		case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
			return true
		default:
			return apiErr.StatusCode >= http.StatusInternalServerError
		}
	}
	_, transport := errors.AsType[*url.Error](err)
	return transport
}

// maxRetryAfter caps a parsed Retry-After so that absurd values cannot overflow a
// Duration; anything this long is past every caller's deadline anyway.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads the wait a server asked for: Retry-After-Ms (milliseconds, sent by
// OpenAI), else Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in
// the past means no wait.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil && ms >= 0 {
		return clampWait(ms * float64(time.Millisecond)), true
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return clampWait(secs * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func clampWait(nanos float64) time.Duration {
	if nanos >= float64(maxRetryAfter) { // also catches +Inf
		return maxRetryAfter
	}
	return time.Duration(nanos)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// retryBudgetError: the provider asked for (or backoff needs) a wait that would end past
// the caller's deadline.
type retryBudgetError struct {
	wait time.Duration
	err  error
}

func (e *retryBudgetError) Error() string {
	return fmt.Sprintf("retry in %s would pass the deadline: %v", e.wait.Round(time.Millisecond), e.err)
}

func (e *retryBudgetError) Unwrap() error { return e.err }

package chatmodel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		headers []string
		want    time.Duration
		ok      bool
	}{
		{"seconds", []string{"Retry-After", "2"}, 2 * time.Second, true},
		{"fractional seconds", []string{"Retry-After", "1.5"}, 1500 * time.Millisecond, true},
		{"HTTP-date", []string{"Retry-After", now.Add(3 * time.Second).Format(http.TimeFormat)}, 3 * time.Second, true},
		{"RFC 850 date", []string{"Retry-After", now.Add(time.Minute).Format(time.RFC850)}, time.Minute, true},
		{"date in the past", []string{"Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)}, 0, true},
		{"milliseconds win", []string{"Retry-After-Ms", "250", "Retry-After", "9"}, 250 * time.Millisecond, true},
		{"huge", []string{"Retry-After", "1e300"}, maxRetryAfter, true},
		{"negative", []string{"Retry-After", "-3"}, 0, false},
		{"garbage", []string{"Retry-After", "soon"}, 0, false},
		{"absent", nil, 0, false},
	} {
		h := http.Header{}
		for i := 0; i+1 < len(tc.headers); i += 2 {
			h.Set(tc.headers[i], tc.headers[i+1])
		}
		if got, ok := parseRetryAfter(h, now); got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %s, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffDoublesWithJitterUpToItsCap(t *testing.T) {
	p := retryPolicy{base: 100 * time.Millisecond, maxWait: time.Second}
	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		full *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 50 {
			d := p.delay(errors.New("x"), attempt, time.Now())
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: delay %s outside [%s, %s]", attempt, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Fatalf("attempt %d: no jitter", attempt)
		}
	}
	if d := p.delay(errors.New("x"), 200, time.Now()); d > time.Second {
		t.Fatalf("huge attempt: %s", d)
	}
}

func TestDelayPrefersTheServersRetryAfter(t *testing.T) {
	p := retryPolicy{base: 100 * time.Millisecond, maxWait: time.Second}
	err := fmt.Errorf("chat completion: %w", apiError(http.StatusTooManyRequests, "Retry-After", "7"))
	if d := p.delay(err, 0, time.Now()); d != 7*time.Second {
		t.Fatalf("delay %s, want the server's 7s", d)
	}
}

func TestRetryable(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(live)
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"429", live, apiError(429), true},
		{"408", live, apiError(408), true},
		{"500", live, apiError(500), true},
		{"503", live, apiError(503), true},
		{"400", live, apiError(400), false},
		{"401", live, apiError(401), false},
		{"connection refused", live, &url.Error{Op: "Post", URL: "http://x", Err: errors.New("connection refused")}, true},
		{"deadline", live, &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, false},
		{"caller gone", done, apiError(503), false},
		{"malformed", live, errors.New("unexpected end of JSON input"), false},
	} {
		if got := retryable(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: retryable %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetryStopsWhenTheWaitPassesTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p := retryPolicy{retries: 5, base: 10 * time.Millisecond, maxWait: 10 * time.Millisecond, minAttempt: 100 * time.Millisecond}
	calls := 0
	_, attempts, err := do(ctx, p, func(context.Context) (string, error) {
		calls++
		return "", apiError(http.StatusTooManyRequests, "Retry-After", "0.95")
	})
	var budget *retryBudgetError
	if !errors.As(err, &budget) || calls != 1 || attempts != 1 {
		t.Fatalf("err %v after %d calls (%d attempts), want a budget error after 1", err, calls, attempts)
	}
}

func TestRetryGivesUpAfterItsRetries(t *testing.T) {
	p := retryPolicy{retries: 2, base: time.Millisecond, maxWait: time.Millisecond}
	calls := 0
	_, attempts, err := do(context.Background(), p, func(context.Context) (string, error) {
		calls++
		return "", apiError(http.StatusInternalServerError)
	})
	if err == nil || calls != 3 || attempts != 3 {
		t.Fatalf("err %v after %d calls, want an error after 3", err, calls)
	}
}

// apiError is the client's error for an HTTP status, with response headers.
func apiError(status int, headers ...string) *openai.Error {
	res := &http.Response{StatusCode: status, Header: http.Header{}}
	for i := 0; i+1 < len(headers); i += 2 {
		res.Header.Set(headers[i], headers[i+1])
	}
	return &openai.Error{StatusCode: status, Response: res}
}

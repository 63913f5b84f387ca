package interviewer

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/openai/openai-go/v3"
	"github.com/sony/gobreaker/v2"
)

// BreakerConfig tunes the circuit breaker that keeps a failing provider from being called
// on every turn. It counts whole turns (retries included), not single requests.
type BreakerConfig struct {
	// Failures is how many consecutive failed turns open the breaker; default 5.
	Failures int
	// OpenFor is how long the breaker stays open; then one trial turn goes to the provider
	// and closes it again on success. Default 30s.
	OpenFor time.Duration
}

// Breaker defaults.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerOpenFor  = 30 * time.Second
)

func (b BreakerConfig) withDefaults() BreakerConfig {
	if b.Failures <= 0 {
		b.Failures = DefaultBreakerFailures
	}
	if b.OpenFor <= 0 {
		b.OpenFor = DefaultBreakerOpenFor
	}
	return b
}

// newBreaker builds the breaker for one provider. While it is open, or half-open with its
// one trial turn in flight, Execute fails at once and the turn goes to the fallback.
// A turn whose caller went away does not count: that says nothing about the provider.
func newBreaker(cfg BreakerConfig, name string, log logr.Logger) *gobreaker.CircuitBreaker[Reply] {
	failures := uint32(math.MaxUint32)
	if uint64(cfg.Failures) < math.MaxUint32 {
		failures = uint32(cfg.Failures)
	}
	return gobreaker.NewCircuitBreaker[Reply](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errCallerGone) || turnsOwnFault(err) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			log.Info("LLM interviewer circuit breaker changed state", "from", from.String(), "to", to.String())
		},
	})
}

// errCallerGone marks a turn abandoned by its caller (context canceled or past the
// caller's own deadline).
var errCallerGone = errors.New("caller gone")

// turnsOwnFault tells a failure of this turn from one of the provider: a request the provider
// refused for its content (400, 413, 422: a transcript too long for the model) or a reply
// that failed our checks (a participant can steer the model into those). One breaker serves
// every team, so such turns must not open it: a participant writing long answers would
// switch the model off for everyone.
func turnsOwnFault(err error) bool {
	var invalid *invalidReply
	if errors.As(err, &invalid) {
		return true
	}
	if apiErr, ok := errors.AsType[*openai.Error](err); ok {
		switch apiErr.StatusCode {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			return true
		}
	}
	return false
}

// breakerRejected reports whether the breaker refused the turn without calling the provider.
func breakerRejected(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}

package interviewer

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/openai/openai-go/v3"
	"github.com/sony/gobreaker/v2"
)

// BreakerConfig tunes the circuit breakers that keep a failing provider from being called
// on every turn: the provider's, which every team's turns share, and each team's own. They
// count whole turns (retries included), not single requests.
type BreakerConfig struct {
	// Failures is how many consecutive failed turns open a breaker; default 5.
	Failures int
	// OpenFor is how long a breaker stays open; then one trial turn goes to the provider
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

// newBreaker builds a breaker that counts the failures blamed on counts (see blameFor):
// every other outcome but success is excluded, so it neither opens the breaker nor, half
// open, closes it. While the breaker is open, or half-open with its one trial turn in
// flight, Execute fails at once and the turn goes to the fallback.
func newBreaker(cfg BreakerConfig, name string, counts blame, log logr.Logger) *gobreaker.CircuitBreaker[Reply] {
	failures := uint32(math.MaxUint32)
	if uint64(cfg.Failures) < math.MaxUint32 {
		failures = uint32(cfg.Failures)
	}
	return gobreaker.NewCircuitBreaker[Reply](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return err != nil && blameFor(err) != counts },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			log.Info("LLM interviewer circuit breaker changed state", "from", from.String(), "to", to.String())
		},
	})
}

// guarded runs a turn's call through its team's breaker and, inside, the provider's. The
// team's comes first so that a team whose own breaker is open takes no trial turn of the
// provider's.
func (l *LLM) guarded(tenant string, call func() (Reply, error)) (Reply, error) {
	team := l.teams.acquire(tenant)
	defer l.teams.release(tenant, team)
	return team.Execute(func() (Reply, error) { return l.breaker.Execute(call) })
}

// blame says whose a failed turn is, and so which breaker counts it.
type blame int

const (
	// blameNone: the turn's own content or its caller; no breaker counts it.
	blameNone blame = iota
	// blameTeam: the turn took too long. A provider that is slow for everyone does that,
	// but so does a turn whose participant asked for a long answer or wrote a long
	// transcript, and nothing in a timeout tells the two apart. So the turn's team's breaker
	// counts it: a team that keeps timing out stops waiting on the model, and no other team
	// does. A provider that hangs for everyone is then given up by each team after its own
	// Failures timeouts, rather than once for all; counting timeouts for all only when several
	// teams have them would not help, as one person may hold several teams.
	blameTeam
	// blameProvider: the provider failed in a way no content causes (a server error, 429,
	// a lost or refused connection, a response that is not a chat completion); every team's
	// turns would fail alike, so the breaker they share counts it.
	blameProvider
)

// blameFor says whose failure err is.
func blameFor(err error) blame {
	switch {
	case breakerRejected(err), errors.Is(err, errCallerGone), turnsOwnFault(err):
		return blameNone
	case timedOut(err):
		return blameTeam
	}
	return blameProvider
}

// timedOut reports a turn that ran out of time: its own deadline, or a server's timeout
// (408, or 504 from a gateway in front of the model), which are no more the provider's
// fault than ours.
func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if apiErr, ok := errors.AsType[*openai.Error](err); ok {
		return apiErr.StatusCode == http.StatusRequestTimeout || apiErr.StatusCode == http.StatusGatewayTimeout
	}
	return false
}

// teamBreakers holds a breaker per team that counts the team's timeouts. A team's entry
// lives while a turn of the team runs or its breaker remembers failures, so the map holds
// only teams whose turns are failing or running now.
type teamBreakers struct {
	cfg  BreakerConfig
	name string
	log  logr.Logger

	mu sync.Mutex
	m  map[string]*teamBreaker
}

type teamBreaker struct {
	*gobreaker.CircuitBreaker[Reply]
	turns int // running turns that hold it
}

func newTeamBreakers(cfg BreakerConfig, name string, log logr.Logger) *teamBreakers {
	return &teamBreakers{cfg: cfg, name: name, log: log, m: make(map[string]*teamBreaker)}
}

// acquire returns tenant's breaker for one turn; release it when the turn is done.
func (t *teamBreakers) acquire(tenant string) *teamBreaker {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.m[tenant]
	if !ok {
		b = &teamBreaker{CircuitBreaker: newBreaker(t.cfg, t.name+" team "+tenant, blameTeam, t.log.WithValues("team", tenant))}
		t.m[tenant] = b
	}
	b.turns++
	return b
}

// release ends a turn's hold on b, and forgets b when no turn holds it and it is as a new
// one would be: closed, with no failure counted.
func (t *teamBreakers) release(tenant string, b *teamBreaker) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b.turns--
	if b.turns == 0 && b.State() == gobreaker.StateClosed && b.Counts().ConsecutiveFailures == 0 {
		delete(t.m, tenant)
	}
}

// errCallerGone marks a turn abandoned by its caller (context canceled or past the
// caller's own deadline).
var errCallerGone = errors.New("caller gone")

// turnsOwnFault tells a failure of this turn from one of the provider: a request the provider
// refused for its content (400, 413, 422: a transcript too long for the model) or a reply
// that failed our checks (a participant can steer the model into those). No breaker counts
// them: the provider's serves every team, and a participant writing long answers would
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

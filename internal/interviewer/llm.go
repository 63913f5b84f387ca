package interviewer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/openai/openai-go/v3"
	"github.com/sony/gobreaker/v2"

	"qual.cx/operator/internal/chatmodel"
)

// LLMConfig configures the LLM interviewer.
type LLMConfig struct {
	chatmodel.Config
	// Timeout is the whole-turn budget, retries included; default 8s.
	Timeout time.Duration
	// MaxRetries is how many times a retryable failure is retried; 0 means the default 2,
	// a negative value means no retries.
	MaxRetries int
	// Breaker tunes the circuit breaker.
	Breaker BreakerConfig
}

// LLM defaults.
const (
	DefaultLLMTimeout    = 8 * time.Second
	DefaultLLMMaxRetries = 2
)

// Retry timing. A participant is waiting, so backoff starts short and stays short.
const (
	retryBase       = 250 * time.Millisecond
	retryMaxBackoff = 2 * time.Second
	retryMinAttempt = 250 * time.Millisecond
)

// LLM asks an OpenAI-compatible chat model for the next question. Whenever the model
// cannot give a usable one in time its fallback stands in, so Next never fails because of
// the provider. An LLM is safe for concurrent use; share
// one per provider (see [Pool]) so that all turns see the same circuit breakers.
type LLM struct {
	client  *chatmodel.Client
	timeout time.Duration
	// breaker is the provider's, shared by every team's turns; teams are each team's own
	// (see newBreaker and blameFor for which failures each counts).
	breaker  *gobreaker.CircuitBreaker[Reply]
	teams    *teamBreakers
	fallback Fallback
	log      logr.Logger
}

var _ Interviewer = (*LLM)(nil)

// NewLLM returns an LLM interviewer for cfg that falls back to fallback (a new [Protocol]
// when nil). It fails only for an unusable configuration.
func NewLLM(cfg LLMConfig, fallback Fallback, log logr.Logger) (*LLM, error) {
	cfg = cfg.withDefaults()
	client, err := chatmodel.New(cfg.Config, chatmodel.Retry{Retries: cfg.MaxRetries,
		Backoff: retryBase, MaxBackoff: retryMaxBackoff, MinAttempt: retryMinAttempt})
	if err != nil {
		return nil, fmt.Errorf("LLM interviewer: %w", err)
	}
	if fallback == nil {
		fallback = NewProtocol()
	}
	log = log.WithValues("model", client.Model(), "host", client.Host())
	name := "interviewer-llm " + client.Host() + " " + client.Model()
	return &LLM{
		client:   client,
		timeout:  cfg.Timeout,
		breaker:  newBreaker(cfg.Breaker, name, blameProvider, log),
		teams:    newTeamBreakers(cfg.Breaker, name, log),
		fallback: fallback,
		log:      log,
	}, nil
}

func (cfg LLMConfig) withDefaults() LLMConfig {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultLLMTimeout
	}
	cfg.MaxRetries = chatmodel.RetriesOr(cfg.MaxRetries, DefaultLLMMaxRetries)
	cfg.Breaker = cfg.Breaker.withDefaults()
	return cfg
}

// Next asks the model for the next message within the turn budget. On any failure it logs
// why (never turn content) and returns the fallback's reply; its error is the fallback's.
func (l *LLM) Next(ctx context.Context, c Campaign, transcript []Turn) (Reply, error) {
	start := time.Now()
	turnCtx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	attempts := 0
	reply, err := l.guarded(c.Tenant, func() (Reply, error) {
		r, n, err := l.ask(turnCtx, c, transcript)
		attempts = n
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", errCallerGone, err)
		}
		return r, err
	})
	if err == nil {
		return reply, nil
	}
	l.logFallback(err, attempts, time.Since(start))
	return l.fallbackNext(ctx, c, transcript)
}

// maxReplyTokens caps the model's output for one turn. A turn is one short question: in
// English 20 to 80 tokens, and 300 leave room for scripts that take several tokens a
// character. Without a cap a participant can ask for an essay ("write the word company
// three thousand times") and have the model generate for as long as it likes; with it, a
// model at a common 50 to 100 tokens a second is done in 3 to 6 s. A slower one can still
// pass the turn's budget, which is why a timeout counts against the turn's team only
// (blameTeam).
const maxReplyTokens = 300

// ask makes one turn's request (with retries) and checks the answer.
func (l *LLM) ask(ctx context.Context, c Campaign, transcript []Turn) (Reply, int, error) {
	answer, attempts, err := l.client.Ask(ctx, openai.ChatCompletionNewParams{Messages: messages(c, transcript),
		MaxTokens: openai.Int(maxReplyTokens)})
	if err != nil {
		return Reply{}, attempts, err
	}
	if answer.FinishReason == chatmodel.FinishLength {
		// A fragment, and one the participant asked for: a reply that fails our checks,
		// which counts against no breaker.
		return Reply{}, attempts, &invalidReply{"cut off at the output cap"}
	}
	reply, err := interpret(answer.Content, c, transcript)
	return reply, attempts, err
}

// interpret turns the model's text into a reply: the end marker closes the interview with
// the language's closing words (the model's own would need checking too), anything else
// must pass checkReply.
func interpret(content string, c Campaign, transcript []Turn) (Reply, error) {
	content = strings.TrimSpace(content)
	if strings.Contains(content, endMarker) {
		if askedCount(transcript) == 0 {
			return Reply{}, &invalidReply{"ends the interview before asking anything"}
		}
		return Reply{Content: templatesFor(c.Language).closing, Done: true, Source: SourceLLM}, nil
	}
	if err := checkReply(content, transcript); err != nil {
		return Reply{}, err
	}
	return Reply{Content: content, Source: SourceLLM}, nil
}

// fallbackNext has the fallback stand in for the model on this turn.
func (l *LLM) fallbackNext(ctx context.Context, c Campaign, transcript []Turn) (Reply, error) {
	reply, err := l.fallback.StandIn(ctx, c, transcript)
	if err != nil {
		return Reply{}, fmt.Errorf("fallback interviewer: %w", err)
	}
	if reply.Source == "" {
		reply.Source = SourceProtocol
	}
	return reply, nil
}

// Package llm is the analyzer that asks the operator's chat model for a campaign's themes,
// through the same OpenAI-compatible client as the LLM interviewer. The model proposes;
// this package checks: every quote must be a participant's own words in the message it
// cites, a finding needs as many interviews as the built-in analyzer asks, and when the
// model fails or its answer cannot be used the built-in analyzer's findings are returned.
package llm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/chatmodel"
)

// Config configures the LLM analyzer.
type Config struct {
	Model chatmodel.Config
	// Timeout bounds one analysis' model call, retries included; default DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a retryable failure is retried; 0 means the default 2,
	// a negative value means no retries.
	MaxRetries int
	// MaxPromptBytes bounds the transcripts sent in one request; a larger campaign is
	// analyzed by the fallback. Default DefaultMaxPromptBytes (about 100,000 tokens).
	MaxPromptBytes int
}

// Defaults.
const (
	DefaultTimeout        = 3 * time.Minute
	DefaultMaxRetries     = 2
	DefaultMaxPromptBytes = 400_000
)

// Analyzer asks a chat model for findings and checks its answer.
type Analyzer struct {
	client    *chatmodel.Client
	timeout   time.Duration
	maxPrompt int
	fallback  analysis.Analyzer
	log       logr.Logger
}

var _ analysis.Analyzer = (*Analyzer)(nil)

// New returns an analyzer for cfg that falls back to fallback (required). It fails only for
// an unusable configuration.
func New(cfg Config, fallback analysis.Analyzer, log logr.Logger) (*Analyzer, error) {
	if fallback == nil {
		return nil, errors.New("LLM analyzer: a fallback analyzer is required")
	}
	cfg = cfg.withDefaults()
	client, err := chatmodel.New(cfg.Model, chatmodel.Retry{Retries: cfg.MaxRetries,
		Backoff: time.Second, MaxBackoff: 10 * time.Second, MinAttempt: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("LLM analyzer: %w", err)
	}
	return &Analyzer{client: client, timeout: cfg.Timeout, maxPrompt: cfg.MaxPromptBytes, fallback: fallback,
		log: log.WithValues("model", client.Model(), "host", client.Host())}, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.MaxRetries = chatmodel.RetriesOr(cfg.MaxRetries, DefaultMaxRetries)
	if cfg.MaxPromptBytes <= 0 {
		cfg.MaxPromptBytes = DefaultMaxPromptBytes
	}
	return cfg
}

// Analyze implements analysis.Analyzer. It fails only when ctx ends (or the fallback
// fails): a model that fails, is too slow or answers unusable JSON hands the campaign to
// the fallback, and the reason is logged without any participant's words.
func (a *Analyzer) Analyze(ctx context.Context, in analysis.Input) ([]analysis.Finding, error) {
	start := time.Now()
	found, attempts, err := a.ask(ctx, in)
	if err == nil {
		a.log.V(1).Info("LLM analysis done", "findings", len(found), "attempts", attempts,
			"elapsed", time.Since(start).Round(time.Millisecond).String())
		return found, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("LLM analyzer: %w", ctx.Err())
	}
	reason, kv := describe(err)
	a.log.Info("LLM analyzer failed, the built-in analyzer runs instead", append(kv, "reason", reason,
		"attempts", attempts, "elapsed", time.Since(start).Round(time.Millisecond).String())...)
	return a.fallback.Analyze(ctx, in)
}

// errTooLarge: the transcripts do not fit one request.
var errTooLarge = errors.New("transcripts too large for one request")

func (a *Analyzer) ask(ctx context.Context, in analysis.Input) ([]analysis.Finding, int, error) {
	minSupport := analysis.MinSupport(len(in.Interviews))
	params, r, size := prompt(in, minSupport)
	if size > a.maxPrompt {
		return nil, 0, errTooLarge
	}
	callCtx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	content, attempts, err := a.client.Complete(callCtx, params)
	if err != nil {
		return nil, attempts, err
	}
	found, err := findings(content, r, len(in.Interviews), minSupport)
	return found, attempts, err
}

// describe names a failure and what of it is safe to log.
func describe(err error) (string, []any) {
	switch {
	case errors.Is(err, errTooLarge):
		return "too large", nil
	case errors.Is(err, errMalformed):
		return "malformed response", nil
	}
	if reason, kv, ok := chatmodel.Describe(err); ok {
		return reason, kv
	}
	return "malformed response", nil
}

// For is a Chooser's Model for a chat model whose configuration may change (a rotated key,
// a new model): each analysis gets an analyzer of the model current when it starts, with
// fallback as its fallback, or none while current says there is no model.
func For(current func() (chatmodel.Config, bool), fallback analysis.Analyzer, log logr.Logger) func(context.Context) analysis.Analyzer {
	return func(context.Context) analysis.Analyzer {
		cfg, ok := current()
		if !ok {
			return nil
		}
		a, err := New(Config{Model: cfg}, fallback, log)
		if err != nil {
			log.Error(err, "the chat model is unusable for analysis: the built-in analyzer runs instead")
			return nil
		}
		return a
	}
}

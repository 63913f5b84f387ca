// Package llm is the analyzer that asks the operator's chat model for a campaign's themes,
// through the same OpenAI-compatible client as the LLM interviewer: in one request, or for a
// large campaign one per batch of interviews and one that groups what the batches found
// (map and reduce). The model proposes;
// this package checks: every quote must be a participant's own words in the message it
// cites, a finding needs as many interviews as the built-in analyzer asks, and when the
// model fails or its answer cannot be used the built-in analyzer's findings are returned.
package llm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/openai/openai-go/v3"
	"golang.org/x/sync/errgroup"

	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/chatmodel"
)

// Config configures the LLM analyzer.
type Config struct {
	Model chatmodel.Config
	// Timeout bounds one request to the model, retries included; default DefaultTimeout.
	Timeout time.Duration
	// Budget bounds all the requests of one analysis (default DefaultBudget, and never more
	// than three quarters of the time the caller's context has left); past it the fallback
	// runs.
	Budget time.Duration
	// MaxRetries is how many times a retryable failure is retried; 0 means the default 2,
	// a negative value means no retries.
	MaxRetries int
	// MaxPromptBytes bounds the transcripts sent in one request (default
	// DefaultMaxPromptBytes, about 100,000 tokens); a larger campaign is read in batches.
	MaxPromptBytes int
	// MaxBatches bounds the batches of one analysis (default DefaultMaxBatches); a campaign
	// that needs more is analyzed by the fallback.
	MaxBatches int
	// Parallel is how many batches are asked at once (default DefaultParallel).
	Parallel int
	// Metrics counts the model's answers and the fallbacks (nil: not counted).
	Metrics *Metrics
}

// Defaults.
const (
	DefaultTimeout        = 3 * time.Minute
	DefaultBudget         = 6 * time.Minute
	DefaultMaxRetries     = 2
	DefaultMaxPromptBytes = 400_000
	DefaultMaxBatches     = 8
	DefaultParallel       = 4
)

// Analyzer asks a chat model for findings and checks its answer.
type Analyzer struct {
	client     *chatmodel.Client
	timeout    time.Duration
	total      time.Duration
	maxPrompt  int
	maxBatches int
	parallel   int
	metrics    *Metrics
	fallback   analysis.Analyzer
	log        logr.Logger
}

var _ analysis.Reporter = (*Analyzer)(nil)

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
	return &Analyzer{client: client, timeout: cfg.Timeout, total: cfg.Budget, maxPrompt: cfg.MaxPromptBytes, maxBatches: cfg.MaxBatches,
		parallel: cfg.Parallel, metrics: cfg.Metrics, fallback: fallback,
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
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.MaxBatches <= 0 {
		cfg.MaxBatches = DefaultMaxBatches
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	return cfg
}

// Analyze implements analysis.Analyzer. It fails only when ctx ends (or the fallback
// fails): a model that fails, is too slow or answers unusable JSON hands the campaign to
// the fallback, and the reason is logged without any participant's words.
func (a *Analyzer) Analyze(ctx context.Context, in analysis.Input) ([]analysis.Finding, error) {
	found, _, err := a.AnalyzeReport(ctx, in)
	return found, err
}

// AnalyzeReport implements analysis.Reporter: Analyze, and whether the model
// (analysis.AnalyzerLLM) or the fallback (analysis.AnalyzerBuiltin) made the findings.
func (a *Analyzer) AnalyzeReport(ctx context.Context, in analysis.Input) ([]analysis.Finding, string, error) {
	start := time.Now()
	modelCtx, cancel := context.WithTimeout(ctx, a.budget(ctx, start))
	defer cancel()
	found, attempts, err := a.ask(modelCtx, in)
	if err == nil && len(found) == 0 {
		err = errNothingHeld
	}
	if err == nil {
		a.metrics.usedModel()
		a.log.V(1).Info("LLM analysis done", "findings", len(found), "attempts", attempts,
			"elapsed", time.Since(start).Round(time.Millisecond).String())
		return found, analysis.AnalyzerLLM, nil
	}
	if ctx.Err() != nil {
		return nil, analysis.AnalyzerLLM, fmt.Errorf("LLM analyzer: %w", ctx.Err())
	}
	reason, kv := describe(err)
	a.metrics.fellBack(reason)
	a.log.Info("LLM analyzer failed, the built-in analyzer runs instead", append(kv, "reason", reason,
		"attempts", attempts, "elapsed", time.Since(start).Round(time.Millisecond).String())...)
	found, err = a.fallback.Analyze(ctx, in)
	return found, analysis.AnalyzerBuiltin, err
}

// budget is how long the model may take in all: Budget, or three quarters of the time ctx
// has left, so that the fallback still has time to run within the caller's deadline (an
// analysis job's timeout).
func (a *Analyzer) budget(ctx context.Context, now time.Time) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return min(a.total, deadline.Sub(now)*3/4)
	}
	return a.total
}

// errTooLarge: the transcripts do not fit the batches allowed.
var errTooLarge = errors.New("transcripts too large")

// errNothingHeld: the model's answer was the schema's JSON, but none of its findings held
// (no quote in the transcripts, too few interviews). An analysis replaces the campaign's
// findings, so an empty answer would delete them; the built-in analyzer reads the campaign
// instead.
var errNothingHeld = errors.New("no finding of the model's held")

// ask runs the analysis: one request when the transcripts fit one, else one per batch of
// interviews (a few at a time) and one more that groups what the batches found.
func (a *Analyzer) ask(ctx context.Context, in analysis.Input) ([]analysis.Finding, int, error) {
	n := len(in.Interviews)
	minSupport := analysis.MinSupport(n)
	parts, err := batches(render(in), a.maxPrompt)
	switch {
	case err != nil:
		return nil, 0, err
	case len(parts) > a.maxBatches:
		return nil, 0, fmt.Errorf("%w: %d batches", errTooLarge, len(parts))
	case len(parts) == 1:
		params, r := findingsRequest(in.Campaign, parts[0], n, minSupport)
		content, attempts, err := a.complete(ctx, params)
		if err != nil {
			return nil, attempts, err
		}
		found, err := findings(content, r, n, minSupport)
		return found, attempts, err
	}
	cands, attempts, err := a.mapBatches(ctx, in.Campaign, parts, n, minSupport)
	if err != nil || len(cands) < 2 {
		return finish(cands, n, minSupport), attempts, err
	}
	content, k, err := a.complete(ctx, mergeRequest(in.Campaign, cands))
	attempts += k
	if err != nil {
		return nil, attempts, err
	}
	merged, err := merge(content, cands)
	if err != nil {
		return nil, attempts, err
	}
	return finish(merged, n, minSupport), attempts, nil
}

// mapBatches asks for each batch's findings, of n interviews in all, a few batches at a time. A batch holds only
// part of a theme's interviews, so the model is asked for themes at half the batch's share
// of the threshold, and every candidate with a quote that holds is kept: the threshold
// applies once the batches' findings are grouped.
func (a *Analyzer) mapBatches(ctx context.Context, c analysis.Campaign, parts [][]rendered, n, minSupport int) ([]candidate, int, error) {
	found := make([][]candidate, len(parts))
	var attempts atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.parallel)
	for i, part := range parts {
		floor := max(2, minSupport*len(part)/(2*n))
		g.Go(func() error {
			params, r := findingsRequest(c, part, n, floor)
			content, k, err := a.complete(gctx, params)
			attempts.Add(int64(k))
			if err != nil {
				return err
			}
			found[i], err = candidates(content, r)
			return err
		})
	}
	err := g.Wait()
	return slices.Concat(found...), int(attempts.Load()), err
}

// complete makes one request within the per-request timeout.
func (a *Analyzer) complete(ctx context.Context, params openai.ChatCompletionNewParams) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	return a.client.Complete(ctx, params)
}

// describe names a failure and what of it is safe to log.
func describe(err error) (string, []any) {
	switch {
	case errors.Is(err, errTooLarge):
		return "too large", nil
	case errors.Is(err, errMalformed):
		return "malformed response", nil
	case errors.Is(err, errNothingHeld):
		return "nothing held", nil
	}
	if reason, kv, ok := chatmodel.Describe(err); ok {
		return reason, kv
	}
	return "malformed response", nil
}

// For is a Chooser's Model for a chat model whose configuration may change (a rotated key,
// a new model): each analysis gets an analyzer of the model current when it starts, with
// fallback as its fallback and m counting what it did, or none while current says there is
// no model.
func For(current func() (chatmodel.Config, bool), fallback analysis.Analyzer, m *Metrics, log logr.Logger) func(context.Context) analysis.Analyzer {
	return func(context.Context) analysis.Analyzer {
		cfg, ok := current()
		if !ok {
			return nil
		}
		a, err := New(Config{Model: cfg, Metrics: m}, fallback, log)
		if err != nil {
			log.Error(err, "the chat model is unusable for analysis: the built-in analyzer runs instead")
			return nil
		}
		return a
	}
}

package interviewer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/sony/gobreaker/v2"
)

// LLMConfig configures the LLM interviewer.
type LLMConfig struct {
	// BaseURL is the OpenAI-compatible endpoint root, e.g. "https://host/v1".
	BaseURL string
	Model   string
	// APIKey is sent as a bearer token; empty sends none (e.g. a local model server).
	APIKey string
	// Timeout is the whole-turn budget, retries included; default 8s.
	Timeout time.Duration
	// MaxRetries is how many times a retryable failure is retried; 0 means the default 2,
	// a negative value means no retries.
	MaxRetries int
	// HTTPClient is optional (the server passes one with an egress guard); nil uses a
	// client on http.DefaultTransport.
	HTTPClient *http.Client
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
// cannot give a usable one in time it returns the fallback interviewer's reply instead,
// so Next never fails because of the provider. An LLM is safe for concurrent use; share
// one per provider (see [Pool]) so that all turns see the same circuit breaker.
type LLM struct {
	chat     openai.ChatCompletionService
	model    string
	host     string
	timeout  time.Duration
	retry    retryPolicy
	breaker  *gobreaker.CircuitBreaker[Reply]
	fallback Interviewer
	log      logr.Logger
}

var _ Interviewer = (*LLM)(nil)

// NewLLM returns an LLM interviewer for cfg that falls back to fallback (a new [Protocol]
// when nil). It fails only for an unusable configuration.
func NewLLM(cfg LLMConfig, fallback Interviewer, log logr.Logger) (*LLM, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("LLM interviewer: model is required")
	}
	cfg = cfg.withDefaults()
	if fallback == nil {
		fallback = NewProtocol()
	}
	log = log.WithValues("model", cfg.Model, "host", base.Host)
	return &LLM{
		chat:     openai.NewChatCompletionService(clientOptions(cfg)...),
		model:    cfg.Model,
		host:     base.Host,
		timeout:  cfg.Timeout,
		retry:    retryPolicy{retries: cfg.MaxRetries, base: retryBase, maxWait: retryMaxBackoff, minAttempt: retryMinAttempt},
		breaker:  newBreaker(cfg.Breaker, "interviewer-llm "+base.Host+" "+cfg.Model, log),
		fallback: fallback,
		log:      log,
	}, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("LLM interviewer: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("LLM interviewer: base URL %q is not an absolute http(s) URL", u.Redacted())
	}
	return u, nil
}

func (cfg LLMConfig) withDefaults() LLMConfig {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultLLMTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultLLMMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	cfg.Breaker = cfg.Breaker.withDefaults()
	return cfg
}

// clientOptions configure the official client. The chat service is built from these
// options alone, not through openai.NewClient, so that no OPENAI_* environment variable
// (organisation, project, custom headers) reaches a provider the operator configured
// explicitly. The client's own retries are off: retryPolicy retries within the turn budget.
func clientOptions(cfg LLMConfig) []option.RequestOption {
	return []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(cfg.APIKey),
		option.WithHTTPClient(cfg.HTTPClient),
		option.WithMaxRetries(0),
	}
}

// Next asks the model for the next message within the turn budget. On any failure it logs
// why (never turn content) and returns the fallback's reply; its error is the fallback's.
func (l *LLM) Next(ctx context.Context, c Campaign, transcript []Turn) (Reply, error) {
	start := time.Now()
	turnCtx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	attempts := 0
	reply, err := l.breaker.Execute(func() (Reply, error) {
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

// ask makes one turn's request (with retries) and checks the answer.
func (l *LLM) ask(ctx context.Context, c Campaign, transcript []Turn) (Reply, int, error) {
	params := openai.ChatCompletionNewParams{Model: l.model, Messages: messages(c, transcript)}
	content, attempts, err := l.retry.do(ctx, func(ctx context.Context) (string, error) {
		return l.complete(ctx, params)
	})
	if err != nil {
		return Reply{}, attempts, err
	}
	reply, err := interpret(content, c, transcript)
	return reply, attempts, err
}

// errNoChoice: the provider answered 200 without a message.
var errNoChoice = errors.New("chat completion has no choices")

func (l *LLM) complete(ctx context.Context, params openai.ChatCompletionNewParams) (string, error) {
	res, err := l.chat.New(ctx, params)
	if err != nil {
		return "", fmt.Errorf("chat completion: %w", err)
	}
	if len(res.Choices) == 0 {
		return "", errNoChoice
	}
	return res.Choices[0].Message.Content, nil
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

func (l *LLM) fallbackNext(ctx context.Context, c Campaign, transcript []Turn) (Reply, error) {
	reply, err := l.fallback.Next(ctx, c, transcript)
	if err != nil {
		return Reply{}, fmt.Errorf("fallback interviewer: %w", err)
	}
	if reply.Source == "" {
		reply.Source = SourceProtocol
	}
	return reply, nil
}

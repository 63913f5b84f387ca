// Package chatmodel is the OpenAI-compatible chat client shared by the LLM interviewer and
// the LLM analyzer: one request/response call with a retry policy that stops at the
// caller's deadline, and a way to log its failures without quoting any text.
package chatmodel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
)

// Config names a chat model and how to reach it.
type Config struct {
	// BaseURL is the OpenAI-compatible endpoint root, e.g. "https://host/v1".
	BaseURL string
	Model   string
	// APIKey is sent as a bearer token; empty sends none (e.g. a local model server).
	APIKey string
	// HTTPClient is optional (the server passes one with an egress guard); nil uses a
	// client on http.DefaultTransport.
	HTTPClient *http.Client
	// MaxResponse caps the bytes of a response read (DefaultMaxResponse when 0): a reply is
	// a few kilobytes of text or JSON, and a broken or hostile endpoint must not be able to
	// make the server hold hundreds of megabytes per call.
	MaxResponse int64
}

// DefaultMaxResponse is the cap on a response's bytes when Config.MaxResponse is 0.
const DefaultMaxResponse = 4 << 20

// ErrResponseTooLarge is the failure of a response longer than the cap.
var ErrResponseTooLarge = errors.New("chat completion response too large")

// Retry says how a failed call that may pass is tried again.
type Retry struct {
	// Retries is how many attempts follow the first; 0 means none.
	Retries int
	// Backoff is the wait before the first retry, doubled for each further one up to
	// MaxBackoff (a server's Retry-After wins when it sent one).
	Backoff, MaxBackoff time.Duration
	// MinAttempt is the least time a retry needs to have a chance: a wait that leaves less
	// before the deadline gives up at once.
	MinAttempt time.Duration
}

// RetriesOr reads a retries setting where 0 means the default def and a negative value
// means none.
func RetriesOr(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// Client calls one chat model. It is safe for concurrent use.
type Client struct {
	chat  openai.ChatCompletionService
	model string
	host  string
	retry retryPolicy
	// completionCap says the provider refused max_tokens, as OpenAI's reasoning models do,
	// and takes the cap as max_completion_tokens; shared by the copies WithRetry makes, so
	// the refusal is paid once per client.
	completionCap *atomic.Bool
}

// New returns a client for cfg. It fails only for an unusable configuration: a base URL
// that is not an absolute http(s) URL, or no model.
func New(cfg Config, r Retry) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("chat model: model is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.MaxResponse <= 0 {
		cfg.MaxResponse = DefaultMaxResponse
	}
	capped := *cfg.HTTPClient
	capped.Transport = &cappedTransport{base: cmp.Or[http.RoundTripper](capped.Transport, http.DefaultTransport), max: cfg.MaxResponse}
	cfg.HTTPClient = &capped
	return (&Client{
		chat:          openai.NewChatCompletionService(clientOptions(cfg)...),
		model:         cfg.Model,
		host:          base.Host,
		completionCap: new(atomic.Bool),
	}).WithRetry(r), nil
}

// Model is the model's name.
func (c *Client) Model() string { return c.model }

// Host is the endpoint's host (with port), safe to log.
func (c *Client) Host() string { return c.host }

// Retry is the client's retry policy.
func (c *Client) Retry() Retry {
	return Retry{Retries: c.retry.retries, Backoff: c.retry.base, MaxBackoff: c.retry.maxWait, MinAttempt: c.retry.minAttempt}
}

// WithRetry returns a copy of the client that retries as r says.
func (c *Client) WithRetry(r Retry) *Client {
	out := *c
	out.retry = retryPolicy{retries: max(r.Retries, 0), base: r.Backoff, maxWait: r.MaxBackoff, minAttempt: r.MinAttempt}
	return &out
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("chat model: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("chat model: base URL %q is not an absolute http(s) URL", u.Redacted())
	}
	return u, nil
}

// clientOptions configure the official client. The chat service is built from these
// options alone, not through openai.NewClient, so that no OPENAI_* environment variable
// (organisation, project, custom headers) reaches a provider the operator configured
// explicitly. The client's own retries are off: retryPolicy retries within the caller's
// deadline.
func clientOptions(cfg Config) []option.RequestOption {
	return []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(cfg.APIKey),
		option.WithHTTPClient(cfg.HTTPClient),
		option.WithMaxRetries(0),
	}
}

// ErrNoChoice is the failure of a provider that answered 200 without a message.
var ErrNoChoice = errors.New("chat completion has no choices")

// Complete asks the model (params.Model is set to the client's) and returns the first
// choice's text, retrying what may pass until ctx's deadline. attempts counts the requests
// made.
func (c *Client) Complete(ctx context.Context, params openai.ChatCompletionNewParams) (content string, attempts int, err error) {
	answer, attempts, err := c.Ask(ctx, params)
	return answer.Content, attempts, err
}

// Answer is the first choice of a chat completion.
type Answer struct {
	Content string
	// FinishReason says why the model stopped: "stop" when it was done, FinishLength when
	// the request's output cap (max_tokens) cut it off.
	FinishReason string
}

// FinishLength is the finish reason of an answer cut off by the request's output cap: its
// text is a fragment.
const FinishLength = "length"

// Ask is Complete for a caller that caps the output and so must tell a finished answer
// from a cut one.
func (c *Client) Ask(ctx context.Context, params openai.ChatCompletionNewParams) (answer Answer, attempts int, err error) {
	params.Model = c.model
	return do(ctx, c.retry, func(ctx context.Context) (Answer, error) {
		p := params
		if c.completionCap.Load() {
			p = completionCapped(p)
		}
		res, err := c.chat.New(ctx, p)
		if err != nil && p.MaxTokens.Valid() && refusesMaxTokens(err) {
			c.completionCap.Store(true)
			res, err = c.chat.New(ctx, completionCapped(p))
		}
		if err != nil {
			return Answer{}, fmt.Errorf("chat completion: %w", err)
		}
		if len(res.Choices) == 0 {
			return Answer{}, ErrNoChoice
		}
		return Answer{Content: res.Choices[0].Message.Content, FinishReason: res.Choices[0].FinishReason}, nil
	})
}

// completionCapped moves the output cap from max_tokens, which OpenAI deprecated and its
// reasoning models refuse, to max_completion_tokens, which most other compatible servers
// do not read: so max_tokens is sent first, and this only after a refusal.
func completionCapped(p openai.ChatCompletionNewParams) openai.ChatCompletionNewParams {
	if p.MaxTokens.Valid() {
		p.MaxCompletionTokens, p.MaxTokens = p.MaxTokens, param.Opt[int64]{}
	}
	return p
}

// refusesMaxTokens says a provider answered 400 because it does not take max_tokens.
func refusesMaxTokens(err error) bool {
	apiErr, ok := errors.AsType[*openai.Error](err)
	return ok && apiErr.StatusCode == http.StatusBadRequest &&
		(apiErr.Param == "max_tokens" || strings.Contains(apiErr.Message, "max_completion_tokens"))
}

// Describe names a failed call and the details that are safe to log: the failure's kind
// and transport-level details, never the text of an error that could quote a reply. ok is
// false for a failure it does not know (the caller's own, or a reply it could not read).
func Describe(err error) (reason string, kv []any, ok bool) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", nil, true
	case errors.Is(err, ErrNoChoice):
		return "no choices", nil, true
	case errors.Is(err, ErrResponseTooLarge):
		return "response too large", nil, true
	}
	if budget, isBudget := errors.AsType[*retryBudgetError](err); isBudget {
		reason, kv, _ := Describe(budget.err)
		if reason == "" {
			reason = "malformed response"
		}
		return "retry would pass deadline after " + reason, append(kv, "wait", budget.wait.String()), true
	}
	if apiErr, isAPI := errors.AsType[*openai.Error](err); isAPI {
		return "http status", []any{"status", apiErr.StatusCode}, true
	}
	if urlErr, isURL := errors.AsType[*url.Error](err); isURL {
		return "transport", []any{"error", urlErr.Err.Error()}, true
	}
	return "", nil, false
}

// cappedTransport fails a response body that runs past max bytes.
type cappedTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{body: resp.Body, left: t.max}
	return resp, nil
}

// cappedBody reads up to left bytes, then fails with ErrResponseTooLarge if there is more.
type cappedBody struct {
	body io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the cap from a longer one.
		var one [1]byte
		n, err := io.ReadFull(b.body, one[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.body.Close() }

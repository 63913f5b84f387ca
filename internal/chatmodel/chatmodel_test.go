package chatmodel_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"qual.cx/operator/internal/chatmodel"
	"qual.cx/operator/internal/chatmodel/chatmodeltest"
)

func TestNewRejectsUnusableConfig(t *testing.T) {
	for name, cfg := range map[string]chatmodel.Config{
		"no base URL":  {Model: "m"},
		"relative URL": {BaseURL: "/v1", Model: "m"},
		"not http":     {BaseURL: "ftp://host/v1", Model: "m"},
		"bad URL":      {BaseURL: "http://[::1", Model: "m"},
		"no model":     {BaseURL: "https://host/v1"},
		"blank model":  {BaseURL: "https://host/v1", Model: "  "},
	} {
		if _, err := chatmodel.New(cfg, chatmodel.Retry{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Complete sends the client's model and key, retries what may pass and names its failures
// without their text.
func TestCompleteRetriesAndDescribesFailures(t *testing.T) {
	p := chatmodeltest.New(t, func(i int, w http.ResponseWriter, _ *http.Request) {
		if i == 0 {
			chatmodeltest.Failure(w, http.StatusTooManyRequests)
			return
		}
		chatmodeltest.Completion(w, "hello")
	})
	c, err := chatmodel.New(p.Config(), chatmodel.Retry{Retries: 1, Backoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	params := openai.ChatCompletionNewParams{Model: "ignored", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	out, attempts, err := c.Complete(context.Background(), params)
	if err != nil || out != "hello" || attempts != 2 {
		t.Fatalf("%q after %d attempts, %v", out, attempts, err)
	}
	for _, r := range p.Seen() {
		if r.Model != "test-model" || r.Auth != "Bearer test-key" {
			t.Fatalf("request model %q, auth %q", r.Model, r.Auth)
		}
	}
	_, _, err = c.WithRetry(chatmodel.Retry{}).Complete(context.Background(), params) // request 3: hello again
	if err != nil {
		t.Fatal(err)
	}
	down := chatmodeltest.New(t, func(_ int, w http.ResponseWriter, _ *http.Request) { chatmodeltest.Failure(w, http.StatusBadGateway) })
	c, _ = chatmodel.New(down.Config(), chatmodel.Retry{})
	_, attempts, err = c.Complete(context.Background(), params)
	if reason, kv, ok := chatmodel.Describe(err); attempts != 1 || !ok || reason != "http status" || len(kv) != 2 || kv[1] != http.StatusBadGateway {
		t.Fatalf("after %d attempts: %q %v %v (%v)", attempts, reason, kv, ok, err)
	}
	if _, _, ok := chatmodel.Describe(errors.New("unexpected end of JSON input")); ok {
		t.Fatal("an unknown failure was described")
	}
}

// A response longer than the cap fails as ErrResponseTooLarge, named so in logs, instead of
// being read whole into memory; one within it is read as usual.
func TestCompleteCapsTheResponse(t *testing.T) {
	long := strings.Repeat("x", 64<<10)
	p := chatmodeltest.New(t, chatmodeltest.Always(long))
	params := openai.ChatCompletionNewParams{Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	cfg := p.Config()
	cfg.MaxResponse = 32 << 10
	c, err := chatmodel.New(cfg, chatmodel.Retry{Retries: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, attempts, err := c.Complete(context.Background(), params)
	if reason, _, ok := chatmodel.Describe(err); !errors.Is(err, chatmodel.ErrResponseTooLarge) || !ok || reason != "response too large" || attempts != 1 {
		t.Fatalf("after %d attempts: %v (%q)", attempts, err, reason)
	}
	cfg.MaxResponse = 128 << 10
	if c, err = chatmodel.New(cfg, chatmodel.Retry{}); err != nil {
		t.Fatal(err)
	}
	if out, _, err := c.Complete(context.Background(), params); err != nil || out != long {
		t.Fatalf("a response within the cap: %d bytes, %v", len(out), err)
	}
}

// Ask sends the caller's output cap and says why the model stopped, so a caller can tell an
// answer the cap cut off from a finished one; Complete, which cannot, is unchanged.
func TestAskReportsAnAnswerCutByTheOutputCap(t *testing.T) {
	p := chatmodeltest.New(t, func(i int, w http.ResponseWriter, _ *http.Request) {
		if i == 0 {
			chatmodeltest.Completion(w, "Why?")
			return
		}
		chatmodeltest.Finished(w, "company company comp", chatmodel.FinishLength)
	})
	c, err := chatmodel.New(p.Config(), chatmodel.Retry{})
	if err != nil {
		t.Fatal(err)
	}
	params := openai.ChatCompletionNewParams{Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		MaxTokens: openai.Int(5)}
	for _, want := range []chatmodel.Answer{{Content: "Why?", FinishReason: "stop"}, {Content: "company company comp", FinishReason: chatmodel.FinishLength}} {
		if got, attempts, err := c.Ask(context.Background(), params); err != nil || got != want || attempts != 1 {
			t.Fatalf("got %+v after %d attempts, %v; want %+v", got, attempts, err, want)
		}
	}
	if seen := p.Seen()[0].MaxTokens; seen == nil || *seen != 5 {
		t.Fatalf("max_tokens sent: %v", seen)
	}
}

// A provider that refuses max_tokens (OpenAI's reasoning models) gets the cap as
// max_completion_tokens, from the refusal on; other providers keep max_tokens, and a 400
// for another reason is not retried.
func TestAskMovesTheCapForAProviderThatRefusesMaxTokens(t *testing.T) {
	var p *chatmodeltest.Provider
	p = chatmodeltest.New(t, func(i int, w http.ResponseWriter, _ *http.Request) {
		if p.Seen()[i].MaxTokens == nil {
			chatmodeltest.Completion(w, "Why?")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}`)
	})
	c, err := chatmodel.New(p.Config(), chatmodel.Retry{})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithRetry(chatmodel.Retry{}) // a copy shares what the first call learns
	params := openai.ChatCompletionNewParams{Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		MaxTokens: openai.Int(7)}
	for range 2 {
		if got, _, err := c.Ask(context.Background(), params); err != nil || got.Content != "Why?" {
			t.Fatalf("got %+v, %v", got, err)
		}
	}
	seen := p.Seen()
	if len(seen) != 3 {
		t.Fatalf("%d requests, want 3 (a refusal, then two with the cap renamed)", len(seen))
	}
	if seen[0].MaxTokens == nil || *seen[0].MaxTokens != 7 || seen[0].MaxCompletionTokens != nil {
		t.Errorf("first request sent max_tokens %v, max_completion_tokens %v; want 7 and none", seen[0].MaxTokens, seen[0].MaxCompletionTokens)
	}
	for _, r := range seen[1:] {
		if r.MaxTokens != nil || r.MaxCompletionTokens == nil || *r.MaxCompletionTokens != 7 {
			t.Errorf("later request sent max_tokens %v, max_completion_tokens %v; want none and 7", r.MaxTokens, r.MaxCompletionTokens)
		}
	}

	other := chatmodeltest.New(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		chatmodeltest.Failure(w, http.StatusBadRequest)
	})
	c, err = chatmodel.New(other.Config(), chatmodel.Retry{Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Ask(context.Background(), params); err == nil {
		t.Fatal("a 400 answered")
	}
	if n := len(other.Seen()); n != 1 {
		t.Fatalf("%d requests for a plain 400, want 1", n)
	}
}

// Package chatmodeltest is a local OpenAI-compatible chat-completions endpoint for tests:
// the real client code runs against it over HTTP.
package chatmodeltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"qual.cx/operator/internal/chatmodel"
)

// Provider answers chat completions as Respond decides from each request's index (0 for
// the first) and records what it was sent.
type Provider struct {
	t       testing.TB
	srv     *httptest.Server
	respond func(i int, w http.ResponseWriter, r *http.Request)

	mu       sync.Mutex
	requests []Request
}

// Request is what the provider saw.
type Request struct {
	At       time.Time
	Path     string
	Auth     string
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	// ResponseFormat is the request's response_format, as sent.
	ResponseFormat json.RawMessage `json:"response_format"`
	// MaxTokens is the request's output cap, nil when it sent none.
	MaxTokens *int64 `json:"max_tokens"`
	// MaxCompletionTokens is the cap under its newer name, nil when it sent none.
	MaxCompletionTokens *int64 `json:"max_completion_tokens"`
}

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// New starts a provider that lives as long as the test.
func New(t testing.TB, respond func(i int, w http.ResponseWriter, r *http.Request)) *Provider {
	t.Helper()
	p := &Provider{t: t, respond: respond}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	req := Request{At: time.Now(), Path: r.Method + " " + r.URL.Path, Auth: r.Header.Get("Authorization")}
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		p.t.Errorf("fake provider: unreadable request: %v", err)
	}
	p.mu.Lock()
	i := len(p.requests)
	p.requests = append(p.requests, req)
	p.mu.Unlock()
	p.respond(i, w, r)
}

// Seen returns the requests so far.
func (p *Provider) Seen() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Config is a chat-model configuration that reaches this provider, as model "test-model"
// with API key "test-key".
func (p *Provider) Config() chatmodel.Config {
	return chatmodel.Config{BaseURL: p.srv.URL + "/v1", Model: "test-model", APIKey: "test-key", HTTPClient: p.srv.Client()}
}

// Completion answers with a chat completion whose message is content.
func Completion(w http.ResponseWriter, content string) { Finished(w, content, "stop") }

// Finished answers with a chat completion whose message is content and whose finish reason
// is reason: "length" is an answer the request's max_tokens cut off.
func Finished(w http.ResponseWriter, content, reason string) {
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": reason,
			"message": map[string]any{"role": "assistant", "content": content},
		}},
	})
	_, _ = w.Write(body)
}

// Failure answers with an OpenAI-style error and the given header pairs.
func Failure(w http.ResponseWriter, status int, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"message":"fake %d","type":"server_error","code":null,"param":null}}`, status)
}

// Always answers every request with content.
func Always(content string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { Completion(w, content) }
}

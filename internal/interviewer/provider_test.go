package interviewer

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// fakeProvider is a local OpenAI-compatible chat-completions endpoint. respond decides
// each answer from the request's index (0 for the first); requests are recorded.
type fakeProvider struct {
	t       *testing.T
	srv     *httptest.Server
	respond func(i int, w http.ResponseWriter, r *http.Request)

	mu       sync.Mutex
	requests []chatRequest
}

// chatRequest is what the fake provider saw.
type chatRequest struct {
	At       time.Time
	Path     string
	Auth     string
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func newFakeProvider(t *testing.T, respond func(i int, w http.ResponseWriter, r *http.Request)) *fakeProvider {
	t.Helper()
	p := &fakeProvider{t: t, respond: respond}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	req := chatRequest{At: time.Now(), Path: r.Method + " " + r.URL.Path, Auth: r.Header.Get("Authorization")}
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

// seen returns the requests so far.
func (p *fakeProvider) seen() []chatRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]chatRequest(nil), p.requests...)
}

// config is an LLMConfig for this provider with the given timeout.
func (p *fakeProvider) config(timeout time.Duration) LLMConfig {
	return LLMConfig{BaseURL: p.srv.URL + "/v1", Model: "test-model", APIKey: "test-key",
		Timeout: timeout, HTTPClient: p.srv.Client()}
}

// completion answers with a chat completion whose message is content.
func completion(w http.ResponseWriter, content string) {
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content},
		}},
	})
	_, _ = w.Write(body)
}

// failure answers with an OpenAI-style error.
func failure(w http.ResponseWriter, status int, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"message":"fake %d","type":"server_error","code":null,"param":null}}`, status)
}

func always(content string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { completion(w, content) }
}

// logLines collects log output so tests can check what was (not) logged.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: 1})
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

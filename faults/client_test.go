package faults_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// apiClient talks to the REST API with one key, bounded in time: a fault must never hang a
// test.
type apiClient struct {
	base, key string
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

// do sends a request and returns its status and headers; a request that never got an
// answer is status 0.
func (c *apiClient) do(method, path, body string) (int, http.Header) {
	status, hdr, _ := c.send(method, path, body)
	return status, hdr
}

func (c *apiClient) send(method, path, body string) (int, http.Header, []byte) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return 0, nil, nil
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// create creates a campaign and returns the status, headers and, on success, its id.
func (c *apiClient) create(title string) (int, http.Header, string) {
	raw, _ := json.Marshal(map[string]string{"title": title})
	status, hdr, body := c.send("POST", "/campaigns", string(raw))
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &out)
	return status, hdr, out.Data.ID
}

func (c *apiClient) expect(t *testing.T, method, path, body string, want int) {
	t.Helper()
	if status, _, raw := c.send(method, path, body); status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, raw, want)
	}
}

// eventually polls /ready until it answers want.
func (c *apiClient) eventually(t *testing.T, what string, within time.Duration, want int) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := 0
	for time.Now().Before(deadline) {
		if last, _ = c.do("GET", "/ready", ""); last == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: /ready still %d after %v", what, last, within)
}

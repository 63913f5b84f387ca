package apiserver_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"qual.cx/operator/apiserver/openapi"
)

// Some requests are refused by Go's HTTP server before any handler runs, with a plain-text
// 400 instead of the {error} envelope. The OpenAPI notes name each, beside the 431 of
// oversized headers: a client reading the contract must not expect the envelope there.
func TestPlainTextRefusalsAreDocumented(t *testing.T) {
	var doc struct {
		Info struct {
			Description string `json:"description"`
		} `json:"info"`
	}
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	// The notes as read, whatever the lines break at.
	notes := strings.Join(strings.Fields(doc.Info.Description), " ")
	for _, tc := range []struct {
		name, head, documented string
	}{
		{"broken percent-escape", "GET /api/v1/campaigns/%zz HTTP/1.1\r\nHost: qual.test\r\n", "a broken percent-escape"},
		{"malformed Host", "GET /api/v1/health HTTP/1.1\r\nHost: evil.example/path?x=\r\n", "a malformed `Host` header"},
		{"repeated Host", "GET /api/v1/health HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n", "`Host` header sent twice"},
		{"no Host", "GET /api/v1/health HTTP/1.1\r\n", "an HTTP/1.1 request with no `Host`"},
		{"control character in a header value", "GET /api/v1/health HTTP/1.1\r\nHost: qual.test\r\nIdempotency-Key: a\x01b\r\n", "a header value holding a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawExchange(t, tc.head+"Connection: close\r\n\r\n")
			if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || r.header.Get("X-Request-Id") != "" ||
				!strings.HasPrefix(string(r.body), "400 Bad Request") {
				t.Fatalf("%s: %d %v %q, want net/http's plain-text 400", tc.name, r.status, r.header, r.body)
			}
			if !strings.Contains(notes, tc.documented) {
				t.Fatalf("the OpenAPI notes do not name %s (%q)", tc.name, tc.documented)
			}
		})
	}
}

// rawExchange writes request bytes as they are to the suite's server (no client would send
// them) and reads the answer.
func rawExchange(t *testing.T, request string) response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(api.URL, "http://"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: r.StatusCode, header: r.Header, body: body}
}

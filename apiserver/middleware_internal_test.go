package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
)

// A handler that panics is a bug: the caller gets a 500 with the envelope and no internals,
// and the server keeps serving.
func TestPanicBecomesInternalError(t *testing.T) {
	metrics, err := newHTTPMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Logger: logr.Discard()}, metrics: metrics}
	h := s.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("database password is hunter2")
	}))
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/me", nil))
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != 500 || body.Error.Code != "INTERNAL_ERROR" || strings.Contains(rec.Body.String(), "hunter2") {
			t.Fatalf("got %d %s", rec.Code, rec.Body)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Fatal("no request id")
		}
	}
}

// A handler that fails because its caller hung up (the context was cancelled while it waited
// on the Kubernetes API) is recorded as 499, not as the server's own 500.
func TestCallerHangingUpIsNotAServerError(t *testing.T) {
	metrics, err := newHTTPMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{Logger: logr.Discard()}, metrics: metrics}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	s.fail(rec, httptest.NewRequestWithContext(ctx, "POST", "/api/v1/campaigns", nil), fmt.Errorf("create campaign: %w", context.Canceled))
	if rec.Code != statusClientClosed {
		t.Fatalf("a hang-up is recorded as %d, want %d", rec.Code, statusClientClosed)
	}
	// The same error while the caller still waits is the server's.
	rec = httptest.NewRecorder()
	s.fail(rec, httptest.NewRequest("POST", "/api/v1/campaigns", nil), fmt.Errorf("create campaign: %w", context.Canceled))
	if rec.Code != 500 {
		t.Fatalf("a cancelled call of the server's own is %d, want 500", rec.Code)
	}
}

// A name with no ASCII letter or digit still gets a slug that says what it names.
func TestSlugFallsBackToWhatItNames(t *testing.T) {
	if got := teamName("日本チーム"); !regexp.MustCompile(`^team-[0-9a-f]{6}$`).MatchString(got) {
		t.Errorf("team name %q", got)
	}
	if got := slugBase("Équipe Nord", "team"); got != "equipe-nord" {
		t.Errorf("slug %q", got)
	}
	if got := slugBase("¿?", "campaign"); got != "campaign" {
		t.Errorf("campaign slug %q", got)
	}
}

// Whatever method a client sends, the metrics' method label is one of a closed set: the
// method itself only when a route serves it.
func FuzzMethodLabel(f *testing.F) {
	for _, m := range []string{"GET", "get", "HEAD", "PROPFIND", "Z1", "", "DELETE ", strings.Repeat("A", 300)} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, method string) {
		got := methodLabel(method)
		served := false
		for _, m := range servedMethods {
			served = served || m == method
		}
		if served && got != method || !served && got != otherMethod {
			t.Fatalf("methodLabel(%q) = %q (served %v)", method, got, served)
		}
	})
}

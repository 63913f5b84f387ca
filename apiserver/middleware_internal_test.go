package apiserver

import (
	"encoding/json"
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

// A name with no ASCII letter or digit still gets a slug that says what it names.
func TestSlugFallsBackToWhatItNames(t *testing.T) {
	if got := teamName("日本チーム"); !regexp.MustCompile(`^team-[0-9a-f]{6}$`).MatchString(got) {
		t.Errorf("team name %q", got)
	}
	if got := slugBase("Équipe Nord", "team"); got != "quipe-nord" {
		t.Errorf("slug %q", got)
	}
	if got := slugBase("¿?", "campaign"); got != "campaign" {
		t.Errorf("campaign slug %q", got)
	}
}

package apiserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

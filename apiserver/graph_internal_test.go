package apiserver

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
)

// A share token is a credential: the access log names the route and a path without it.
// loggingServer is a server whose access log the test reads: logged returns its lines.
func loggingServer(t *testing.T) (s *Server, logged func() []string) {
	t.Helper()
	metrics, err := newHTTPMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	log := funcr.New(func(_, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, args)
	}, funcr.Options{})
	return &Server{cfg: Config{Logger: log}, metrics: metrics}, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lines)
	}
}

func TestAccessLogHidesShareTokens(t *testing.T) {
	s, logged := loggingServer(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /share/graphs/{token}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	mux.HandleFunc("GET /api/v1/shared/graphs/{token}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	h := s.middleware(mux)
	const token = "s3cr3tTokenS3cr3tTokenS3cr3tTokenS3cr3tTok"
	// Requests no route takes carry the token too: another method, a preflight, a
	// trailing slash or segment.
	requests := []struct{ method, path string }{
		{"GET", "/share/graphs/" + token}, {"GET", "/api/v1/shared/graphs/" + token},
		{"POST", "/api/v1/shared/graphs/" + token}, {"OPTIONS", "/v1/shared/graphs/" + token},
		{"GET", "/share/graphs/" + token + "/"}, {"GET", "/share/graphs/" + token + "/extra"},
		// A link mistyped or joined badly: doubled slashes, another case, a singular.
		{"GET", "/api/v1/shared//graphs/" + token}, {"GET", "/share//graphs/" + token},
		{"GET", "/api/v1/SHARED/graphs/" + token}, {"GET", "/Share/Graphs/" + token},
		{"GET", "/api/v1/shared/graph/" + token}, {"GET", "/share/graph/" + token},
		// A token pasted where no share path leads to it.
		{"GET", "/share/assets/" + token}, {"GET", "/api/v1/campaigns/" + token},
	}
	for _, req := range requests {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.path, nil))
	}
	lines := logged()
	if len(lines) != len(requests) {
		t.Fatalf("log: %v", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, token) || !strings.Contains(l, `/{token}"`) {
			t.Fatalf("access log: %s", l)
		}
	}
}

// The access log keeps the ids it names and paths without a secret as they are.
func TestLoggedPathKeepsIDs(t *testing.T) {
	for _, p := range []string{"/api/v1/campaigns/0b6f8c2e-8d7e-4a5b-9c1d-2e3f4a5b6c7d/graph/share", "/api/v1/teams/x/members",
		"/share/assets/graph.js", "/api/v1/webhooks/0b6f8c2e-8d7e-4a5b-9c1d-2e3f4a5b6c7d/deliveries"} {
		if got := loggedPath(httptest.NewRequest("GET", p, nil)); got != p {
			t.Errorf("loggedPath(%q) = %q", p, got)
		}
	}
	if got := loggedPath(httptest.NewRequest("GET", "/api/v1/teams/x/members/ann@example.com", nil)); got != "/api/v1/teams/x/members/{user_id}" {
		t.Errorf("a member's e-mail: %q", got)
	}
}

func TestWellFormedToken(t *testing.T) {
	tok, err := newShareToken()
	if err != nil {
		t.Fatal(err)
	}
	if !wellFormedToken(tok) {
		t.Fatalf("a new token is refused: %q", tok)
	}
	for _, bad := range []string{"", tok[:42], tok + "A", strings.Repeat("+", 43), strings.Repeat("/", 43), strings.Repeat("=", 43)} {
		if wellFormedToken(bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
}

// The access log never holds a member's e-mail, which the members routes carry in the path.
func TestAccessLogHidesMemberEmails(t *testing.T) {
	s, logged := loggingServer(t)
	h := s.middleware(http.NewServeMux())
	for _, method := range []string{"PATCH", "DELETE"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/api/v1/teams/t1/members/ada@example.com", nil))
	}
	lines := logged()
	for _, l := range lines {
		if strings.Contains(l, "ada@example.com") || !strings.Contains(l, `members/{user_id}"`) {
			t.Fatalf("access log: %s", l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("log: %v", lines)
	}
}

// The access log writes a request's method as the metrics label it: a method no route
// serves, which any client may send before authenticating, is "other", never the client's
// own string. Sent over a real connection, as a client would.
func TestAccessLogWritesOnlyServedMethods(t *testing.T) {
	s, logged := loggingServer(t)
	srv := httptest.NewServer(s.middleware(http.NewServeMux()))
	defer srv.Close()
	const forged = "FORGED-METHOD-0123456789"
	for _, method := range []string{forged, "PROPFIND", "delete", "DELETE"} {
		req, err := http.NewRequest(method, srv.URL+"/api/v1/campaigns", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	lines := logged()
	if len(lines) != 4 {
		t.Fatalf("log: %v", lines)
	}
	for i, want := range []string{otherMethod, otherMethod, otherMethod, "DELETE"} {
		if !strings.Contains(lines[i], `"method"="`+want+`"`) || strings.Contains(lines[i], forged) {
			t.Errorf("access log line %d: %s, want method %q", i, lines[i], want)
		}
	}
}

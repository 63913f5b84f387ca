package apiserver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/prometheus/client_golang/prometheus"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/apiserver/openapi"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/teststack"
)

// The unauthenticated budget is per client address. Every test here connects from a loopback
// address of its own (Linux routes all of 127.0.0.0/8 to lo), so spending a budget never
// touches 127.0.0.1, which the rest of the suite uses.

// clientFrom returns an HTTP client whose connections come from the local address ip.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// callFrom is call() through client c: one request, its answer validated against the OpenAPI
// document.
func callFrom(t *testing.T, c *http.Client, method, path, token string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, api.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return exchange(t, c, req)
}

func send(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%s %s: no X-Request-Id", req.Method, req.URL.Path)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// preflightFrom sends a CORS preflight through c (origin "" sends none) and checks the answer
// against the shared responses the document defines for preflights on every path.
func preflightFrom(t *testing.T, c *http.Client, path, origin string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, api.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	r := send(t, c, req)
	checkShared(t, req, r, map[int]string{204: "Preflight", 403: "PreflightRefused", 404: "NotFound", 429: "TooManyRequests"})
	return r
}

// checkShared validates a response against the document's components.responses entry for its
// status, as the suite's validator does for 405 (answers that apply to every path).
func checkShared(t *testing.T, req *http.Request, r response, byStatus map[int]string) {
	t.Helper()
	doc := sharedDoc(t)
	name, ok := byStatus[r.status]
	if !ok {
		t.Fatalf("%s %s: status %d is not a documented answer here (%s)", req.Method, req.URL.Path, r.status, r.body)
	}
	ref := doc.Components.Responses[name]
	if ref == nil {
		t.Fatalf("the document has no components.responses.%s", name)
	}
	route := &routers.Route{Spec: doc, Path: req.URL.Path, PathItem: &openapi3.PathItem{},
		Operation: &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(r.status, ref))}}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("openapi: %s %s -> %d against components.responses.%s: %v\nbody: %s", req.Method, req.URL.Path, r.status, name, err, r.body)
	}
	if len(ref.Value.Content) == 0 && len(bytes.TrimSpace(r.body)) != 0 {
		t.Errorf("%s %s -> %d: the document declares no body, got %s", req.Method, req.URL.Path, r.status, r.body)
	}
}

var sharedDoc = func() func(t *testing.T) *openapi3.T {
	var (
		once sync.Once
		doc  *openapi3.T
		err  error
	)
	return func(t *testing.T) *openapi3.T {
		t.Helper()
		once.Do(func() { doc, err = openapi3.NewLoader().LoadFromData(openapi.JSON()) })
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
}()

// expectAnonymousLimited checks a 429 of the unauthenticated budget: the code, Retry-After,
// and the rate-limit headers of that budget.
func expectAnonymousLimited(t *testing.T, r response) {
	t.Helper()
	r.expectError(t, http.StatusTooManyRequests, "RATE_LIMITED")
	limit := apiserver.DefaultAnonymousLimit
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || time.Duration(s)*time.Second > limit.Window {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	want := fmt.Sprintf(`"unauthenticated";q=%d;w=%d`, limit.Quota, int(limit.Window.Seconds()))
	if got := r.header.Get("RateLimit-Policy"); got != want {
		t.Fatalf("RateLimit-Policy %q, want %q", got, want)
	}
	if r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("X-RateLimit-Remaining %q", r.header.Get("X-RateLimit-Remaining"))
	}
}

// spendUntilLimited sends requests until one is refused with 429, checking that the others
// were answered with status answered and that the refusal came when the budget, of which
// spent requests were already used since start, ran out. The budget earns one request back
// per interval while this runs, so it allows for those.
func spendUntilLimited(t *testing.T, start time.Time, spent int, next func(i int) response, answered int) response {
	t.Helper()
	limit := apiserver.DefaultAnonymousLimit
	for i := 0; ; i++ {
		r := next(i)
		if r.status == http.StatusTooManyRequests {
			earned := int(time.Since(start)/(limit.Window/time.Duration(limit.Quota))) + 1
			if left := limit.Quota - spent; i < left || i > left+earned {
				t.Fatalf("refused after %d requests, want %d (+%d earned back at most)", i, left, earned)
			}
			return r
		}
		if r.status != answered {
			t.Fatalf("request %d: %d %s, want %d until the budget is spent", i, r.status, r.body, answered)
		}
		if i > 2*limit.Quota {
			t.Fatalf("%d requests and none refused", i+1)
		}
	}
}

func TestBadCredentialsAreLimitedPerAddressButValidKeysAreNot(t *testing.T) {
	tn := newTenant(t, "anon-flood", qualv1alpha1.PlanEnterprise)
	flooder, neighbour := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	unknown, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"", unknown.Plaintext, mistyped(tn.secret), "not.a.jwt",
		sessionToken(t, "user-anon-flood-owner", tn.ownerMail, -time.Minute)}
	limited := spendUntilLimited(t, time.Now(), 0, func(i int) response {
		r := callFrom(t, flooder, "GET", "/api/v1/campaigns", bad[i%len(bad)])
		if r.status == http.StatusUnauthorized && r.header.Get("RateLimit-Policy") != "" {
			t.Fatal("a 401 must not carry rate-limit headers")
		}
		return r
	}, http.StatusUnauthorized)
	expectAnonymousLimited(t, limited)

	// Every kind of failed credentials is refused now, on every route, from that address.
	for _, token := range bad {
		expectAnonymousLimited(t, callFrom(t, flooder, "GET", "/v1/me", token))
	}
	expectAnonymousLimited(t, preflightFrom(t, flooder, "/api/v1/campaigns", "https://shop.example"))

	// Valid credentials from the same address never spend from that budget and still work,
	// on the team's own budget.
	for _, token := range []string{tn.secret, tn.public, tn.owner} {
		for range 3 {
			r := callFrom(t, flooder, "GET", "/api/v1/me", token).expect(t, http.StatusOK)
			if p := r.header.Get("RateLimit-Policy"); !strings.HasPrefix(p, `"requests";`) {
				t.Fatalf("valid key: RateLimit-Policy %q, want the team's requests budget", p)
			}
		}
	}
	callFrom(t, flooder, "GET", "/api/v1/campaigns", tn.scoped).expect(t, http.StatusOK)

	// Another address has a budget of its own.
	callFrom(t, neighbour, "GET", "/api/v1/campaigns", unknown.Plaintext).expectError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	if r := preflightFrom(t, neighbour, "/api/v1/campaigns", "https://shop.example"); r.status != http.StatusNoContent {
		t.Fatalf("preflight from another address: %d %s", r.status, r.body)
	}
}

func TestPreflightsAreLimitedPerAddress(t *testing.T) {
	newTenant(t, "anon-preflight", qualv1alpha1.PlanEnterprise) // its public key accepts any origin
	browser := clientFrom("127.0.0.4")
	// A preflight without an Origin is refused, and spends from the budget like any other.
	start := time.Now()
	preflightFrom(t, browser, "/api/v1/campaigns", "").expectError(t, http.StatusForbidden, "FORBIDDEN")
	// A path with no route is 404 from an allowed origin too, not a refusal of the origin.
	preflightFrom(t, browser, "/api/v1/nope", "https://app.example").expectError(t, http.StatusNotFound, "NOT_FOUND")
	paths := []string{"/api/v1/campaigns", "/api/v1/campaigns/" + uuidLike, "/v1/teams", "/api/v1/api-keys", "/api/v1/me"}
	limited := spendUntilLimited(t, start, 2, func(i int) response {
		r := preflightFrom(t, browser, paths[i%len(paths)], "https://app.example")
		if r.status == http.StatusNoContent {
			if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
				t.Fatalf("Access-Control-Allow-Origin %q", got)
			}
			if r.header.Get("RateLimit-Policy") != "" {
				t.Fatal("an allowed preflight must not carry rate-limit headers")
			}
		}
		return r
	}, http.StatusNoContent)
	expectAnonymousLimited(t, limited)
	if limited.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("a limited preflight must not allow the origin")
	}
}

const uuidLike = "0193e6a0-0000-7000-8000-000000000000"

// Made-up HTTP methods are the client's to choose, of any length, before any credentials: the
// request metrics label them all "other", so a flood of them adds no series, and they spend
// from the address's unauthenticated budget like bad credentials.
func TestInventedMethodsAddNoSeriesAndAreLimited(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv, err := teststack.Start(t.Context(), teststack.Options{Config: cfg, Store: db, Limiter: ratelimit.NewMemory(),
		JWTSecret: jwtSecret, Tune: func(c *apiserver.Config) { c.Metrics = reg }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	flooder := clientFrom("127.0.0.70")
	invented := func(i int, path string) response {
		req := mustRequest(t, fmt.Sprintf("Z%d%s", i, strings.Repeat("A", i%300)), hs.URL+path)
		r := send(t, flooder, req)
		checkShared(t, req, r, map[int]string{404: "NotFound", 405: "MethodNotAllowed", 429: "TooManyRequests"})
		return r
	}
	limited := spendUntilLimited(t, time.Now(), 0, func(i int) response {
		return invented(i, "/api/v1/campaigns")
	}, http.StatusMethodNotAllowed)
	expectAnonymousLimited(t, limited)
	for i := range 100 { // mostly 429 now; the budget earns one back a second
		invented(1000+i, []string{"/api/v1/campaigns", "/v1/nope"}[i%2])
	}
	// Served methods keep their own label, on the same few series whatever is sent.
	send(t, flooder, mustRequest(t, http.MethodGet, hs.URL+"/v1/nope"))
	send(t, flooder, mustRequest(t, http.MethodDelete, hs.URL+"/api/v1/me"))

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "qual_http_") {
			continue
		}
		methods := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
		if len(methods) != 3 || !methods["other"] || !methods["GET"] || !methods["DELETE"] {
			t.Errorf("%s: method labels %v, want other, GET and DELETE", f.GetName(), methods)
		}
		if n := len(f.GetMetric()); n != 3 { // route "unmatched", status class 4xx
			t.Errorf("%s: %d label sets after 160 requests with invented methods, want 3", f.GetName(), n)
		}
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/apiserver/openapi/openapitest"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

// The suite runs the controllers and the REST server against one real control plane, with
// a real SQLite store, over real HTTP.
var (
	cfg       *rest.Config
	k8s       client.Client
	db        store.Store
	api       *httptest.Server
	jwtSecret = []byte("test-secret-that-is-at-least-32-bytes-long")
	validator *openapitest.Validator
	valMu     sync.Mutex
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	code := testenv.Main(m, false, setup)
	if testenv.Fuzzing() {
		os.Exit(code) // no suite was started (testenv.Fuzzing)
	}
	for i := len(afterSuite) - 1; i >= 0; i-- {
		afterSuite[i]()
	}
	suitePG.Close()
	// Every documented operation must have been exercised and checked against the document.
	if missing := validator.Unchecked(); code == 0 && len(missing) > 0 && runAll() {
		fmt.Fprintln(os.Stderr, "operations the suite never checked against the OpenAPI document:", missing)
		code = 1
	}
	os.Exit(code)
}

// setup starts the controllers, a real SQLite store and the REST server over real HTTP.
func setup(env *envtest.Environment, c *rest.Config) (func(), error) {
	cfg = c
	var err error
	if k8s, err = client.New(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The operator's namespace, where platform admins' keys live.
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "qual-system"}}); client.IgnoreAlreadyExists(err) != nil {
		cancel()
		return nil, err
	}
	var closeStore func()
	if db, closeStore, err = testenv.TempStore(ctx); err != nil {
		cancel()
		return nil, err
	}
	srv, err := startStack(ctx, ratelimit.NewMemory(), true, db)
	if err != nil {
		cancel()
		closeStore()
		return nil, err
	}
	api = httptest.NewServer(srv.Handler())
	validator = openapitest.New(&mainTB{})
	return func() { api.Close(); cancel(); closeStore() }, nil
}

// startStack starts a manager (with the controllers, or as a bare REST replica) and a REST
// server on its cache, as `qual dev` runs them, and returns the server once the cache has
// synced.
func startStack(ctx context.Context, limiter ratelimit.Limiter, withControllers bool, db store.Store) (*apiserver.Server, error) {
	return teststack.Start(ctx, teststack.Options{Config: cfg, Controllers: withControllers, Store: db, Limiter: limiter,
		JWTSecret: jwtSecret, AdminUsers: []string{"root@platform.example"}})
}

// runAll reports whether the whole suite ran (no -run filter), so coverage is meaningful.
func runAll() bool {
	f := flag.Lookup("test.run")
	return f == nil || f.Value.String() == ""
}

// response is one exchange with the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

// data decodes the `data` member of the envelope.
func (r response) data(t *testing.T, into any) {
	t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || env.Data == nil {
		t.Fatalf("no data in %d %s (%v)", r.status, r.body, err)
	}
	if err := json.Unmarshal(env.Data, into); err != nil {
		t.Fatalf("decode data: %v in %s", err, r.body)
	}
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"details"`
}

// expectError checks status and code, and returns the error.
func (r response) expectError(t *testing.T, status int, code string) apiError {
	t.Helper()
	var env struct {
		Error *apiError `json:"error"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || env.Error == nil {
		t.Fatalf("want error %d %s, got %d %s", status, code, r.status, r.body)
	}
	if r.status != status || env.Error.Code != code {
		t.Fatalf("want %d %s, got %d %s", status, code, r.status, r.body)
	}
	return *env.Error
}

func (r response) expect(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("want %d, got %d %s", status, r.status, r.body)
	}
	return r
}

// call sends one request to the suite's server and validates the answer against the
// OpenAPI document.
func call(t *testing.T, method, path, token string, body any, headers ...string) response {
	t.Helper()
	return callAt(t, api.URL, method, path, token, body, headers...)
}

// callAt is call against the server at base (another replica or store backend).
func callAt(t *testing.T, base, method, path, token string, body any, headers ...string) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	given := map[string]bool{} // a header named twice is sent twice
	for i := 0; i+1 < len(headers); i += 2 {
		switch {
		case headers[i+1] == "":
			req.Header.Del(headers[i])
		case given[headers[i]]:
			req.Header.Add(headers[i], headers[i+1])
		default:
			req.Header.Set(headers[i], headers[i+1])
		}
		given[headers[i]] = true
	}
	return exchange(t, http.DefaultClient, req)
}

// mistyped is token with its last character changed: never the token itself.
func mistyped(token string) string {
	c := "x"
	if strings.HasSuffix(token, c) {
		c = "y"
	}
	return token[:len(token)-1] + c
}

// exchange sends req through c and validates the answer against the OpenAPI document.
func exchange(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	r := send(t, c, req)
	valMu.Lock()
	validator.Check(t, req, r.status, r.header, r.body)
	valMu.Unlock()
	return r
}

// tenant is a team with its owner session and keys.
type tenant struct {
	team      *qualv1alpha1.Team
	id        string
	owner     string // session token of the owner
	secret    string // secret key, every scope but admin:read
	scoped    string // campaigns:read only
	public    string // public key, read scopes and interviews:write
	ownerMail string
}

// newTenant makes a team (on a plan) with an owner and three keys, through Kubernetes.
func newTenant(t *testing.T, name string, plan qualv1alpha1.Plan, more ...qualv1alpha1.TeamMember) *tenant {
	t.Helper()
	ctx := context.Background()
	owner := name + "-owner@example.com"
	team := &qualv1alpha1.Team{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: qualv1alpha1.TeamSpec{DisplayName: "Team " + name, Plan: plan, Members: []qualv1alpha1.TeamMember{
			{Email: owner, UserID: "user-" + name + "-owner", Role: qualv1alpha1.RoleOwner},
			{Email: name + "-member@example.com", UserID: "user-" + name + "-member", Role: qualv1alpha1.RoleMember},
			{Email: name + "-viewer@example.com", UserID: "user-" + name + "-viewer", Role: qualv1alpha1.RoleViewer},
		}},
	}
	team.Spec.Members = append(team.Spec.Members, more...)
	if err := k8s.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "namespace of "+name, func() error {
		return k8s.Get(ctx, client.ObjectKey{Name: "team-" + name}, &corev1.Namespace{})
	})
	tn := &tenant{team: team, id: string(team.UID), owner: sessionToken(t, "user-"+name+"-owner", owner, time.Hour), ownerMail: owner}
	tn.secret = makeKey(t, team, "secret", qualv1alpha1.KeySecret, nil)
	tn.scoped = makeKey(t, team, "scoped", qualv1alpha1.KeyScoped, []qualv1alpha1.Scope{"campaigns:read"})
	tn.public = makeKey(t, team, "public", qualv1alpha1.KeyPublic, []qualv1alpha1.Scope{"campaigns:read", "interviews:write"})
	waitUsable(t, "keys of "+name, tn.public)
	return tn
}

// makeKey creates an APIKey the way `kubectl apply` would with a precomputed credential.
func makeKey(t *testing.T, team *qualv1alpha1.Team, name string, typ qualv1alpha1.APIKeyType, scopes []qualv1alpha1.Scope) string {
	t.Helper()
	return makeKeyWith(t, team, name, typ, scopes)
}

// sessionToken signs a session JWT as the identity provider would.
func sessionToken(t *testing.T, sub, email string, ttl time.Duration) string {
	t.Helper()
	claims := jwt.MapClaims{"sub": sub, "email": email, "aud": "authenticated", "exp": time.Now().Add(ttl).Unix()}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// waitUsable waits until a token authenticates. Its polls come from a loopback address of
// their own: the 401s they meet on the way spend that address's unauthenticated budget, not
// the one of 127.0.0.1, where tests expect their own 401s.
func waitUsable(t *testing.T, what, token string) {
	t.Helper()
	// Each replica learns of a new key from its own informer: the PostgreSQL one, once
	// started, may hear of it later than the first.
	urls := []string{api.URL}
	if pgBackend.url != "" {
		urls = append(urls, pgBackend.url)
	}
	for _, url := range urls {
		waitFor(t, what+" usable at "+url, func() error { return authorizedAt(t, url, "/api/v1/me", token) })
	}
}

// authorizedAt is nil once token is let through a GET of path at the replica at base.
func authorizedAt(t *testing.T, base, path, token string) error {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if r := send(t, pollClient, req); r.status != 200 {
		return fmt.Errorf("%d %s", r.status, r.body)
	}
	return nil
}

// pollClient sends the suite's polls, from an address no test checks the budget of.
var pollClient = clientFrom("127.0.0.250")

func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	// Generous: the suite's controllers serve every test's objects at once, and on a busy
	// 2-core machine one key's revocation event once took longer than 20 s.
	testenv.Eventually(t, 45*time.Second, what, check)
}

// afterSuite are what tests started for the whole suite (a PostgreSQL replica) and stop
// after it, in reverse order.
var afterSuite []func()

// suiteTB is a testing.TB that lives as long as the suite: its cleanups run in afterSuite.
type suiteTB struct {
	mainTB
	cleanups []func()
}

func (s *suiteTB) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

func (s *suiteTB) cleanup() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

// mainTB lets the validator be built before any test runs.
type mainTB struct{ testing.TB }

func (mainTB) Helper()                   {}
func (mainTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (mainTB) Errorf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// callURL sends an authenticated GET to an absolute URL (another replica), unvalidated.
func callURL(t *testing.T, url, token string) response {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Error(err)
		return response{}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return response{}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

// Shared by the dependency suites (Redis, PostgreSQL): a control plane of the test's own,
// REST replicas on it, teams with keys, and what the servers logged. These suites run no
// controllers: controller names are unique per process, and the Kubernetes suite runs them;
// a team's namespace is claimed here as the Team controller would.

// faultJWTSecret signs the session tokens the fault stacks accept (none are used).
var faultJWTSecret = []byte("fault-secret-that-is-at-least-32-bytes")

// controlPlane starts a control plane with the CRDs for one test, stopped when it ends.
func controlPlane(t *testing.T) (*rest.Config, client.Client) {
	t.Helper()
	ctrl.SetLogger(logr.Discard())
	env, err := testenv.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Start()
	t.Cleanup(func() { _ = env.Stop() })
	if err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, k8s
}

// replicaOptions are what one REST replica runs with.
type replicaOptions struct {
	store    store.Store
	limiter  ratelimit.Limiter
	requests int // the enterprise plan's requests per minute
	logger   logr.Logger
}

// startReplica starts a REST replica (a stack without controllers) until the test ends and
// serves it on loopback.
func startReplica(t *testing.T, cfg *rest.Config, o replicaOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := teststack.Start(ctx, teststack.Options{Config: cfg, Store: o.store,
		Limiter: o.limiter, JWTSecret: faultJWTSecret,
		Tune: func(c *apiserver.Config) {
			c.Plans = plans.Table{qualv1alpha1.PlanEnterprise: {RequestsPerMinute: o.requests, InterviewsPerHour: 100, AnalysisPerHour: 100}}
			if o.logger.GetSink() != nil {
				c.Logger = o.logger
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(api.Close)
	return api.URL + "/api/v1"
}

// newTeamKey makes an enterprise team, claims its namespace as the Team controller does (the
// namespace carries the team's UID label, the status names it), makes a secret key there,
// and returns the key.
func newTeamKey(t *testing.T, k8s client.Client, name string) string {
	t.Helper()
	ctx := context.Background()
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: qualv1alpha1.TeamSpec{
		DisplayName: name, Plan: qualv1alpha1.PlanEnterprise,
		Members: []qualv1alpha1.TeamMember{{Email: "owner@" + name + ".example", Role: qualv1alpha1.RoleOwner}}}}
	if err := k8s.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	ns := "team-" + name
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{qualv1alpha1.LabelTeamUID: string(team.UID)}}}); err != nil {
		t.Fatal(err)
	}
	team.Status.Namespace = ns
	if err := k8s.Status().Update(ctx, team); err != nil {
		t.Fatal(err)
	}
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	key := &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "k"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Credential: &qualv1alpha1.APIKeyCredential{
			HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}}}
	if err := k8s.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	return minted.Plaintext
}

// waitKey waits until the replica knows the client's key.
func waitKey(t *testing.T, c *apiClient) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "the key works on "+c.base, func() error {
		if status, _ := c.do("GET", "/me", ""); status != http.StatusOK {
			return fmt.Errorf("GET /me: %d", status)
		}
		return nil
	})
}

// errorOf is the error envelope of a response body.
func errorOf(body []byte) (code, message string) {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	return env.Error.Code, env.Error.Message
}

// unavailable tells an honest outage answer: 503 SERVICE_UNAVAILABLE with a Retry-After.
func unavailable(status int, hdr http.Header, body []byte) bool {
	code, _ := errorOf(body)
	return status == http.StatusServiceUnavailable && hdr.Get("Retry-After") != "" && code == "SERVICE_UNAVAILABLE"
}

// readyWithin polls /ready until it answers want and returns how long that took and the
// last body.
func readyWithin(t *testing.T, c *apiClient, what string, within time.Duration, want int) (time.Duration, []byte) {
	t.Helper()
	start := time.Now()
	last, body := 0, []byte(nil)
	for time.Since(start) < within {
		if last, _, body = c.send("GET", "/ready", ""); last == want {
			return time.Since(start), body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: /ready still %d (%s) after %v", what, last, body, within)
	return 0, nil
}

// logLines records what a logger was told, one line per message.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		l.lines = append(l.lines, prefix+" "+args)
		l.mu.Unlock()
	}, funcr.Options{})
}

// count is how many lines hold sub.
func (l *logLines) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}

// tally counts answers by kind while traffic runs.
type tally struct {
	mu     sync.Mutex
	counts map[string]int
}

func (t *tally) add(kind string) {
	t.mu.Lock()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[kind]++
	t.mu.Unlock()
}

func (t *tally) get(kind string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[kind]
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprint(t.counts)
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not after %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

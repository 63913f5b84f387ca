// Package interviews measures interviews through the REST API, on SQLite and on PostgreSQL in
// one run, each against a baseline measured in the same run:
//
//   - turns: participant turns per second (POST /interviews/{id}/messages, the protocol
//     interviewer's reply received) with 1, 8 and 64 concurrent interviews, against the
//     store's own turn (one InTx with the two AppendMessage calls the API makes) at the same
//     concurrency on the same database, and, to tell where the difference goes, the same turn
//     through internal/interviews.Service without HTTP; the three alternate in five slices;
//   - list: ms per page of GET /interviews?limit=20 over a team holding 100,000 interviews
//     (QUAL_BENCH_INTERVIEWS=1000000 for a million) and of GET /interviews/{id}/messages?limit=20
//     of an interview holding 100,000 messages (QUAL_BENCH_MESSAGES), first page, the page
//     after it by its cursor, and a page halfway down, each checked for an exact total_count.
//
// QUAL_BENCH_DURATION (default 5s) is how long each turn measurement (API, and store) runs.
// Run it with:
//
//	KUBEBUILDER_ASSETS="$(hack/control-plane.sh)" go test -run '^$' -bench Interviews -timeout 60m ./bench/interviews/
package interviews

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

var (
	cfg *rest.Config
	k8s client.Client
	// pg is this binary's PostgreSQL: QUAL_TEST_POSTGRES_DSN, or a private server started on
	// first use.
	pg = pgtest.New()
	// runs numbers the teams of each benchmark run, so -count n makes fresh ones.
	runs atomic.Int64
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(testenv.Main(m, true, func(env *envtest.Environment, c *rest.Config) (func(), error) {
		cfg = c
		var err error
		k8s, err = client.New(cfg, client.Options{Scheme: env.Scheme})
		return pg.Close, err
	}))
}

// backend is a store the stack runs on, plus how to reach its database behind the store's back
// for bulk seeding.
type backend struct {
	name   string
	dsn    func(b *testing.B) string // a fresh, empty database
	driver string                    // database/sql driver of raw
	raw    func(dsn string) string   // the driver's data source for dsn
}

var backends = []backend{
	{"sqlite", func(b *testing.B) string { return "sqlite://" + filepath.Join(b.TempDir(), "qual.db") }, "sqlite",
		func(dsn string) string {
			return "file:" + strings.TrimPrefix(dsn, "sqlite://") + "?_pragma=busy_timeout(10000)"
		}},
	{"postgres", func(b *testing.B) string { return pg.Database(b) }, "pgx", func(dsn string) string { return dsn }},
}

// BenchmarkInterviews runs every measurement on each backend: the stack (a REST replica, as
// `qual apiserver` runs, on the store with its default pool) is started once per backend.
func BenchmarkInterviews(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := startStack(b, be)
			b.Run("turns", func(b *testing.B) { benchTurns(b, st) })
			b.Run("list", func(b *testing.B) { benchLists(b, st) })
		})
	}
}

// stack is one backend's REST server and what the benchmarks need to drive it.
type stack struct {
	be     backend
	dsn    string
	db     store.Store
	url    string // …/api/v1
	client *http.Client
	run    int64
}

// team is a team of the stack with one active campaign and a secret key.
type team struct {
	uid, campaign, key string
	obj                *qualv1alpha1.Campaign // the campaign as the API server created it
}

func startStack(b *testing.B, be backend) *stack {
	dsn := be.dsn(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	db, err := store.Open(ctx, dsn)
	must(b, err)
	b.Cleanup(func() { _ = db.Close() })
	srv, err := teststack.Start(ctx, teststack.Options{Config: cfg, Store: db, Limiter: ratelimit.NewMemory(),
		JWTSecret: []byte("interviews-bench-secret-at-least-32-bytes"),
		Tune: func(c *apiserver.Config) {
			// Budgets out of reach (the largest a limit takes: one per µs), so the benchmark
			// measures the server, not refusals; the limiter still runs on every request and
			// every start.
			c.Plans = plans.Table{qualv1alpha1.PlanEnterprise: {RequestsPerMinute: 60_000_000, InterviewsPerHour: 1_000_000_000, AnalysisPerHour: 100}}
		}})
	must(b, err)
	api := httptest.NewServer(srv.Handler())
	b.Cleanup(api.Close)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.Cleanup(c.CloseIdleConnections)
	return &stack{be: be, dsn: dsn, db: db, url: api.URL + "/api/v1", client: c, run: runs.Add(1)}
}

// newTeam makes an enterprise team as the Team controller would (its namespace labelled with
// the team's UID), a secret key and one active campaign there, and waits until the REST
// server serves them.
func (s *stack) newTeam(b *testing.B, purpose string, spec qualv1alpha1.CampaignSpec) team {
	ctx := context.Background()
	name := fmt.Sprintf("%s-%s-%d-%d", purpose, s.be.name, s.run, time.Now().Unix()%100000)
	tm := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: qualv1alpha1.TeamSpec{
		DisplayName: name, Plan: qualv1alpha1.PlanEnterprise,
		Members: []qualv1alpha1.TeamMember{{Email: "owner@" + name + ".example", Role: qualv1alpha1.RoleOwner}}}}
	must(b, k8s.Create(ctx, tm))
	ns := "team-" + name
	must(b, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels: map[string]string{qualv1alpha1.LabelTeamUID: string(tm.UID)}}}))
	tm.Status.Namespace = ns
	must(b, k8s.Status().Update(ctx, tm))
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	must(b, err)
	must(b, k8s.Create(ctx, &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Credential: &qualv1alpha1.APIKeyCredential{
			HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}}}))
	spec.State = qualv1alpha1.StateActive
	c := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "study"}, Spec: spec}
	must(b, k8s.Create(ctx, c))
	t := team{uid: string(tm.UID), campaign: string(c.UID), key: minted.Plaintext, obj: c}
	testenv.Eventually(b, time.Minute, "the REST server serves the team's campaign", func() error {
		status, body := s.do(b, t, "GET", "/campaigns/"+t.campaign, "")
		if status != http.StatusOK {
			return fmt.Errorf("GET campaign: %d %s", status, body)
		}
		return nil
	})
	return t
}

// do sends one request with the team's key and returns the status and body.
func (s *stack) do(b *testing.B, t team, method, path, body string) (int, []byte) {
	req := s.request(b, t, method, path, body)
	resp, err := s.client.Do(req)
	must(b, err)
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	must(b, err)
	return resp.StatusCode, out
}

func (s *stack) request(b *testing.B, t team, method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	must(b, err)
	req.Header.Set("Authorization", "Bearer "+t.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// envDuration reads a duration from the environment, or returns def.
func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 5s", name, v)
	}
	return d
}

// envSize reads a size from the environment, or returns def.
func envSize(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		b.Fatalf("%s=%q: want a number of at least 1000", name, v)
	}
	return n
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

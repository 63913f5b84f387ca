// Package rest measures GET /api/v1/campaigns?limit=20 over 1,000 campaigns against two
// baselines measured in the same run: a bare net/http handler returning the same bytes (the
// ceiling) and the same page LISTed from the kube-apiserver (what a user would do instead).
//
//	go test -run '^$' -bench ListCampaigns -benchtime 1x ./bench/rest/
package rest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/bench/load"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	qualscheme "qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/testenv"
)

const (
	campaigns = 1000
	workers   = 16
	duration  = 5 * time.Second
)

var cfg *rest.Config

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(testenv.Main(m, true, func(_ *envtest.Environment, c *rest.Config) (func(), error) {
		cfg = c
		return nil, nil
	}))
}

// stack is the server under test, started once however often the benchmark runs.
var stack struct {
	once   sync.Once
	server *httptest.Server
	token  string
}

func BenchmarkListCampaigns(b *testing.B) {
	stack.once.Do(func() { stack.server, stack.token = startServer(b, context.Background()) })
	ours, token := stack.server, stack.token
	url := ours.URL + "/api/v1/campaigns?limit=20"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	authed := func() (*http.Request, error) {
		req, err := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return req, err
	}
	sample := fetch(b, client, authed)

	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(sample)
	}))
	defer bare.Close()
	kubeClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	kubeURL := strings.TrimSuffix(cfg.Host, "/") + "/apis/qual.cx/v1alpha1/namespaces/team-bench/campaigns?limit=20"

	bareReq := func() (*http.Request, error) { return http.NewRequest("GET", bare.URL, nil) }
	kubeReq := func() (*http.Request, error) { return http.NewRequest("GET", kubeURL, nil) }
	// Warm every target (connections, caches, the controllers settling after the seeding)
	// before anything is timed.
	for _, target := range []struct {
		c   *http.Client
		req func() (*http.Request, error)
	}{{client, bareReq}, {kubeClient, kubeReq}, {client, authed}} {
		run(b, target.c, target.req, time.Second)
	}
	for b.Loop() {
		ceiling := run(b, client, bareReq, duration)
		kube := run(b, kubeClient, kubeReq, duration)
		api := run(b, client, authed, duration)
		b.ReportMetric(api.RPS, "api-req/s")
		b.ReportMetric(ceiling.RPS, "bare-req/s")
		b.ReportMetric(kube.RPS, "kube-list-req/s")
		b.ReportMetric(api.RPS/ceiling.RPS, "ratio-vs-bare")
		b.ReportMetric(api.RPS/kube.RPS, "ratio-vs-kube")
		b.ReportMetric(api.P50, "api-p50-ms")
		b.ReportMetric(api.P99, "api-p99-ms")
		b.ReportMetric(ceiling.P50, "bare-p50-ms")
		b.ReportMetric(ceiling.P99, "bare-p99-ms")
		b.ReportMetric(kube.P50, "kube-p50-ms")
		b.ReportMetric(kube.P99, "kube-p99-ms")
	}
}

// startServer runs the controllers and the REST server, with an enterprise team whose
// budget is raised so the benchmark measures the server, not refusals, and 1,000 campaigns.
func startServer(b *testing.B, ctx context.Context) (*httptest.Server, string) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Cache: controllers.CacheOptions("", nil),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0", Scheme: scheme(b)})
	must(b, err)
	_, err = controllers.Setup(ctx, mgr, controllers.Options{Concurrency: 4, Dispatcher: controllers.DispatcherConfig{Image: "qual:bench"}})
	must(b, err)
	db, _, err := testenv.TempStore(ctx) // lives as long as the benchmark process
	must(b, err)
	raised := plans.Table{qualv1alpha1.PlanEnterprise: {RequestsPerMinute: 60_000_000, InterviewsPerHour: 500, AnalysisPerHour: 500}}
	srv, err := apiserver.New(ctx, apiserver.Config{Client: mgr.GetClient(), Cache: mgr.GetCache(), Store: db,
		Limiter: ratelimit.NewMemory(), CursorKey: []byte("benchmark-cursor-key-0123456789"), Plans: raised, Logger: logr.Discard()})
	must(b, err)
	go func() { _ = mgr.Start(ctx) }()
	mgr.GetCache().WaitForCacheSync(ctx)

	c := mgr.GetClient()
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: qualv1alpha1.TeamSpec{DisplayName: "Bench", Plan: qualv1alpha1.PlanEnterprise}}
	must(b, c.Create(ctx, team))
	k, err := keys.Mint(qualv1alpha1.KeySecret)
	must(b, err)
	waitFor(b, func() bool {
		return c.Create(ctx, &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: "team-bench"},
			Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret,
				Credential: &qualv1alpha1.APIKeyCredential{HashRef: k.HashRef, Prefix: k.Prefix, LastFour: k.LastFour}}}) == nil
	})
	createCampaigns(b, ctx, c)
	server := httptest.NewServer(srv.Handler())
	waitFor(b, func() bool {
		var list qualv1alpha1.CampaignList
		return mgr.GetCache().List(ctx, &list, client.InNamespace("team-bench")) == nil && len(list.Items) == campaigns
	})
	return server, k.Plaintext
}

func createCampaigns(b *testing.B, ctx context.Context, c client.Client) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < campaigns; i += 8 {
				cmp := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Name: "study-" + strconv.Itoa(i), Namespace: "team-bench"},
					Spec: qualv1alpha1.CampaignSpec{Title: "Study " + strconv.Itoa(i), Description: "What users need from onboarding"}}
				if err := c.Create(ctx, cmp); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// run drives one target with the benchmark's clients for d.
func run(b *testing.B, c *http.Client, newReq func() (*http.Request, error), d time.Duration) load.Result {
	return load.Run(b, c, workers, d, newReq)
}

func fetch(b *testing.B, c *http.Client, newReq func() (*http.Request, error)) []byte {
	req, err := newReq()
	must(b, err)
	resp, err := c.Do(req)
	must(b, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	must(b, err)
	if resp.StatusCode != 200 {
		b.Fatalf("%d %s", resp.StatusCode, body)
	}
	return body
}

func waitFor(b *testing.B, ok func() bool) {
	deadline := time.Now().Add(2 * time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

func scheme(b *testing.B) *runtime.Scheme {
	s, err := qualscheme.New()
	must(b, err)
	return s
}

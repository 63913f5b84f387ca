// Package aggregated measures a page of 20 interviews out of a team's 100,000 read three
// ways in one run, with the same client concurrency against the same control plane:
//
//   - through the aggregation layer: kubectl's GET /apis/data.qual.cx/v1alpha1/namespaces/
//     team-bench/interviews?limit=20 to the kube-apiserver, proxied to the dataapi server
//     (front-proxy TLS, a SubjectAccessReview cached by the server, the store's keyset page);
//   - from the REST API: GET /api/v1/interviews?limit=20 with an API key;
//   - the kube-apiserver's own LIST of 20 Campaign CRs out of 1,000 (what a CRD would cost);
//
// and the cost of one page at depth through the aggregation layer: the first page, and a
// page 50,000 rows down by its continue token, one client, sequential.
//
//	KUBEBUILDER_ASSETS="$(hack/control-plane.sh)" go test -run '^$' -bench Aggregated -benchtime 1x -timeout 30m ./bench/aggregated/
package aggregated

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/bench/load"
	"qual.cx/operator/dataapi/dataapitest"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/teststack"
)

const (
	interviews = 100_000
	campaigns  = 1_000
	workers    = 16
	duration   = 5 * time.Second
	depth      = 50_000
	samples    = 200
)

var env *dataapitest.Env

func TestMain(m *testing.M) {
	flag.Parse()
	ctrl.SetLogger(logr.Discard())
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // nothing to start for a plain go test
	}
	var err error
	env, err = dataapitest.Start(context.Background())
	if err != nil {
		env.Stop()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	env.Stop()
	os.Exit(code)
}

var seeded struct {
	once     sync.Once
	ns, key  string
	restURL  string
	restHTTP *http.Client
}

func BenchmarkAggregated(b *testing.B) {
	ctx := context.Background()
	seeded.once.Do(func() { seed(b, ctx) })
	kube, err := rest.HTTPClientFor(env.Config)
	must(b, err)
	host := strings.TrimSuffix(env.Config.Host, "/")
	aggURL := host + "/apis/data.qual.cx/v1alpha1/namespaces/" + seeded.ns + "/interviews?limit=20"
	crdURL := host + "/apis/qual.cx/v1alpha1/namespaces/" + seeded.ns + "/campaigns?limit=20"
	restURL := seeded.restURL + "/api/v1/interviews?limit=20"
	get := func(url, bearer string) func() (*http.Request, error) {
		return func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			return req, err
		}
	}
	targets := []struct {
		c   *http.Client
		req func() (*http.Request, error)
	}{{kube, get(aggURL, "")}, {seeded.restHTTP, get(restURL, seeded.key)}, {kube, get(crdURL, "")}}
	for _, t := range targets {
		run(b, t.c, t.req, time.Second) // warm connections and caches
	}
	token := continueAt(b, kube, host, depth)
	for b.Loop() {
		agg := run(b, targets[0].c, targets[0].req, duration)
		api := run(b, targets[1].c, targets[1].req, duration)
		crd := run(b, targets[2].c, targets[2].req, duration)
		first := sequential(b, kube, aggURL)
		deep := sequential(b, kube, aggURL+"&continue="+token)
		b.ReportMetric(agg.RPS, "agg-req/s")
		b.ReportMetric(api.RPS, "rest-req/s")
		b.ReportMetric(crd.RPS, "crd-list-req/s")
		b.ReportMetric(agg.RPS/api.RPS, "ratio-agg-vs-rest")
		b.ReportMetric(agg.RPS/crd.RPS, "ratio-agg-vs-crd")
		b.ReportMetric(agg.P50, "agg-p50-ms")
		b.ReportMetric(agg.P99, "agg-p99-ms")
		b.ReportMetric(api.P50, "rest-p50-ms")
		b.ReportMetric(api.P99, "rest-p99-ms")
		b.ReportMetric(crd.P50, "crd-p50-ms")
		b.ReportMetric(crd.P99, "crd-p99-ms")
		b.ReportMetric(first, "agg-page1-ms")
		b.ReportMetric(deep, "agg-page-at-50k-ms")
	}
}

// seed makes the team, its campaign, 100,000 interviews (1,000 a transaction), 1,000
// Campaigns, an API key, and a REST server on the same store and control plane.
func seed(b *testing.B, ctx context.Context) {
	c := env.Client
	team := &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: qualv1alpha1.TeamSpec{DisplayName: "Bench", Plan: qualv1alpha1.PlanEnterprise}}
	must(b, c.Create(ctx, team))
	waitFor(b, func() bool {
		return c.Get(ctx, client.ObjectKeyFromObject(team), team) == nil &&
			meta.IsStatusConditionTrue(team.Status.Conditions, qualv1alpha1.ConditionReady) && team.Status.Namespace != ""
	})
	ns := team.Status.Namespace
	createCampaigns(b, ctx, ns)
	var cmp qualv1alpha1.Campaign
	must(b, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "study-0"}, &cmp))
	ts := env.Store.Team(store.TeamID(team.UID))
	begin := time.Now()
	for i := 0; i < interviews; i += 1000 {
		must(b, ts.InTx(ctx, func(tx store.TeamStore) error {
			for j := range 1000 {
				if _, err := tx.CreateInterview(ctx, store.NewInterview{CampaignID: store.CampaignID(cmp.UID),
					Participant: store.Participant{Name: "participant " + strconv.Itoa(i+j)}}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	b.Logf("seeded %d interviews in %v", interviews, time.Since(begin).Round(time.Millisecond))
	seeded.ns = ns
	seeded.key = apiKey(b, ctx, ns)
	raised := plans.Table{qualv1alpha1.PlanEnterprise: {RequestsPerMinute: 60_000_000, InterviewsPerHour: 500, AnalysisPerHour: 500}}
	srv, err := teststack.Start(ctx, teststack.Options{Config: env.Config, Store: env.Store, Limiter: ratelimit.NewMemory(),
		JWTSecret: []byte("benchmark-jwt-secret-0123456789abcdef"), Tune: func(c *apiserver.Config) { c.Plans = raised }})
	must(b, err)
	server := httptest.NewServer(srv.Handler())
	seeded.restURL = server.URL
	seeded.restHTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	waitFor(b, func() bool {
		req, _ := http.NewRequest(http.MethodGet, server.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+seeded.key)
		resp, err := seeded.restHTTP.Do(req)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func createCampaigns(b *testing.B, ctx context.Context, ns string) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < campaigns; i += 8 {
				cmp := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Name: "study-" + strconv.Itoa(i), Namespace: ns},
					Spec: qualv1alpha1.CampaignSpec{Title: "Study " + strconv.Itoa(i), Description: "What users need from onboarding"}}
				if err := env.Client.Create(ctx, cmp); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// apiKey creates a secret key in the namespace, as the REST API mints them.
func apiKey(b *testing.B, ctx context.Context, ns string) string {
	k, err := keys.Mint(qualv1alpha1.KeySecret)
	must(b, err)
	must(b, env.Client.Create(ctx, &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: ns},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret,
			Credential: &qualv1alpha1.APIKeyCredential{HashRef: k.HashRef, Prefix: k.Prefix, LastFour: k.LastFour}}}))
	return k.Plaintext
}

// continueAt walks the list 500 rows a page to n rows down and returns the continue token
// of that position.
func continueAt(b *testing.B, c *http.Client, host string, n int) string {
	token := ""
	for read := 0; read < n; read += 500 {
		url := host + "/apis/data.qual.cx/v1alpha1/namespaces/" + seeded.ns + "/interviews?limit=500&continue=" + token
		var list struct {
			Metadata metav1.ListMeta `json:"metadata"`
			Items    []json.RawMessage
		}
		must(b, json.Unmarshal(fetch(b, c, url), &list))
		if len(list.Items) != 500 || list.Metadata.Continue == "" {
			b.Fatalf("page at %d: %d items, continue %q", read, len(list.Items), list.Metadata.Continue)
		}
		token = list.Metadata.Continue
	}
	return token
}

// sequential is the median ms of one client's GETs of url.
func sequential(b *testing.B, c *http.Client, url string) float64 {
	lat := make([]time.Duration, 0, samples)
	for range samples {
		start := time.Now()
		fetch(b, c, url)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return float64(lat[len(lat)/2].Microseconds()) / 1000
}

// run drives one target with the benchmark's clients for d.
func run(b *testing.B, c *http.Client, newReq func() (*http.Request, error), d time.Duration) load.Result {
	return load.Run(b, c, workers, d, newReq)
}

func fetch(b *testing.B, c *http.Client, url string) []byte {
	resp, err := c.Get(url)
	must(b, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	must(b, err)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %s", url, resp.StatusCode, body)
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

// Package memory measures what the stack `qual dev` runs (the controllers and the REST
// server on one informer cache) holds per campaign: the process's heap and resident memory
// with N campaigns, against the same process with none.
//
//	go test -run '^$' -bench MemoryPerCampaign -benchtime 1x -timeout 60m ./bench/memory/
package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver"
	"qual.cx/operator/internal/keys"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

var cfg *rest.Config

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	os.Exit(testenv.Main(m, true, func(_ *envtest.Environment, c *rest.Config) (func(), error) {
		cfg = c
		return nil, nil
	}))
}

// BenchmarkMemoryPerCampaign reports heap and RSS bytes per campaign above the empty stack,
// at 20,000 campaigns (and 100,000 with QUAL_BENCH_LARGE=1: about ten minutes more; any
// one size with QUAL_BENCH_SIZE=n). QUAL_HEAP_PROFILE=file writes the heap at the end.
func BenchmarkMemoryPerCampaign(b *testing.B) {
	sizes := []int{20000}
	if os.Getenv("QUAL_BENCH_LARGE") == "1" {
		sizes = append(sizes, 100000)
	}
	if n, err := strconv.Atoi(os.Getenv("QUAL_BENCH_SIZE")); err == nil {
		sizes = []int{n}
	}
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				measure(b, fmt.Sprintf("mem%d-%d-%d", n, i, time.Now().Unix()%100000), n)
			}
		})
	}
}

func measure(b *testing.B, team string, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := scheme.New()
	must(b, err)
	c, err := client.New(cfg, client.Options{Scheme: s})
	must(b, err)
	db, closeStore, err := testenv.TempStore(ctx)
	must(b, err)
	defer closeStore()
	srv, err := teststack.Start(ctx, teststack.Options{Config: cfg, Controllers: true, Store: db, Limiter: ratelimit.NewMemory(),
		JWTSecret: []byte("memory-bench-secret-at-least-32-bytes"),
		Tune: func(c *apiserver.Config) {
			c.Plans = plans.Table{qualv1alpha1.PlanEnterprise: {RequestsPerMinute: 1 << 20}}
		}})
	must(b, err)
	api := httptest.NewServer(srv.Handler())
	defer api.Close()
	key := claimTeam(b, c, team)
	count := func() int { return total(b, api.URL, key) }
	waitUntil(b, "the key works", func() bool { return count() == 0 })

	emptyHeap, emptyRSS := settle()
	createCampaigns(b, c, "team-"+team, n)
	waitUntil(b, "every campaign in the REST read model", func() bool { return count() == n })
	waitUntil(b, "the controllers done", func() bool { return ready(b, c, "team-"+team) == n })
	waitUntil(b, "the campaign work queue empty", func() bool { return queueDepth("campaign") == 0 })
	heap, rss := settle()
	if path := os.Getenv("QUAL_HEAP_PROFILE"); path != "" { // go tool pprof -sample_index=inuse_space
		f, err := os.Create(path)
		must(b, err)
		must(b, pprof.WriteHeapProfile(f))
		must(b, f.Close())
	}
	b.ReportMetric(float64(heap-emptyHeap)/float64(n), "heap-B/campaign")
	b.ReportMetric(float64(rss-emptyRSS)/float64(n), "rss-B/campaign")
	b.ReportMetric(float64(emptyRSS)/(1<<20), "empty-rss-MiB")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
}

// queueDepth is the depth of a controller's work queue in this process.
func queueDepth(controller string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return -1
	}
	for _, f := range families {
		if f.GetName() != "workqueue_depth" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "name" && l.GetValue() == controller {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// settle collects garbage, returns memory to the OS, and reads the heap in use and the RSS.
func settle() (heap, rss uint64) {
	for range 3 {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(200 * time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, residentBytes()
}

// residentBytes is the process's resident set, from /proc/self/statm.
func residentBytes() uint64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// claimTeam makes a team, waits for its namespace, and returns a key of it.
func claimTeam(b *testing.B, c client.Client, name string) string {
	ctx := context.Background()
	must(b, c.Create(ctx, &qualv1alpha1.Team{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: qualv1alpha1.TeamSpec{
		DisplayName: "Memory", Plan: qualv1alpha1.PlanEnterprise,
		Members: []qualv1alpha1.TeamMember{{Email: "owner@memory.example", Role: qualv1alpha1.RoleOwner}}}}))
	waitUntil(b, "the namespace", func() bool {
		return c.Get(ctx, client.ObjectKey{Name: "team-" + name}, &corev1.Namespace{}) == nil
	})
	minted, err := keys.Mint(qualv1alpha1.KeySecret)
	must(b, err)
	must(b, c.Create(ctx, &qualv1alpha1.APIKey{ObjectMeta: metav1.ObjectMeta{Namespace: "team-" + name, Name: "k"},
		Spec: qualv1alpha1.APIKeySpec{Type: qualv1alpha1.KeySecret, Credential: &qualv1alpha1.APIKeyCredential{
			HashRef: minted.HashRef, Prefix: minted.Prefix, LastFour: minted.LastFour}}}))
	return minted.Plaintext
}

// createCampaigns creates n campaigns of a realistic size from 16 writers.
func createCampaigns(b *testing.B, c client.Client, ns string, n int) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				obj := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("c-%06d", i)},
					Spec: qualv1alpha1.CampaignSpec{
						Title:       fmt.Sprintf("Onboarding research %d", i),
						Description: "Why new customers stall in their first week, and what would have kept them going.",
						Objectives:  "Find the three biggest reasons for drop-off.",
						Mode:        qualv1alpha1.ModeResearch, MaxQuestions: 10, State: qualv1alpha1.StateDraft,
						Questions: []string{"What almost stopped you signing up?", "What did you expect to happen first?"},
						Settings:  qualv1alpha1.CampaignSettings{Language: "en"},
					}}
				for c.Create(context.Background(), obj) != nil { // a busy control plane: retry
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ready counts the campaigns the controller has reconciled.
func ready(b *testing.B, c client.Client, ns string) int {
	var list qualv1alpha1.CampaignList
	must(b, c.List(context.Background(), &list, client.InNamespace(ns)))
	n := 0
	for _, cmp := range list.Items {
		if cmp.Status.ObservedGeneration == cmp.Generation {
			n++
		}
	}
	return n
}

func total(b *testing.B, base, key string) int {
	req, err := http.NewRequest("GET", base+"/api/v1/campaigns?limit=1", nil)
	must(b, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer func() { _ = resp.Body.Close() }()
	var page struct {
		Pagination struct {
			TotalCount int `json:"total_count"`
		} `json:"pagination"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&page) != nil {
		return -1
	}
	return page.Pagination.TotalCount
}

func waitUntil(b *testing.B, what string, cond func() bool) {
	deadline := time.Now().Add(30 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

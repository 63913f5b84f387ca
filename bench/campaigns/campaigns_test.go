// Package campaigns measures how fast the manager turns applied Campaigns into Ready ones,
// against the time the same kube-apiserver takes just to create them.
//
//	go test -run '^$' -bench CampaignsToReady -benchtime 1x ./bench/campaigns/
package campaigns

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/campaigndata"
	"qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/testenv"
)

const (
	teams       = 10
	perTeam     = 100
	writers     = 8
	concurrency = 4
)

var cfg *rest.Config

func TestMain(m *testing.M) {
	// Errors only: the controllers' V(1) lines would flood the results.
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	os.Exit(testenv.Main(m, true, func(_ *envtest.Environment, c *rest.Config) (func(), error) {
		cfg = c
		return nil, nil
	}))
}

func BenchmarkCampaignsToReady(b *testing.B) {
	// Every round, including those of another -count, gets names of its own: the control
	// plane, and what earlier rounds made in it, lives as long as the process.
	round := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := 0; b.Loop(); i++ {
		runOnce(b, fmt.Sprintf("r%s-%d", round, i))
	}
}

func runOnce(b *testing.B, run string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := scheme.New()
	must(b, err)
	c, err := client.New(cfg, client.Options{Scheme: s})
	must(b, err)

	// Baseline: the API server alone creating the same 1,000 objects, nothing watching them.
	baseNS := namespaces(b, c, run+"-base")
	createStart := time.Now()
	createAll(b, c, baseNS, nil)
	createOnly := time.Since(createStart)

	// The manager, reconciling only the teams' namespaces so the baseline is left alone.
	teamNS := make([]string, teams)
	for i := range teamNS {
		teamNS[i] = fmt.Sprintf("team-%s-%d", run, i)
	}
	startManager(b, ctx, c, run, teamNS)
	makeTeams(b, ctx, c, run)
	before := testenv.ReconcileTotal("campaign")

	ready := watchReady(b, ctx, c, teamNS)
	sampleStatus = func() string {
		cmp := &qualv1alpha1.Campaign{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: teamNS[0], Name: "study-0"}, cmp); err != nil {
			return ": " + err.Error()
		}
		return fmt.Sprintf(": e.g. %s has finalizers %v and status %+v", cmp.Name, cmp.Finalizers, cmp.Status)
	}
	applied := &sync.Map{}
	start := time.Now()
	createAll(b, c, teamNS, applied)
	latencies := ready.wait(b, applied, teams*perTeam)
	total := time.Since(start)
	recs := testenv.ReconcileTotal("campaign") - before

	var mem runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem)
	slices.Sort(latencies)
	b.ReportMetric(total.Seconds(), "s-to-all-ready")
	b.ReportMetric(createOnly.Seconds(), "s-create-only")
	b.ReportMetric(total.Seconds()/createOnly.Seconds(), "ratio")
	b.ReportMetric(recs/total.Seconds(), "reconciles/s")
	b.ReportMetric(percentileMs(latencies, 50), "p50-ms")
	b.ReportMetric(percentileMs(latencies, 99), "p99-ms")
	b.ReportMetric(float64(mem.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(rssMiB(), "rss-MiB")
}

func percentileMs(sorted []time.Duration, p int) float64 {
	return float64(sorted[(len(sorted)-1)*p/100].Microseconds()) / 1000
}

func namespaces(b *testing.B, c client.Client, prefix string) []string {
	names := make([]string, teams)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", prefix, i)
		must(b, c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: names[i]}}))
	}
	return names
}

// createAll creates perTeam Active campaigns in each namespace with `writers` concurrent
// clients, recording when each create was sent.
func createAll(b *testing.B, c client.Client, nss []string, applied *sync.Map) {
	jobs := make(chan [2]int)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for j := range jobs {
				name := "study-" + strconv.Itoa(j[1])
				if applied != nil {
					applied.Store(nss[j[0]]+"/"+name, time.Now())
				}
				cmp := &qualv1alpha1.Campaign{
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: nss[j[0]]},
					Spec:       qualv1alpha1.CampaignSpec{Title: "Study " + name, State: qualv1alpha1.StateActive},
				}
				if err := c.Create(context.Background(), cmp); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for t := range nss {
		for i := range perTeam {
			jobs <- [2]int{t, i}
		}
	}
	close(jobs)
	wg.Wait()
}

// roundLabel on a Team names the benchmark round that made it.
const roundLabel = "bench.qual.cx/round"

func startManager(b *testing.B, ctx context.Context, c client.Client, run string, nss []string) {
	// Teams are cluster-scoped: without a selector this round's manager would also reconcile
	// earlier rounds' teams, whose namespaces its cache does not hold.
	opts := controllers.CacheOptions("", nss)
	opts.ByObject[&qualv1alpha1.Team{}] = cache.ByObject{Label: labels.SelectorFromSet(labels.Set{roundLabel: run})}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 c.Scheme(),
		Cache:                  opts,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Each round starts a manager of its own in this process, with the same controllers.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	must(b, err)
	// The store is attached as in `qual manager`: each reconcile counts the campaign's rows.
	db, closeStore, err := testenv.TempStore(ctx)
	must(b, err)
	b.Cleanup(closeStore)
	_, err = controllers.Setup(ctx, mgr, controllers.Options{Concurrency: concurrency,
		Dispatcher:   controllers.DispatcherConfig{Image: "qual:bench", Replicas: 1},
		CampaignData: campaigndata.Cleaner{Namespaces: mgr.GetClient(), Store: db}})
	must(b, err)
	go func() { _ = mgr.Start(ctx) }()
	mgr.GetCache().WaitForCacheSync(ctx)
}

func makeTeams(b *testing.B, ctx context.Context, c client.Client, run string) {
	for i := range teams {
		team := &qualv1alpha1.Team{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", run, i), Labels: map[string]string{roundLabel: run}},
			Spec:       qualv1alpha1.TeamSpec{DisplayName: "Bench", Namespace: fmt.Sprintf("team-%s-%d", run, i)},
		}
		must(b, c.Create(ctx, team))
	}
	for i := range teams {
		for {
			ns := &corev1.Namespace{}
			if err := c.Get(ctx, client.ObjectKey{Name: fmt.Sprintf("team-%s-%d", run, i)}, ns); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// readyWatch records when each campaign of a round was first seen Ready, through an informer of its own
// (which, unlike a bare watch, re-establishes itself if the API server closes the stream).
type readyWatch struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func watchReady(b *testing.B, ctx context.Context, c client.Client, nss []string) *readyWatch {
	// Only this round's namespaces: campaigns of earlier rounds are Ready already.
	opts := cache.Options{Scheme: c.Scheme(), DefaultNamespaces: map[string]cache.Config{}}
	for _, ns := range nss {
		opts.DefaultNamespaces[ns] = cache.Config{}
	}
	informers, err := cache.New(cfg, opts)
	must(b, err)
	inf, err := informers.GetInformer(ctx, &qualv1alpha1.Campaign{})
	must(b, err)
	r := &readyWatch{seen: map[string]time.Time{}}
	record := func(obj any) {
		cmp, ok := obj.(*qualv1alpha1.Campaign)
		if !ok || !meta.IsStatusConditionTrue(cmp.Status.Conditions, qualv1alpha1.ConditionReady) {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if key := cmp.Namespace + "/" + cmp.Name; r.seen[key].IsZero() {
			r.seen[key] = time.Now()
		}
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: record, UpdateFunc: func(_, obj any) { record(obj) },
	})
	must(b, err)
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		b.Fatal("informer did not sync")
	}
	return r
}

func (r *readyWatch) wait(b *testing.B, applied *sync.Map, n int) []time.Duration {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r.mu.Lock()
		count := len(r.seen)
		r.mu.Unlock()
		if count >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d campaigns became Ready%s", count, n, sampleStatus())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var lat []time.Duration
	applied.Range(func(k, v any) bool {
		r.mu.Lock()
		lat = append(lat, r.seen[k.(string)].Sub(v.(time.Time)))
		r.mu.Unlock()
		return true
	})
	return lat
}

func rssMiB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// sampleStatus describes one campaign that is not Ready, for the failure message.
var sampleStatus = func() string { return "" }

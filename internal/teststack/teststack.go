// Package teststack starts the Qual stack as `qual dev` runs it (a manager, with or without
// the controllers, and a REST server on its cache) against a test's control plane, for the
// suites that drive the REST API over real HTTP.
package teststack

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"qual.cx/operator/apiserver"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/findings"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/scheme"
	"qual.cx/operator/internal/session"
	"qual.cx/operator/internal/store"
)

// Options are what a stack runs with.
type Options struct {
	// Config reaches the control plane.
	Config *rest.Config
	// Controllers runs the controllers too; without them the stack is a bare REST replica.
	Controllers bool
	// Store and Limiter back the REST server.
	Store   store.Store
	Limiter ratelimit.Limiter
	// JWTSecret signs the session tokens the server accepts.
	JWTSecret []byte
	// AdminUsers are the platform admins.
	AdminUsers []string
	// Tune adjusts the server's configuration before it starts; nil leaves it.
	Tune func(*apiserver.Config)
	// Analyzer runs the stack's analysis jobs (its workers share the store's queue with any
	// other stack on the same store); nil is the built-in analysis.New().
	Analyzer analysis.Analyzer
}

// CursorKey signs the cursors of every test stack, so two replicas accept each other's.
var CursorKey = []byte("cursor-key-for-tests-0123456789")

// Start starts the stack until ctx ends and returns the server once the cache has synced.
func Start(ctx context.Context, o Options) (*apiserver.Server, error) {
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	// Several stacks may run in one test process, one after another: their controllers share
	// names, which only matters for metrics.
	mgr, err := ctrl.NewManager(o.Config, ctrl.Options{Scheme: s, Cache: controllers.CacheOptions("", nil),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		return nil, fmt.Errorf("teststack: manager: %w", err)
	}
	if o.Controllers {
		opts := controllers.Options{Concurrency: 4, Dispatcher: controllers.DispatcherConfig{Image: "qual:test", Replicas: 1}}
		if _, err := controllers.Setup(ctx, mgr, opts.WithStore(mgr.GetClient(), o.Store)); err != nil {
			return nil, fmt.Errorf("teststack: controllers: %w", err)
		}
	}
	verifier, err := session.NewVerifier(ctx, session.Config{Secret: o.JWTSecret})
	if err != nil {
		return nil, fmt.Errorf("teststack: sessions: %w", err)
	}
	probe, err := apiserver.KubeProbe(o.Config)
	if err != nil {
		return nil, err
	}
	queue, err := startAnalyses(ctx, o)
	if err != nil {
		return nil, err
	}
	cfg := apiserver.Config{
		Client: mgr.GetClient(), Cache: mgr.GetCache(), Store: o.Store, Limiter: o.Limiter, Sessions: verifier,
		KubeProbe: probe, CursorKey: CursorKey, AdminUsers: o.AdminUsers, Logger: logr.Discard(), Analyses: queue,
		SecretReader: mgr.GetAPIReader(),
	}
	if o.Tune != nil {
		o.Tune(&cfg)
	}
	srv, err := apiserver.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("teststack: apiserver: %w", err)
	}
	go func() { _ = mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("teststack: cache did not sync")
	}
	return srv, nil
}

// startAnalyses starts the stack's analysis workers, as `qual apiserver` runs them, with a
// quick poll; they stop when ctx ends.
func startAnalyses(ctx context.Context, o Options) (*findings.Queue, error) {
	a := o.Analyzer
	if a == nil {
		a = analysis.New()
	}
	q, err := findings.NewQueue(ctx, findings.QueueConfig{Store: o.Store, Analyzer: a,
		PollInterval: 100 * time.Millisecond, Logger: logr.Discard(), Limiter: o.Limiter})
	if err != nil {
		return nil, fmt.Errorf("teststack: analysis queue: %w", err)
	}
	if err := q.Start(ctx); err != nil {
		q.Close()
		return nil, fmt.Errorf("teststack: analysis queue: %w", err)
	}
	go func() {
		<-ctx.Done()
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = q.Stop(stop)
		q.Close()
	}()
	return q, nil
}

// Package teststack starts the Qual stack as `qual dev` runs it (a manager, with or without
// the controllers, and a REST server on its cache) against a test's control plane, for the
// suites that drive the REST API over real HTTP.
package teststack

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"qual.cx/operator/apiserver"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/campaigndata"
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
	mgr, err := ctrl.NewManager(o.Config, ctrl.Options{Scheme: s, Cache: controllers.CacheOptions(nil),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		return nil, fmt.Errorf("teststack: manager: %w", err)
	}
	if o.Controllers {
		if _, err := controllers.Setup(ctx, mgr, controllers.Options{Concurrency: 4,
			Dispatcher:   controllers.DispatcherConfig{Image: "qual:test", Replicas: 1},
			CampaignData: campaigndata.Cleaner{Namespaces: mgr.GetClient(), Store: o.Store}}); err != nil {
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
	cfg := apiserver.Config{
		Client: mgr.GetClient(), Cache: mgr.GetCache(), Store: o.Store, Limiter: o.Limiter, Sessions: verifier,
		KubeProbe: probe, CursorKey: CursorKey, AdminUsers: o.AdminUsers, Logger: logr.Discard(),
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

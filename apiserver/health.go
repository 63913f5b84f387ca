package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"qual.cx/operator/apiserver/envelope"
)

type healthStatus struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// health is liveness: the process serves.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	envelope.WriteData(w, http.StatusOK, healthStatus{Status: "ok"})
}

// ready is readiness: the informer cache has synced, the Kubernetes API answers its own
// readiness check, and the database answers.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if !s.cfg.Cache.WaitForCacheSync(ctx) {
		envelope.WriteError(w, envelope.Unavailable("The Kubernetes API", 5*time.Second))
		return
	}
	if err := s.kube.check(ctx); err != nil {
		s.cfg.Logger.Info("readiness: Kubernetes API", "error", err.Error())
		envelope.WriteError(w, envelope.Unavailable("The Kubernetes API", 5*time.Second))
		return
	}
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.cfg.Logger.Error(err, "readiness: database")
		envelope.WriteError(w, envelope.Unavailable("The database", 5*time.Second))
		return
	}
	envelope.WriteData(w, http.StatusOK, healthStatus{Status: "ready", Checks: map[string]string{"kubernetes": "ok", "database": "ok"}})
}

// KubeProbe returns a check that asks the Kubernetes API server at cfg for its /readyz.
func KubeProbe(cfg *rest.Config) (func(context.Context) error, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes probe: %w", err)
	}
	rc := dc.RESTClient()
	return func(ctx context.Context) error {
		return rc.Get().AbsPath("/readyz").Do(ctx).Error()
	}, nil
}

// probe runs a dependency check at most once per interval, so a flood of readiness requests
// costs the dependency nothing; concurrent callers share the last answer.
type probe struct {
	run      func(context.Context) error // nil: always ready
	interval time.Duration
	mu       sync.Mutex
	at       time.Time
	last     error
}

func (p *probe) check(ctx context.Context) error {
	if p.run == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.at) < p.interval {
		return p.last
	}
	p.last, p.at = p.run(ctx), time.Now()
	return p.last
}

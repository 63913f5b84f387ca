package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/ratelimit"
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
// readiness check, the database answers, and the rate limiter can decide (a
// ratelimit.Failover failing closed: only while Redis answers).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if !s.cfg.Cache.WaitForCacheSync(ctx) {
		envelope.WriteError(w, envelope.Unavailable("The Kubernetes API", 5*time.Second))
		return
	}
	if since, down := s.kube.down(); down {
		s.cfg.Logger.Info("readiness: Kubernetes API unreachable", "since", since)
		envelope.WriteError(w, envelope.Unavailable("The Kubernetes API", 5*time.Second))
		return
	}
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.cfg.Logger.Error(err, "readiness: database")
		envelope.WriteError(w, envelope.Unavailable("The database", 5*time.Second))
		return
	}
	if rc, ok := s.cfg.Limiter.(ratelimit.ReadinessChecker); ok { // a shared limiter failing closed
		if err := rc.Ready(ctx); err != nil {
			envelope.WriteError(w, envelope.Unavailable("Rate limiting", 5*time.Second))
			return
		}
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

// reachability follows whether the Kubernetes API answers, probing it in the background
// every interval, so /ready turns within seconds of an outage and reads served from the
// cache meanwhile can say how stale they may be.
type reachability struct {
	run      func(context.Context) error // nil: always reachable
	interval time.Duration
	// downSince is the Unix nanosecond of the first failed probe of an outage; 0 when up.
	downSince atomic.Int64
}

// watch probes until ctx ends.
func (p *reachability) watch(ctx context.Context) {
	if p.run == nil {
		return
	}
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		probeCtx, cancel := context.WithTimeout(ctx, p.interval)
		err := p.run(probeCtx)
		cancel()
		switch {
		case err == nil:
			p.downSince.Store(0)
		case ctx.Err() == nil:
			p.downSince.CompareAndSwap(0, time.Now().UnixNano())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// down returns since when the Kubernetes API has been unreachable, or false while it answers.
func (p *reachability) down() (time.Time, bool) {
	if n := p.downSince.Load(); n != 0 {
		return time.Unix(0, n), true
	}
	return time.Time{}, false
}

// markStale warns a reader that the answer comes from the cache while the Kubernetes API is
// unreachable: it is what the cluster held when the API was last reachable.
func (s *Server) markStale(w http.ResponseWriter) {
	if since, down := s.kube.down(); down {
		w.Header().Set("Warning", fmt.Sprintf(`110 qual "Response is stale: served from cache; the Kubernetes API has been unreachable since %s"`,
			since.UTC().Format(time.RFC3339)))
	}
}

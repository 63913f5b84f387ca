package apiserver

import (
	"context"
	"net/http"
	"time"

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

// ready is readiness: the informer cache has synced with the Kubernetes API and the
// database answers.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if !s.cfg.Cache.WaitForCacheSync(ctx) {
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

package delivery

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"qual.cx/operator/internal/promreg"
)

// metrics are the service's Prometheus series.
type metrics struct {
	attempts *prometheus.CounterVec
	duration prometheus.Histogram
	relayed  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var m metrics
	var err error
	if m.attempts, err = promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qual_webhook_attempts_total",
		Help: "Webhook delivery attempts by outcome: succeeded, retry (failed, tried again later), failed (given up) or held (nothing sent: the webhook is stalled)."},
		[]string{"outcome"})); err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	if m.duration, err = promreg.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qual_webhook_attempt_seconds",
		Help: "Time from sending a webhook delivery to its response.", Buckets: prometheus.DefBuckets})); err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	if m.relayed, err = promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "qual_webhook_deliveries_created_total",
		Help: "Deliveries the outbox relay created, one per subscribed endpoint of each event."})); err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	return &m, nil
}

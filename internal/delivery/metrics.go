package delivery

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus series.
type metrics struct {
	attempts *prometheus.CounterVec
	duration prometheus.Histogram
	relayed  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qual_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: succeeded, retry (failed, tried again later) or failed (given up)."},
			[]string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qual_webhook_attempt_seconds",
			Help: "Time from sending a webhook delivery to its response.", Buckets: prometheus.DefBuckets}),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "qual_webhook_deliveries_created_total",
			Help: "Deliveries the outbox relay created, one per subscribed endpoint of each event."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.attempts, m.duration, m.relayed} {
		if err := reg.Register(c); err != nil {
			var dup prometheus.AlreadyRegisteredError
			if !errors.As(err, &dup) {
				return nil, fmt.Errorf("delivery: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

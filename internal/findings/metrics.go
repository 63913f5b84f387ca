package findings

import (
	"cmp"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/promreg"
)

// Outcomes of one run of an analysis job, as the metrics label them.
const (
	outcomeSucceeded = "succeeded"
	outcomeRetry     = "retry"    // failed, and the queue runs it again
	outcomeFailed    = "failed"   // failed for good: the analysis is marked failed
	outcomeCanceled  = "canceled" // its process is shutting down; the job runs again
)

// Metrics are the analysis runs' Prometheus series. The zero value records nothing.
type Metrics struct {
	runs    *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

// NewMetrics registers the series with reg (nil: a Metrics that records nothing).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return &Metrics{}, nil
	}
	var m Metrics
	var err error
	if m.runs, err = promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qual_analysis_runs_total",
		Help: "Runs of analysis jobs by the analyzer the campaign asked for (builtin or llm) and outcome: succeeded, retry, failed or canceled."},
		[]string{"analyzer", "outcome"})); err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	if m.seconds, err = promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "qual_analysis_run_seconds",
		Help:    "Time of one run of an analysis job, from reading the interviews to committing the findings, by analyzer.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"analyzer"})); err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	return &m, nil
}

// observe records one run of a job for campaign c.
func (m *Metrics) observe(c analysis.Campaign, outcome string, took time.Duration) {
	if m == nil || m.runs == nil {
		return
	}
	analyzer := cmp.Or(c.Analyzer, analysis.AnalyzerBuiltin)
	m.runs.WithLabelValues(analyzer, outcome).Inc()
	m.seconds.WithLabelValues(analyzer).Observe(took.Seconds())
}

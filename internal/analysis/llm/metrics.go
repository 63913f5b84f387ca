package llm

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"qual.cx/operator/internal/promreg"
)

// Metrics count what the llm analyzer did with each campaign. The zero value records nothing.
type Metrics struct {
	analyses *prometheus.CounterVec
}

// NewMetrics registers the series with reg (nil: a Metrics that records nothing).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return &Metrics{}, nil
	}
	c, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qual_analysis_llm_total",
		Help: "Analyses the chat model was asked for, by outcome (model: its findings were used; fallback: the built-in analyzer ran) and, for a fallback, why."},
		[]string{"outcome", "reason"}))
	if err != nil {
		return nil, fmt.Errorf("llm analyzer: %w", err)
	}
	return &Metrics{analyses: c}, nil
}

// usedModel records an analysis answered by the model.
func (m *Metrics) usedModel() {
	if m != nil && m.analyses != nil {
		m.analyses.WithLabelValues("model", "").Inc()
	}
}

// fellBack records an analysis handed to the fallback, by the kind of failure (a "retry
// would pass deadline after ..." counts as its own kind, so the label stays a short list).
func (m *Metrics) fellBack(reason string) {
	if m == nil || m.analyses == nil {
		return
	}
	if strings.HasPrefix(reason, "retry would pass deadline") {
		reason = "retry would pass deadline"
	}
	m.analyses.WithLabelValues("fallback", reason).Inc()
}

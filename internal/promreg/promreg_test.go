package promreg_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"qual.cx/operator/internal/promreg"
)

func TestASecondRegistrationSharesTheFirstCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	newCounter := func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qual_test_total", Help: "h"}, []string{"x"})
	}
	first, err := promreg.Register(reg, newCounter())
	if err != nil {
		t.Fatal(err)
	}
	second, err := promreg.Register(reg, newCounter())
	if err != nil {
		t.Fatal(err)
	}
	second.WithLabelValues("a").Inc()
	if got := testutil.ToFloat64(first.WithLabelValues("a")); got != 1 {
		t.Fatalf("the first collector counted %v, want the second's 1", got)
	}
	clash := prometheus.NewGauge(prometheus.GaugeOpts{Name: "qual_test_total", Help: "other"})
	if _, err := promreg.Register(reg, clash); err == nil {
		t.Fatal("a different collector under the same name registered")
	}
	if c, err := promreg.Register[prometheus.Counter](nil, prometheus.NewCounter(prometheus.CounterOpts{Name: "n", Help: "h"})); err != nil || c == nil {
		t.Fatalf("nil registry: %v, %v", c, err)
	}
}

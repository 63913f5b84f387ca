// Package promreg registers Prometheus collectors so that a second registration of the same
// series (a second queue or service in one process, as tests and `qual dev` make) shares the
// first one's collector instead of failing or counting into a collector nobody scrapes.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns the collector to use: c, or the one already
// registered under the same description. A nil reg registers nothing and returns c.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	if dup, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register metrics: %w", err)
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"qual.cx/operator/internal/analysis"
	llmanalysis "qual.cx/operator/internal/analysis/llm"
	"qual.cx/operator/internal/findings"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
)

// analysisFlags configure the analysis jobs: every apiserver replica (and `qual dev`) works
// the queue in the store's database unless --analysis-workers is 0.
type analysisFlags struct {
	workers     int
	jobTimeout  time.Duration
	rescueAfter time.Duration
	poll        time.Duration
}

func (f *analysisFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.workers, "analysis-workers", findings.DefaultWorkers, "analyses this process runs at once; 0: it only queues them, for other replicas to run")
	fs.DurationVar(&f.jobTimeout, "analysis-job-timeout", findings.DefaultJobTimeout, "an analysis running longer is canceled and tried again (up to 5 runs in all)")
	fs.DurationVar(&f.rescueAfter, "analysis-rescue-after", findings.DefaultJobTimeout+5*time.Minute, "an analysis still running after this is taken for stuck (its process died) and run again; at least --analysis-job-timeout")
	fs.DurationVar(&f.poll, "analysis-poll-interval", findings.DefaultPollInterval, "how often idle workers look for new analyses on SQLite (PostgreSQL wakes them at once)")
}

// start builds the analysis queue on the store (running River's migrations there) and starts
// its workers until ctx ends; campaigns that ask for the llm analyzer get model's while one
// is configured; their model runs that no request paid for spend the Analysis/hr budget on
// limiter (findings.Charge). The returned func stops them, waiting up to 30 s for running
// analyses (the rest run again later), and releases the queue.
func (f *analysisFlags) start(ctx context.Context, log logr.Logger, db store.Store, model *chatModel,
	limiter ratelimit.Limiter, reg prometheus.Registerer) (*findings.Queue, func(), error) {
	workers := f.workers
	if workers <= 0 {
		workers = -1
	}
	llmMetrics, err := llmanalysis.NewMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	builtin := analysis.New()
	chooser := analysis.Chooser{Builtin: builtin, Model: model.analyzer(builtin, llmMetrics)}
	q, err := findings.NewQueue(ctx, findings.QueueConfig{Store: db, Analyzer: chooser, Workers: workers,
		JobTimeout: f.jobTimeout, RescueAfter: f.rescueAfter, PollInterval: f.poll, Logger: log.WithName("analyses"),
		Metrics: reg, Limiter: limiter})
	if err != nil {
		return nil, nil, fmt.Errorf("analysis queue: %w", err)
	}
	if err := q.Start(ctx); err != nil {
		q.Close()
		return nil, nil, fmt.Errorf("analysis queue: %w", err)
	}
	return q, func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := q.Stop(stop); err != nil {
			log.Error(err, "stop the analysis workers")
		}
		q.Close()
	}, nil
}

// defaults are the flags' defaults, for `qual dev`, which registers none of them: its one
// process works the queue.
func (f *analysisFlags) defaults() {
	*f = analysisFlags{workers: findings.DefaultWorkers, jobTimeout: findings.DefaultJobTimeout,
		rescueAfter: findings.DefaultJobTimeout + 5*time.Minute, poll: findings.DefaultPollInterval}
}

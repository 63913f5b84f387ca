package findings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/jobs"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
)

// QueueName is the River queue analyses run on.
const QueueName = "analysis"

// Queue defaults.
const (
	DefaultWorkers      = 2
	DefaultJobTimeout   = 10 * time.Minute
	DefaultMaxAttempts  = 5
	DefaultPollInterval = time.Second
	DefaultSettle       = 3 * time.Second
)

// QueueConfig configures a Queue.
type QueueConfig struct {
	// Store holds the analyses and findings; the queue's tables live in its database.
	Store store.Store
	// Analyzer finds the themes; nil makes a queue that only inserts jobs (Workers is ignored).
	Analyzer analysis.Analyzer
	// Workers is how many analyses this process runs at once (default DefaultWorkers);
	// negative: none, the process only queues them for others.
	Workers int
	// JobTimeout cancels an analysis that runs longer (default DefaultJobTimeout); it then
	// runs again, up to MaxAttempts times in all, and fails.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before the queue takes it for stuck
	// (its process died) and runs it again (default JobTimeout + 5 minutes). It must not be
	// shorter than JobTimeout.
	RescueAfter time.Duration
	// MaxAttempts bounds the runs of one analysis, rescues included (default DefaultMaxAttempts).
	MaxAttempts int
	// PollInterval is how often an idle worker looks for new jobs on SQLite, which has no
	// LISTEN/NOTIFY (default DefaultPollInterval); PostgreSQL workers are woken at once.
	PollInterval time.Duration
	// ID names this worker among the queue's clients (default: random). Tests only.
	ID string
	// Logger receives the queue's warnings and errors; never a participant's words.
	Logger logr.Logger
	// Metrics registers the runs' Prometheus series (nil: none).
	Metrics prometheus.Registerer
	// Limiter spends the Analysis/hr budget of model runs no request paid for (see Charge);
	// nil: they spend nothing.
	Limiter ratelimit.Limiter
	// Settle is how long an analysis an erasure asks for waits before it runs (default
	// DefaultSettle), so that a burst of erasures is analysed once.
	Settle time.Duration
}

// Queue runs analyses as durable River jobs in the store's own database: a job survives the
// process that queued or ran it, and any replica's workers may run it.
type Queue struct {
	jobs   *jobs.Client
	opts   river.InsertOpts
	settle time.Duration
}

// ErrNotReady is returned by Analyze until River's tables are in place (Start could not
// reach the database yet).
var ErrNotReady = jobs.ErrNotReady

// NewQueue builds the queue on the store's database (both backends); it touches nothing yet.
// Call Start, which applies River's migrations there and starts the workers, and Close when
// done.
func NewQueue(ctx context.Context, cfg QueueConfig) (*Queue, error) {
	cfg = cfg.withDefaults()
	m, err := NewMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	runner := &Runner{Store: cfg.Store, Analyzer: cfg.Analyzer, Log: cfg.Logger, Metrics: m, Limiter: cfg.Limiter}
	workers := cfg.Workers
	if cfg.Analyzer == nil || workers < 0 {
		workers = 0
	}
	c, err := jobs.New(ctx, jobs.Config{
		Store: cfg.Store, Queue: QueueName, Kind: analyzeArgs{}.Kind(), Workers: workers,
		Register:   func(w *river.Workers) { river.AddWorker(w, &worker{runner: runner}) },
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.RescueAfter, MaxAttempts: cfg.MaxAttempts,
		PollInterval: cfg.PollInterval, ID: cfg.ID, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("findings: queue: %w", err)
	}
	return &Queue{jobs: c, settle: cfg.Settle, opts: river.InsertOpts{Queue: QueueName, MaxAttempts: cfg.MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true}}}, nil
}

func (c QueueConfig) withDefaults() QueueConfig {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.JobTimeout + 5*time.Minute
	}
	c.RescueAfter = max(c.RescueAfter, c.JobTimeout)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Settle <= 0 {
		c.Settle = DefaultSettle
	}
	return c
}

// Start applies River's migrations to the store's database and then starts working jobs
// (when the queue has an analyzer and workers) until ctx ends or Stop is called. It returns at
// once: while that fails (the database cannot be reached) it keeps trying in the background,
// so a replica starts (and says on /ready that its database is down) whatever the database
// does; Analyze answers ErrNotReady until then. It never fails today.
func (q *Queue) Start(ctx context.Context) error {
	q.jobs.Start(ctx)
	return nil
}

// Stop stops taking jobs and waits for running ones to finish, or until ctx ends; then it
// cancels them (they run again later, elsewhere or after a restart).
func (q *Queue) Stop(ctx context.Context) error { return q.jobs.Stop(ctx) }

// Close releases the queue's own connections (PostgreSQL); call it after Stop.
func (q *Queue) Close() { q.jobs.Close() }

// Analyze queues an analysis of a campaign, or returns the one it already has queued or
// running (existing true): a campaign runs one analysis at a time. spend is called only when a
// new analysis is being made, so asking again for a running one costs nothing, even when the
// requests race; its error is returned as it is, and no analysis is made.
func (q *Queue) Analyze(ctx context.Context, ts store.TeamStore, campaign store.CampaignID, c analysis.Campaign,
	spend func() error) (a store.Analysis, existing bool, err error) {
	return q.AnalyzeCharged(ctx, ts, campaign, c, nil, spend)
}

// AnalyzeCharged is Analyze for a campaign whose analyzer is the model's: spend pays the model
// run of its first attempt (charge.Paid), and any later one, a retry's included, spends
// charge's budget as it starts (see Charge). charge nil: none does.
func (q *Queue) AnalyzeCharged(ctx context.Context, ts store.TeamStore, campaign store.CampaignID, c analysis.Campaign,
	charge *Charge, spend func() error) (a store.Analysis, existing bool, err error) {
	return q.analyze(ctx, ts, campaign, job{campaign: c, charge: charge}, spend)
}

// AfterErasure queues the analysis that writes anew the findings an erasure redacted, or
// returns the campaign's queued or running one, which does. It is never refused for budget: it
// waits Settle before it runs, so the erasures of a burst all land in it, and its model run
// spends charge's budget when it starts (see Charge), without the built-in analyzer running
// instead when none is left.
func (q *Queue) AfterErasure(ctx context.Context, ts store.TeamStore, campaign store.CampaignID, c analysis.Campaign,
	charge *Charge) (store.Analysis, error) {
	if charge != nil {
		charge.Paid = false
	}
	a, _, err := q.analyze(ctx, ts, campaign, job{campaign: c, charge: charge, settle: true}, func() error { return nil })
	return a, err
}

// job is what an analysis' River job is made with.
type job struct {
	campaign analysis.Campaign
	charge   *Charge
	settle   bool // it waits Settle before it runs
}

func (q *Queue) analyze(ctx context.Context, ts store.TeamStore, campaign store.CampaignID, j job,
	spend func() error) (a store.Analysis, existing bool, err error) {
	if !q.jobs.Ready() {
		return store.Analysis{}, false, ErrNotReady
	}
	a, err = ts.ActiveAnalysis(ctx, campaign)
	switch {
	case err == nil:
		// Insert its job again: a no-op while the job lives (jobs are unique by analysis), and
		// a repair when the job was lost (the process died between the row and the job) or
		// given up by the queue's rescuer.
		return a, true, q.insert(ctx, ts.Team(), a.ID, j)
	case !errors.Is(err, store.ErrNotFound):
		return store.Analysis{}, false, err
	}
	// The row takes the campaign's one slot, and the budget is spent, in one transaction:
	// requests racing for the slot wait on it and then find this analysis, having spent
	// nothing; a refused spend rolls the row back, so no racer was ever shown it.
	var spent error
	err = ts.InTx(ctx, func(tx store.TeamStore) error {
		var err error
		if a, err = tx.CreateAnalysis(ctx, campaign); err != nil {
			return err
		}
		spent = spend()
		return spent
	})
	switch {
	case spent != nil:
		return store.Analysis{}, false, spent
	case errors.Is(err, store.ErrConflict):
		if a, err = ts.ActiveAnalysis(ctx, campaign); err == nil {
			return a, true, q.insert(ctx, ts.Team(), a.ID, j)
		}
	}
	if err != nil {
		return store.Analysis{}, false, err
	}
	return a, false, q.insert(ctx, ts.Team(), a.ID, j)
}

func (q *Queue) insert(ctx context.Context, team store.TeamID, id store.AnalysisID, j job) error {
	opts := q.opts
	if j.settle {
		opts.ScheduledAt = time.Now().Add(q.settle)
	}
	args := analyzeArgs{Team: string(team), Analysis: string(id), Campaign: j.campaign, Charge: j.charge}
	if err := q.jobs.Insert(ctx, args, &opts); err != nil {
		return fmt.Errorf("findings: queue analysis %s: %w", id, err)
	}
	return nil
}

// analyzeArgs is an analysis job. Jobs are unique by analysis id.
type analyzeArgs struct {
	Team     string            `json:"team_id"`
	Analysis string            `json:"analysis_id" river:"unique"`
	Campaign analysis.Campaign `json:"campaign"`
	Charge   *Charge           `json:"charge,omitempty"`
}

func (analyzeArgs) Kind() string { return jobs.KindAnalysis }

// worker runs analysis jobs.
type worker struct {
	jobs.WorkerDefaults[analyzeArgs]
	runner *Runner
}

func (w *worker) Work(ctx context.Context, job *river.Job[analyzeArgs]) error {
	return w.runner.Run(ctx, Job{Team: store.TeamID(job.Args.Team), Analysis: store.AnalysisID(job.Args.Analysis),
		Campaign: job.Args.Campaign, Charge: job.Args.Charge, Attempt: job.Attempt}, job.Attempt >= job.MaxAttempts)
}

// NextRetry waits a few seconds more after each failed attempt (River's default waits
// attempt⁴ seconds, too long for a person waiting on an analysis).
func (w *worker) NextRetry(job *river.Job[analyzeArgs]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * 5 * time.Second)
}

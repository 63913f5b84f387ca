package findings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"qual.cx/operator/internal/analysis"
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
}

// Queue runs analyses as durable River jobs in the store's own database: a job survives the
// process that queued or ran it, and any replica's workers may run it.
type Queue struct {
	client riverClient
	runner *Runner
	opts   river.InsertOpts
	pool   *pgxpool.Pool // PostgreSQL: the queue's own pool, closed by Close
	work   bool
	// migrate applies River's migrations; ready is set once they are applied.
	migrate func(context.Context) error
	ready   atomic.Bool
	log     logr.Logger
	retry   time.Duration
}

// ErrNotReady is returned by Analyze until River's tables are in place (Start could not
// reach the database yet).
var ErrNotReady = errors.New("findings: the analysis queue is not ready")

// riverClient is what the queue uses of river.Client, whatever its driver's transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// NewQueue builds the queue on the store's database (both backends); it touches nothing yet.
// Call Start, which applies River's migrations there and starts the workers, and Close when
// done.
func NewQueue(ctx context.Context, cfg QueueConfig) (*Queue, error) {
	b, err := store.BackingOf(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("findings: queue: %w", err)
	}
	cfg = cfg.withDefaults()
	q := &Queue{runner: &Runner{Store: cfg.Store, Analyzer: cfg.Analyzer, Log: cfg.Logger}, log: cfg.Logger, retry: 5 * time.Second,
		opts: river.InsertOpts{Queue: QueueName, MaxAttempts: cfg.MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}},
		work: cfg.Analyzer != nil && cfg.Workers > 0}
	rc := &river.Config{
		ID: cfg.ID, JobTimeout: cfg.JobTimeout, RescueStuckJobsAfter: cfg.RescueAfter, MaxAttempts: cfg.MaxAttempts,
		Logger: slog.New(&warnings{logr.ToSlogHandler(cfg.Logger.WithName("river"))}), Workers: river.NewWorkers(),
	}
	river.AddWorker(rc.Workers, &worker{runner: q.runner})
	if q.work {
		rc.Queues = map[string]river.QueueConfig{QueueName: {MaxWorkers: cfg.Workers}}
	}
	switch b.Backend {
	case "sqlite":
		// The store's one writer connection: the queue's writes take turns with the store's.
		// SQLite has no LISTEN/NOTIFY, so workers poll.
		rc.PollOnly, rc.FetchPollInterval, rc.FetchCooldown = true, cfg.PollInterval, min(cfg.PollInterval, 100*time.Millisecond)
		driver := riversqlite.New(b.Writer)
		q.migrate = func(ctx context.Context) error { return migrateSQLite(ctx, driver) }
		if q.client, err = river.NewClient(driver, rc); err != nil {
			return nil, fmt.Errorf("findings: queue: %w", err)
		}
	default:
		pc, err := pgxpool.ParseConfig(b.DSN)
		if err != nil {
			return nil, fmt.Errorf("findings: queue: parse the store's DSN: %w", store.ErrInvalidInput)
		}
		pc.MaxConns = int32(max(4, cfg.Workers+3)) // the listener, the leader's services, the workers
		if q.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			return nil, fmt.Errorf("findings: queue: %w", err)
		}
		driver := riverpgxv5.New(q.pool)
		q.migrate = func(ctx context.Context) error { return migratePostgres(ctx, driver, q.pool) }
		if q.client, err = river.NewClient(driver, rc); err != nil {
			q.pool.Close()
			return nil, fmt.Errorf("findings: queue: %w", err)
		}
	}
	return q, nil
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
	return c
}

// migrationLock is the PostgreSQL advisory lock that makes replicas starting together apply
// River's migrations one at a time ("qualrivr").
const migrationLock = 0x7175616c72697672

// migratePostgres applies River's migrations (each version in a transaction of its own, as
// some need) while holding a session advisory lock, so replicas take turns.
func migratePostgres(ctx context.Context, driver *riverpgxv5.Driver, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("findings: queue migrations: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("findings: queue migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return fmt.Errorf("findings: queue migrations: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrationLock))
	}()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("findings: queue migrations: %w", err)
	}
	return nil
}

// sqliteMigrations serializes River's SQLite migrations within the process: a SQLite store
// has one process (one replica), and its queues migrate one after another.
var sqliteMigrations sync.Mutex

// migrateSQLite applies River's migrations on the store's writer connection.
func migrateSQLite(ctx context.Context, driver *riversqlite.Driver) error {
	sqliteMigrations.Lock()
	defer sqliteMigrations.Unlock()
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("findings: queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("findings: queue migrations: %w", err)
	}
	return nil
}

// Start applies River's migrations to the store's database and then starts working jobs
// (when the queue has an analyzer and workers) until ctx ends or Stop is called. It returns at
// once: while that fails (the database cannot be reached) it keeps trying in the background,
// so a replica starts (and says on /ready that its database is down) whatever the database
// does; Analyze answers ErrNotReady until then. It never fails today.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.begin(ctx); err != nil {
		q.log.Error(err, "analysis queue: not started; retrying every 5 s")
		go func() {
			for ctx.Err() == nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(q.retry):
				}
				if err := q.begin(ctx); err == nil {
					return
				}
			}
		}()
	}
	return nil
}

// begin migrates, marks the queue ready and starts the workers.
func (q *Queue) begin(ctx context.Context) error {
	if err := q.migrate(ctx); err != nil {
		return err
	}
	q.ready.Store(true)
	if !q.work {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("findings: queue: start: %w", err)
	}
	return nil
}

// Stop stops taking jobs and waits for running ones to finish, or until ctx ends; then it
// cancels them (they run again later, elsewhere or after a restart).
func (q *Queue) Stop(ctx context.Context) error {
	if !q.work {
		return nil
	}
	if err := q.client.Stop(ctx); err != nil {
		return q.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return nil
}

// Close releases the queue's own connections (PostgreSQL); call it after Stop.
func (q *Queue) Close() {
	if q.pool != nil {
		q.pool.Close()
	}
}

// Analyze queues an analysis of a campaign, or returns the one it already has queued or
// running (existing true): a campaign runs one analysis at a time. spend is called only when a
// new analysis is about to be queued, so asking again for a running one costs nothing; its
// error is returned as it is.
func (q *Queue) Analyze(ctx context.Context, ts store.TeamStore, campaign store.CampaignID, c analysis.Campaign,
	spend func() error) (a store.Analysis, existing bool, err error) {
	if !q.ready.Load() {
		return store.Analysis{}, false, ErrNotReady
	}
	a, err = ts.ActiveAnalysis(ctx, campaign)
	switch {
	case err == nil:
		// Insert its job again: a no-op while the job lives (jobs are unique by analysis), and
		// a repair when the job was lost (the process died between the row and the job) or
		// given up by the queue's rescuer.
		return a, true, q.insert(ctx, ts.Team(), a.ID, c)
	case !errors.Is(err, store.ErrNotFound):
		return store.Analysis{}, false, err
	}
	if err := spend(); err != nil {
		return store.Analysis{}, false, err
	}
	a, err = ts.CreateAnalysis(ctx, campaign)
	if errors.Is(err, store.ErrConflict) { // another request queued one a moment ago
		if a, err = ts.ActiveAnalysis(ctx, campaign); err == nil {
			return a, true, q.insert(ctx, ts.Team(), a.ID, c)
		}
	}
	if err != nil {
		return store.Analysis{}, false, err
	}
	return a, false, q.insert(ctx, ts.Team(), a.ID, c)
}

func (q *Queue) insert(ctx context.Context, team store.TeamID, id store.AnalysisID, c analysis.Campaign) error {
	opts := q.opts
	if _, err := q.client.Insert(ctx, analyzeArgs{Team: string(team), Analysis: string(id), Campaign: c}, &opts); err != nil {
		return fmt.Errorf("findings: queue analysis %s: %w", id, err)
	}
	return nil
}

// analyzeArgs is an analysis job. Jobs are unique by analysis id.
type analyzeArgs struct {
	Team     string            `json:"team_id"`
	Analysis string            `json:"analysis_id" river:"unique"`
	Campaign analysis.Campaign `json:"campaign"`
}

func (analyzeArgs) Kind() string { return "qual_analysis" }

// worker runs analysis jobs.
type worker struct {
	river.WorkerDefaults[analyzeArgs]
	runner *Runner
}

func (w *worker) Work(ctx context.Context, job *river.Job[analyzeArgs]) error {
	return w.runner.Run(ctx, Job{Team: store.TeamID(job.Args.Team), Analysis: store.AnalysisID(job.Args.Analysis),
		Campaign: job.Args.Campaign}, job.Attempt >= job.MaxAttempts)
}

// NextRetry waits a few seconds more after each failed attempt (River's default waits
// attempt⁴ seconds, too long for a person waiting on an analysis).
func (w *worker) NextRetry(job *river.Job[analyzeArgs]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * 5 * time.Second)
}

// warnings passes on only River's warnings and errors: its info lines are per-job chatter.
type warnings struct{ slog.Handler }

func (w *warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w *warnings) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &warnings{w.Handler.WithAttrs(attrs)}
}

func (w *warnings) WithGroup(name string) slog.Handler { return &warnings{w.Handler.WithGroup(name)} }

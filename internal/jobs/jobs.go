// Package jobs runs durable River job queues in the store's own database, on either backend:
// a job survives the process that queued or ran it, and any replica's workers may run it.
// Analyses and webhook deliveries each build their queue on it.
package jobs

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
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"qual.cx/operator/internal/store"
)

// Config configures a Client.
type Config struct {
	// Store holds the data; the queue's tables live in its database.
	Store store.Store
	// Queue names the River queue this client works and inserts into.
	Queue string
	// Kind is the kind of the queue's jobs, one of KindAnalysis and KindDelivery; the
	// client stands in for the others (see kinds.go).
	Kind string
	// Workers is how many jobs this process runs at once; 0: none, it only inserts them.
	Workers int
	// Register adds the queue's workers to River's registry.
	Register func(*river.Workers)
	// JobTimeout cancels a job of this client's queue that runs longer.
	JobTimeout time.Duration
	// RescueAfter is how long a job this client queues may stay running before it is taken
	// for stuck (its process died) and run again, by whichever client leads the database's
	// clients: it is stamped on the job (see rescue.go) when this client queues it, and again
	// when this client takes one another client queued with another bound, so each queue keeps
	// its own and a run is protected by the bound of the client running it. It is
	// raised to JobTimeout and no run of the job lasts longer; keep it above by the time a
	// cancelled run may take to end, or a rescue may run the job beside its dying run.
	RescueAfter time.Duration
	// MaxAttempts bounds the runs of one job, rescues included.
	MaxAttempts int
	// PollInterval is how often an idle worker looks for jobs on SQLite, which has no
	// LISTEN/NOTIFY; PostgreSQL workers are woken at once.
	PollInterval time.Duration
	// FetchCooldown is the shortest time between two fetches of jobs while busy (default
	// 100 ms): with W workers a client runs at most W jobs per cooldown, so short jobs want a
	// short one.
	FetchCooldown time.Duration
	// ID names this client among the database's clients (default: random). Tests only.
	ID string
	// Logger receives River's warnings and errors.
	Logger logr.Logger
}

// Client is a River client on the store's database.
type Client struct {
	river   riverClient
	pool    *pgxpool.Pool // PostgreSQL: the client's own pool, closed by Close
	migrate func(context.Context) error
	ready   atomic.Bool
	work    bool
	log     logr.Logger
	retry   time.Duration
}

// ErrNotReady is returned by inserts until River's tables are in place (Start could not reach
// the database yet).
var ErrNotReady = errors.New("jobs: the queue is not ready")

// riverClient is what the package uses of river.Client, whatever its driver's transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// New builds the client on the store's database (both backends); it touches nothing yet. Call
// Start, which applies River's migrations there and starts the workers, and Close when done.
func New(ctx context.Context, cfg Config) (*Client, error) {
	b, err := store.BackingOf(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	c := &Client{log: cfg.Logger, retry: 5 * time.Second, work: cfg.Workers > 0}
	// No client-wide timeout: every worker gives each job its own bound (WorkerDefaults), and
	// the middleware cuts a run to JobTimeout.
	mw := &bound{rescueAfter: max(cfg.RescueAfter, cfg.JobTimeout), timeout: cfg.JobTimeout, log: cfg.Logger}
	rc := &river.Config{
		ID: cfg.ID, JobTimeout: -1, RescueStuckJobsAfter: rescueScan, MaxAttempts: cfg.MaxAttempts,
		Logger: slog.New(&warnings{logr.ToSlogHandler(cfg.Logger.WithName("river"))}), Workers: river.NewWorkers(),
		Middleware: []rivertype.Middleware{mw},
	}
	if cfg.Register != nil {
		cfg.Register(rc.Workers)
	}
	if err := registerStandIns(rc.Workers, cfg.Kind); err != nil {
		return nil, err
	}
	if c.work {
		rc.Queues = map[string]river.QueueConfig{cfg.Queue: {MaxWorkers: cfg.Workers}}
	}
	cooldown := cfg.FetchCooldown
	if cooldown <= 0 {
		cooldown = 100 * time.Millisecond
	}
	rc.FetchCooldown = cooldown
	if b.Backend == "sqlite" {
		// The store's one writer connection: the queue's writes take turns with the store's.
		// SQLite has no LISTEN/NOTIFY, so workers poll.
		rc.PollOnly, rc.FetchPollInterval, rc.FetchCooldown = true, cfg.PollInterval, min(cfg.PollInterval, cooldown)
		driver := riversqlite.New(b.Writer)
		c.migrate = func(ctx context.Context) error { return migrateSQLite(ctx, driver) }
		if c.river, err = river.NewClient(driver, rc); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		mw.update = mergeMetadata(driver.GetExecutor())
		return c, nil
	}
	pc, err := pgxpool.ParseConfig(b.DSN)
	if err != nil {
		return nil, fmt.Errorf("jobs: parse the store's DSN: %w", store.ErrInvalidInput)
	}
	pc.MaxConns = int32(max(4, cfg.Workers+3)) // the listener, the leader's services, the workers
	if c.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	driver := riverpgxv5.New(c.pool)
	c.migrate = func(ctx context.Context) error { return migratePostgres(ctx, driver, c.pool) }
	if c.river, err = river.NewClient(driver, rc); err != nil {
		c.pool.Close()
		return nil, fmt.Errorf("jobs: %w", err)
	}
	mw.update = mergeMetadata(driver.GetExecutor())
	return c, nil
}

// mergeMetadata merges metadata into a job's row through the driver's executor: River's
// client updates a job's metadata only as a run ends.
func mergeMetadata(exec riverdriver.Executor) func(ctx context.Context, id int64, metadata []byte) error {
	return func(ctx context.Context, id int64, metadata []byte) error {
		if _, err := exec.JobUpdate(ctx, &riverdriver.JobUpdateParams{ID: id, MetadataDoMerge: true, Metadata: metadata}); err != nil {
			return fmt.Errorf("jobs: update the metadata of job %d: %w", id, err)
		}
		return nil
	}
}

// migrationLock is the PostgreSQL advisory lock that makes replicas starting together apply
// River's migrations one at a time ("qualrivr").
const migrationLock = 0x7175616c72697672

// migratePostgres applies River's migrations (each version in a transaction of its own, as
// some need) while holding a session advisory lock, so replicas take turns.
func migratePostgres(ctx context.Context, driver *riverpgxv5.Driver, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrations: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return fmt.Errorf("jobs: migrations: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrationLock))
	}()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrations: %w", err)
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
		return fmt.Errorf("jobs: migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrations: %w", err)
	}
	return nil
}

// Start applies River's migrations to the store's database and then starts working jobs
// (when the client has workers) until ctx ends or Stop is called. It returns at once: while
// that fails (the database cannot be reached) it keeps trying in the background, so a replica
// starts (and says on /ready that its database is down) whatever the database does; inserts
// answer ErrNotReady until then.
func (c *Client) Start(ctx context.Context) {
	if err := c.begin(ctx); err != nil {
		c.log.Error(err, "job queue: not started; retrying every 5 s")
		go func() {
			for ctx.Err() == nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(c.retry):
				}
				if err := c.begin(ctx); err == nil {
					return
				}
			}
		}()
	}
}

// begin migrates, marks the client ready and starts the workers.
func (c *Client) begin(ctx context.Context) error {
	if err := c.migrate(ctx); err != nil {
		return err
	}
	c.ready.Store(true)
	if !c.work {
		return nil
	}
	if err := c.river.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Ready reports whether River's tables are in place.
func (c *Client) Ready() bool { return c.ready.Load() }

// Stop stops taking jobs and waits for running ones to finish, or until ctx ends; then it
// cancels them (they run again later, elsewhere or after a restart).
func (c *Client) Stop(ctx context.Context) error {
	if !c.work {
		return nil
	}
	if err := c.river.Stop(ctx); err != nil {
		return c.river.StopAndCancel(context.WithoutCancel(ctx))
	}
	return nil
}

// Close releases the client's own connections (PostgreSQL); call it after Stop.
func (c *Client) Close() {
	if c.pool != nil {
		c.pool.Close()
	}
}

// Insert queues one job.
func (c *Client) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if !c.Ready() {
		return ErrNotReady
	}
	if _, err := c.river.Insert(ctx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertMany queues jobs in one statement.
func (c *Client) InsertMany(ctx context.Context, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if !c.Ready() {
		return ErrNotReady
	}
	if _, err := c.river.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("jobs: insert %d jobs: %w", len(params), err)
	}
	return nil
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

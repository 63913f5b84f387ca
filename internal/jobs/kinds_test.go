package jobs_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/riverqueue/river"

	"qual.cx/operator/internal/jobs"
	"qual.cx/operator/internal/store"
)

// analysisArgs is a job of the analysis queue, as that queue's client inserts it.
type analysisArgs struct {
	Campaign string `json:"campaign"`
}

func (analysisArgs) Kind() string { return jobs.KindAnalysis }

// deliveryArgs is a job of the delivery queue.
type deliveryArgs struct {
	Delivery string `json:"delivery"`
}

func (deliveryArgs) Kind() string { return jobs.KindDelivery }

// idle works a job of either queue by doing nothing, with the queue's own defaults.
type idle[T river.JobArgs] struct {
	jobs.WorkerDefaults[T]
}

func (idle[T]) Work(context.Context, *river.Job[T]) error { return nil }

// Each job is rescued after the bound its own queue gave it, whichever queue's client leads:
// a delivery left running two minutes by a dead process is put back (its bound is a minute),
// while an analysis running as long is left alone (its bound is a quarter of an hour), so the
// short bound deliveries need never rescues an analysis that still runs.
func TestEachKindIsRescuedAfterItsOwnBound(t *testing.T) {
	for _, leader := range []string{jobs.KindDelivery, jobs.KindAnalysis} {
		t.Run(leader, func(t *testing.T) {
			ctx, db := openStore(t)
			configs := map[string]jobs.Config{
				jobs.KindAnalysis: {Store: db, Queue: "analyses", Kind: jobs.KindAnalysis, JobTimeout: 10 * time.Minute,
					RescueAfter: 15 * time.Minute, Register: func(w *river.Workers) { river.AddWorker(w, idle[analysisArgs]{}) }},
				jobs.KindDelivery: {Store: db, Queue: "deliveries", Kind: jobs.KindDelivery, JobTimeout: 30 * time.Second,
					RescueAfter: time.Minute, Register: func(w *river.Workers) { river.AddWorker(w, idle[deliveryArgs]{}) }},
			}
			client := func(kind string, workers int) *jobs.Client {
				cfg := configs[kind]
				cfg.Workers, cfg.PollInterval, cfg.Logger = workers, 50*time.Millisecond, logr.Discard()
				c, err := jobs.New(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				c.Start(ctx)
				waitReady(t, c)
				return c
			}
			// Each queue's own client queues its job, into a queue nobody works here.
			if err := client(jobs.KindAnalysis, 0).Insert(ctx, analysisArgs{Campaign: "c1"}, &river.InsertOpts{Queue: "idle"}); err != nil {
				t.Fatal(err)
			}
			if err := client(jobs.KindDelivery, 0).Insert(ctx, deliveryArgs{Delivery: "d1"}, &river.InsertOpts{Queue: "idle"}); err != nil {
				t.Fatal(err)
			}
			b, err := store.BackingOf(db)
			if err != nil {
				t.Fatal(err)
			}
			// Both taken two minutes ago by a process that died.
			if _, err := b.Writer.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ?`,
				time.Now().Add(-2*time.Minute).UTC().Format("2006-01-02 15:04:05.999999")); err != nil {
				t.Fatal(err)
			}
			lead := client(leader, 1)
			defer func() { _ = lead.Stop(context.Background()) }()
			state := func(kind string) string {
				var s string
				if err := b.Writer.QueryRowContext(ctx, `SELECT state FROM river_job WHERE kind = ?`, kind).Scan(&s); err != nil {
					t.Fatal(err)
				}
				return s
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if s := state(jobs.KindDelivery); s == "retryable" || s == "available" {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("the stuck delivery is still %s", s)
				}
			}
			if s := state(jobs.KindAnalysis); s != "running" {
				t.Fatalf("an analysis running for two minutes was rescued (%s): its bound is a quarter of an hour", s)
			}
		})
	}
}

// A job of one queue that got stuck (its process died mid-run) is put back by whichever
// client leads the database's clients, even one that works another queue: River's rescuer
// discards a stuck job whose kind its client does not know.
func TestAnotherQueuesClientRescuesAStuckJob(t *testing.T) {
	ctx, db := openStore(t)

	// The analysis queue's client inserts a job and is gone before anyone runs it.
	inserter, err := jobs.New(ctx, jobs.Config{Store: db, Queue: "analyses", Kind: jobs.KindAnalysis,
		Register: func(w *river.Workers) { river.AddWorker(w, idle[analysisArgs]{}) }, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	inserter.Start(ctx)
	waitReady(t, inserter)
	if err := inserter.Insert(ctx, analysisArgs{Campaign: "c1"}, &river.InsertOpts{Queue: "analyses"}); err != nil {
		t.Fatal(err)
	}
	// As if a worker took it an hour ago and its process died.
	b, err := store.BackingOf(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Writer.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = ? WHERE kind = ?`, time.Now().Add(-time.Hour).UTC().Format("2006-01-02 15:04:05.999999"), jobs.KindAnalysis); err != nil {
		t.Fatal(err)
	}

	// Only the delivery queue's client runs: it leads, and its rescuer meets the stuck job.
	deliveries, err := jobs.New(ctx, jobs.Config{Store: db, Queue: "deliveries", Kind: jobs.KindDelivery, Workers: 1,
		RescueAfter: time.Minute, PollInterval: 50 * time.Millisecond, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	deliveries.Start(ctx)
	defer func() { _ = deliveries.Stop(context.Background()) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		var state string
		if err := b.Writer.QueryRowContext(ctx, `SELECT state FROM river_job WHERE kind = ?`, jobs.KindAnalysis).Scan(&state); err != nil {
			t.Fatal(err)
		}
		switch state {
		case "retryable", "available":
			return
		case "discarded":
			t.Fatal("the stuck analysis job was discarded by the delivery queue's client")
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stuck job is still %s", state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// blocking works a delivery job by signalling it started and waiting until released.
type blocking struct {
	jobs.WorkerDefaults[deliveryArgs]
	started, release chan struct{}
}

func (w blocking) Work(ctx context.Context, _ *river.Job[deliveryArgs]) error {
	close(w.started)
	select {
	case <-w.release:
	case <-ctx.Done():
	}
	return nil
}

// A job queued by one client and worked by another (a redelivery the apiserver queues, with
// its default bound, for the dispatcher, which runs with its own --rescue-after) carries the
// bound of the client that works it while it runs, so whichever client leads rescues that
// run after the worker's bound, not the one its inserter happened to have.
func TestAJobCarriesTheBoundOfTheClientThatWorksIt(t *testing.T) {
	ctx, db := openStore(t)
	inserter, err := jobs.New(ctx, jobs.Config{Store: db, Queue: "deliveries", Kind: jobs.KindDelivery,
		JobTimeout: 30 * time.Second, RescueAfter: time.Minute, Logger: logr.Discard(),
		Register: func(ws *river.Workers) { river.AddWorker(ws, idle[deliveryArgs]{}) }})
	if err != nil {
		t.Fatal(err)
	}
	inserter.Start(ctx)
	waitReady(t, inserter)
	if err := inserter.Insert(ctx, deliveryArgs{Delivery: "d1"}, &river.InsertOpts{Queue: "deliveries"}); err != nil {
		t.Fatal(err)
	}
	w := blocking{started: make(chan struct{}), release: make(chan struct{})}
	worker, err := jobs.New(ctx, jobs.Config{Store: db, Queue: "deliveries", Kind: jobs.KindDelivery, Workers: 1,
		JobTimeout: 30 * time.Second, RescueAfter: 5 * time.Minute, PollInterval: 50 * time.Millisecond, Logger: logr.Discard(),
		Register: func(ws *river.Workers) { river.AddWorker(ws, w) }})
	if err != nil {
		t.Fatal(err)
	}
	worker.Start(ctx)
	defer func() { _ = worker.Stop(context.Background()) }()
	select {
	case <-w.started:
	case <-time.After(20 * time.Second):
		t.Fatal("the job was never worked")
	}
	b, err := store.BackingOf(db)
	if err != nil {
		t.Fatal(err)
	}
	var state string
	var bound int64
	if err := b.Writer.QueryRowContext(ctx, `SELECT state, json_extract(metadata, '$.qual_rescue_after_ms') FROM river_job`).
		Scan(&state, &bound); err != nil {
		t.Fatal(err)
	}
	close(w.release)
	if state != "running" || time.Duration(bound)*time.Millisecond != 5*time.Minute {
		t.Fatalf("a %s job worked by a client whose bound is 5m carries %v", state, time.Duration(bound)*time.Millisecond)
	}
}

// A client of a kind no queue has is refused: every client must stand in for every kind.
func TestUnknownKindIsRefused(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if _, err := jobs.New(context.Background(), jobs.Config{Store: db, Queue: "q", Kind: "qual_other", Logger: logr.Discard()}); err == nil {
		t.Fatal("a client of an unknown kind was built")
	}
}

func waitReady(t *testing.T, c *jobs.Client) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !c.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("queue not ready")
		}
	}
}

// openStore opens a SQLite store of the test's own, closed when it ends, and a context
// cancelled then too.
func openStore(t *testing.T) (context.Context, store.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return ctx, db
}

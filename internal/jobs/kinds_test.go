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

type analysisWorker struct {
	river.WorkerDefaults[analysisArgs]
}

func (analysisWorker) Work(context.Context, *river.Job[analysisArgs]) error { return nil }

// A job of one queue that got stuck (its process died mid-run) is put back by whichever
// client leads the database's clients, even one that works another queue: River's rescuer
// discards a stuck job whose kind its client does not know.
func TestAnotherQueuesClientRescuesAStuckJob(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()

	// The analysis queue's client inserts a job and is gone before anyone runs it.
	inserter, err := jobs.New(ctx, jobs.Config{Store: db, Queue: "analyses", Kind: jobs.KindAnalysis,
		Register: func(w *river.Workers) { river.AddWorker(w, analysisWorker{}) }, Logger: logr.Discard()})
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

package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// How a stuck job is rescued. River elects one leader among all the clients of a database
// and only the leader's rescuer runs: it takes a job for stuck once it has been running
// longer than both the leader's RescueStuckJobsAfter and the Timeout its worker gives the
// job. The first is the leader's, whatever queue it works, so it cannot tell a delivery (an
// attempt is seconds) from an analysis (minutes): a single value would either rescue
// analyses that still run or leave deliveries of a dead process waiting as long as an
// analysis may run. So every client passes its rescuer a short scan (rescueScan), and each
// job carries its own bound, stamped when it is queued (rescueKey) by the client of its
// queue, which every client's worker, stand-ins included, answers as the job's Timeout. A
// run itself is bounded by its own client's JobTimeout (bound), well inside that.
//
// The client that queues a job is not always the one that works it: the apiserver queues
// redeliveries for the dispatcher, with its own defaults. So the client that takes a job
// stamps it again with its own bound as the run begins, when the two differ (restamp): the
// bound that protects a run is the one of the client whose run it is, whoever queued it.
const (
	// rescueKey is the job's rescue bound in its metadata, in milliseconds.
	rescueKey = "qual_rescue_after_ms"
	// rescueScan is how long a job must have been running before the rescuer looks at its
	// own bound at all; shorter than any bound.
	rescueScan = time.Second
	// LegacyRescueAfter is the bound of a job queued without one (before jobs carried it):
	// the one value every queue shared then.
	LegacyRescueAfter = 15 * time.Minute
)

// WorkerDefaults is river.WorkerDefaults for the worker of a queue built on this package (and
// its stand-ins): its Timeout is the job's own rescue bound, so the rescuer of whichever
// client leads rescues the job after that long, and no sooner.
type WorkerDefaults[T river.JobArgs] struct {
	river.WorkerDefaults[T]
}

// Timeout is the job's rescue bound. It is also River's deadline for a run, which the
// client's middleware (bound) cuts to its JobTimeout: no run outlives the bound its job
// carries, whatever client runs it.
func (WorkerDefaults[T]) Timeout(job *river.Job[T]) time.Duration {
	return rescueAfterOf(job.JobRow)
}

// rescueAfterOf is the rescue bound stamped on a job, or LegacyRescueAfter.
func rescueAfterOf(job *rivertype.JobRow) time.Duration {
	var meta map[string]json.RawMessage
	if job == nil || json.Unmarshal(job.Metadata, &meta) != nil {
		return LegacyRescueAfter
	}
	var ms int64
	if json.Unmarshal(meta[rescueKey], &ms) != nil || ms <= 0 {
		return LegacyRescueAfter
	}
	return time.Duration(ms) * time.Millisecond
}

// bound is the middleware of a client: it stamps every job the client queues or takes with
// the client's RescueAfter, and cancels a run of the client's own jobs after its JobTimeout.
type bound struct {
	river.MiddlewareDefaults
	rescueAfter, timeout time.Duration
	// update merges metadata into a job's row at once (River merges what a worker sets only
	// when the run ends, too late for the run being protected); nil until the client is built.
	update func(ctx context.Context, id int64, metadata []byte) error
	log    logr.Logger
}

// InsertMany stamps the rescue bound into each job's metadata.
func (b *bound) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams,
	doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if b.rescueAfter <= 0 {
		return doInner(ctx) // no bound of its own: LegacyRescueAfter
	}
	for _, p := range params {
		meta := map[string]any{}
		if len(p.Metadata) > 0 {
			if err := json.Unmarshal(p.Metadata, &meta); err != nil {
				return nil, fmt.Errorf("jobs: metadata of a %s job: %w", p.Kind, err)
			}
		}
		meta[rescueKey] = b.rescueAfter.Milliseconds()
		stamped, err := json.Marshal(meta)
		if err != nil {
			return nil, fmt.Errorf("jobs: metadata of a %s job: %w", p.Kind, err)
		}
		p.Metadata = stamped
	}
	return doInner(ctx)
}

// Work runs the job for at most the client's JobTimeout, after stamping it with the client's
// rescue bound if another client queued it with a different one.
func (b *bound) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	b.restamp(ctx, job)
	if b.timeout <= 0 {
		return doInner(ctx) // the job's Timeout, its rescue bound, is River's deadline
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return doInner(ctx)
}

// restamp writes the client's rescue bound on a job it is about to run that carries another
// one, so the rescuer of whichever client leads, which reads the job's row, gives this run the
// bound of the client running it. A failure is logged and the run goes on under the bound the
// job carries: each client's bound is one its run fits in.
func (b *bound) restamp(ctx context.Context, job *rivertype.JobRow) {
	if b.rescueAfter <= 0 || b.update == nil || rescueAfterOf(job) == b.rescueAfter {
		return
	}
	meta, err := json.Marshal(map[string]int64{rescueKey: b.rescueAfter.Milliseconds()})
	if err == nil {
		err = b.update(ctx, job.ID, meta)
	}
	if err != nil {
		b.log.Error(err, "job queue: stamp a job with this client's rescue bound; it keeps its own",
			"kind", job.Kind, "job", job.ID, "carries", rescueAfterOf(job), "bound", b.rescueAfter)
	}
}

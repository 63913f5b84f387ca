package webhooks

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/google/uuid"

	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/signing"
	"qual.cx/operator/internal/store"
)

const (
	// subjects the events are spread over (delivery order is kept per subject).
	subjects = 50
)

// rig is a fresh store with one team whose endpoints all point at one receiver.
type rig struct {
	db  store.Store
	ts  store.TeamStore
	dir directory
	eps []delivery.Endpoint
	rc  *receiver
	log *errorLog
	// workers and inFlight are the dispatcher's --workers and --max-in-flight-per-endpoint.
	workers, inFlight int
}

func newRig(b *testing.B, dsn string, p params) *rig {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	must(b, err)
	b.Cleanup(func() { _ = db.Close() })
	team := store.TeamID(uuid.NewString())
	secrets := make([]string, p.endpoints)
	for i := range secrets {
		secrets[i], err = signing.NewSecret()
		must(b, err)
	}
	rc, err := newReceiver(secrets)
	must(b, err)
	b.Cleanup(rc.close)
	r := &rig{db: db, ts: db.Team(team), rc: rc, log: &errorLog{}, workers: p.workers, inFlight: p.inFlight}
	for i, s := range secrets {
		r.eps = append(r.eps, delivery.Endpoint{Team: team, Namespace: "team-bench", Name: fmt.Sprintf("hook-%d", i),
			ID: store.WebhookID(uuid.NewString()), URL: rc.url(i), Events: []string{"*"}, Enabled: true, Secrets: []string{s}})
	}
	r.dir = directory{eps: r.eps}
	r.migrate(b)
	return r
}

// config is the dispatcher's: `qual dispatcher`'s defaults, loopback allowed.
func (r *rig) config(workers int) delivery.Config {
	return delivery.Config{Store: r.db, Directory: r.dir, Client: egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20),
		Workers: workers, InFlight: r.inFlight, Logger: r.log.logger()}
}

// migrate applies River's migrations with an insert-only service, so the timed start does not
// include them.
func (r *rig) migrate(b *testing.B) {
	ctx := context.Background()
	svc, err := delivery.New(ctx, r.config(0))
	must(b, err)
	svc.Start(ctx)
	must(b, svc.Stop(ctx))
	svc.Close()
	if n, first := r.log.errors(); n > 0 {
		b.Fatalf("migrations: %d log lines, first: %s", n, first)
	}
}

// start runs the dispatcher; the returned func stops it.
func (r *rig) start(ctx context.Context) (stop func()) {
	svc, err := delivery.New(ctx, r.config(r.workers))
	if err != nil {
		panic(err) // New fails only on a missing Store, Directory or Client
	}
	ctx, cancel := context.WithCancel(ctx)
	svc.Start(ctx)
	return func() {
		halt, done := context.WithTimeout(context.Background(), 15*time.Second)
		defer done()
		_ = svc.Stop(halt)
		cancel()
		svc.Close()
	}
}

// concurrency is how many sends the dispatcher makes at once: its workers, capped by the
// per-endpoint in-flight limit of each endpoint.
func (r *rig) concurrency() int { return min(r.workers, len(r.eps)*r.inFlight) }

// check fails the benchmark on a request the receiver refused or an error the service logged.
func (r *rig) check(b *testing.B) {
	if n := r.rc.rejected.Load(); n > 0 {
		b.Errorf("the receiver refused %d requests (signature)", n)
	}
	if n, first := r.log.errors(); n > 0 {
		b.Errorf("the service logged %d lines, first: %s", n, first)
	}
}

// writeEvents writes n events over the subjects to the team's outbox, as fast as it can.
func writeEvents(b *testing.B, ts store.TeamStore, n int) []store.Event {
	evs := make([]store.Event, n)
	for i := range evs {
		ev, err := ts.AddEvent(context.Background(), newEvent(i))
		must(b, err)
		evs[i] = ev
	}
	return evs
}

// writeSteadily writes n events at rate per second and returns when each write returned.
func writeSteadily(b *testing.B, ts store.TeamStore, n, rate int) map[string]time.Time {
	written := make(map[string]time.Time, n)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		ev, err := ts.AddEvent(context.Background(), newEvent(i))
		must(b, err)
		written[string(ev.ID)] = time.Now()
	}
	if lag := time.Since(start) - time.Duration(n)*interval; lag > interval*time.Duration(n)/10 {
		b.Logf("the writer fell behind its rate by %s", lag)
	}
	return written
}

// newEvent is the ith event: an interview.completed of one of the subjects.
func newEvent(i int) store.NewEvent {
	subject := fmt.Sprintf("iv-%d", i%subjects)
	return store.NewEvent{Type: "interview.completed", Subject: subject,
		Payload: fmt.Appendf(nil, `{"subject":%q,"interview_id":%q,"n":%d}`, subject, uuid.NewString(), i)}
}

// latencies are write-to-2xx times in ms, sorted.
func latencies(b *testing.B, first map[key]time.Time, written map[string]time.Time) []float64 {
	out := make([]float64, 0, len(first))
	for k, at := range first {
		w, ok := written[k.id]
		if !ok {
			b.Fatalf("the receiver got %s, which was never written", k.id)
		}
		out = append(out, float64(at.Sub(w))/float64(time.Millisecond))
	}
	slices.Sort(out)
	return out
}

// postBare sends every event to every endpoint, signed as the dispatcher signs, from
// concurrency goroutines with the dispatcher's kind of client, and returns requests per
// second.
func postBare(b *testing.B, r *rig, evs []store.Event, concurrency int) float64 {
	client := egress.Policy{AllowLoopback: true}.Client(10*time.Second, 1<<20)
	next := atomic.Int64{}
	total := len(evs) * len(r.eps)
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < total; i = int(next.Add(1)) - 1 {
				if err := post(client, r.eps[i%len(r.eps)], evs[i/len(r.eps)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds()
}

// post renders, signs and sends one delivery, as the dispatcher's send does.
func post(c *http.Client, ep delivery.Endpoint, ev store.Event) error {
	body, err := delivery.Body(ev)
	if err != nil {
		return err
	}
	h, err := delivery.Sign(ep.Secrets, string(ev.ID), time.Now(), body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bare post: %w", err)
	}
	req.Header = h
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("bare post: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("bare post: %s", resp.Status)
	}
	return nil
}

// directory is a fixed set of endpoints of one team.
type directory struct{ eps []delivery.Endpoint }

func (d directory) Endpoints(team store.TeamID) []delivery.Endpoint {
	var out []delivery.Endpoint
	for _, ep := range d.eps {
		if ep.Team == team {
			out = append(out, ep)
		}
	}
	return out
}

func (d directory) Endpoint(_ context.Context, team store.TeamID, id store.WebhookID) (delivery.Endpoint, bool, error) {
	for _, ep := range d.eps {
		if ep.Team == team && ep.ID == id {
			return ep, true, nil
		}
	}
	return delivery.Endpoint{}, false, nil
}

// errorLog counts what the service logs and keeps the first line: it logs errors only, and
// River's warnings and errors.
type errorLog struct {
	mu    sync.Mutex
	n     int
	first string
}

func (l *errorLog) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.n == 0 {
			l.first = prefix + " " + args
		}
		l.n++
	}, funcr.Options{})
}

func (l *errorLog) errors() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, l.first
}

// snoozes counts the times River put a delivery job back (an older delivery of its subject
// pending, no free slot for its endpoint): each is a job run that sent nothing. It reads
// River's own count, `snoozes` in each job's metadata.
func (r *rig) snoozes(b *testing.B) int {
	back, err := store.BackingOf(r.db)
	must(b, err)
	db, q := back.Writer, `SELECT COALESCE(SUM(CAST(json_extract(metadata, '$.snoozes') AS INTEGER)), 0) FROM river_job`
	if back.Backend != "sqlite" {
		db, err = sql.Open("pgx", back.DSN)
		must(b, err)
		defer func() { _ = db.Close() }()
		q = `SELECT COALESCE(SUM((metadata->>'snoozes')::int), 0) FROM river_job`
	}
	var n int
	must(b, db.QueryRowContext(context.Background(), q).Scan(&n))
	return n
}

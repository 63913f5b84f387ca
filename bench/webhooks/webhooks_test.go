// Package webhooks measures webhook delivery (internal/delivery) on SQLite and on PostgreSQL,
// against a local receiver that verifies every request with the Standard Webhooks library:
//
//   - throughput: N events (QUAL_BENCH_EVENTS, default 5,000) over 50 subjects written to one
//     team's outbox, then the dispatcher started and timed until every delivery to every
//     endpoint (QUAL_BENCH_ENDPOINTS, default 1) was answered 204; against, in the same
//     iteration, a bare Go client posting the same signed requests to the same receiver with
//     the dispatcher's send concurrency, without store or queue;
//   - latency: events written at a steady rate (QUAL_BENCH_RATE per second, default 200, for
//     QUAL_BENCH_DURATION, default 10s) while the dispatcher runs; p50 and p99 of the
//     receiver's time of the 2xx minus the time AddEvent returned.
//
// The service runs with the defaults of `qual dispatcher` (32 workers, 4 in flight per
// endpoint, 200 ms poll interval, the default retry schedule); QUAL_BENCH_WORKERS and
// QUAL_BENCH_IN_FLIGHT change the first two. Each run also reports River's snoozes per
// delivery: job runs that sent nothing. Run it with:
//
//	go test -run '^$' -bench WebhookDelivery -benchtime 1x -count 3 -timeout 60m ./bench/webhooks/
package webhooks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/store/pgtest"
)

// pg is this binary's PostgreSQL: QUAL_TEST_POSTGRES_DSN, or a private server started on first
// use.
var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// backend gives a fresh, empty database of one store backend, as a DSN.
type backend struct {
	name string
	dsn  func(b *testing.B) string
}

func backends() []backend {
	return []backend{
		{"sqlite", func(b *testing.B) string { return "sqlite://" + filepath.Join(b.TempDir(), "qual.db") }},
		{"postgres", func(b *testing.B) string { return pg.Database(b) }},
	}
}

// params are the benchmark's sizes, from the environment.
type params struct {
	events    int
	endpoints int
	rate      int
	duration  time.Duration
	workers   int
	inFlight  int
}

func loadParams(b *testing.B) params {
	p := params{events: envInt(b, "QUAL_BENCH_EVENTS", 5000), endpoints: envInt(b, "QUAL_BENCH_ENDPOINTS", 1),
		rate: envInt(b, "QUAL_BENCH_RATE", 200), duration: 10 * time.Second,
		workers: envInt(b, "QUAL_BENCH_WORKERS", 32), inFlight: envInt(b, "QUAL_BENCH_IN_FLIGHT", delivery.DefaultInFlight)}
	if v := os.Getenv("QUAL_BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("QUAL_BENCH_DURATION: %v", err)
		}
		p.duration = d
	}
	return p
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// BenchmarkWebhookDelivery runs both measurements on each backend, each iteration on a fresh
// database.
func BenchmarkWebhookDelivery(b *testing.B) {
	p := loadParams(b)
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			b.Run("throughput", func(b *testing.B) {
				for b.Loop() {
					benchThroughput(b, be, p)
				}
			})
			b.Run("latency", func(b *testing.B) {
				for b.Loop() {
					benchLatency(b, be, p)
				}
			})
		})
	}
}

// benchThroughput drains a backlog of events through the dispatcher, then posts the same
// deliveries with a bare client.
func benchThroughput(b *testing.B, be backend, p params) {
	ctx := context.Background()
	r := newRig(b, be.dsn(b), p)
	evs := writeEvents(b, r.ts, p.events)
	want := len(evs) * len(r.eps)

	done := r.rc.arm(want)
	start := time.Now()
	stop := r.start(ctx)
	wait(b, done, r.rc, want, 10*time.Minute)
	took := time.Since(start)
	r.check(b) // before Stop: a pass Stop interrupts logs its canceled context
	stop()
	first, requests := r.rc.phase()

	done = r.rc.arm(want)
	bare := postBare(b, r, evs, r.concurrency())
	wait(b, done, r.rc, want, time.Minute)

	dps := float64(want) / took.Seconds()
	b.ReportMetric(dps, "deliveries/s")
	b.ReportMetric(float64(len(evs))/took.Seconds(), "events/s")
	b.ReportMetric(bare, "bare-req/s")
	b.ReportMetric(dps/bare, "ratio")
	b.ReportMetric(float64(requests-want), "duplicates")
	b.ReportMetric(float64(r.snoozes(b))/float64(want), "snoozes/delivery")
	if n := r.rc.rejected.Load(); n > 0 {
		b.Errorf("the receiver refused %d of the bare client's requests", n)
	}
	b.Logf("%d events, %d deliveries in %s (%d requests; half by %s, 90%% by %s); bare client at concurrency %d: %.0f req/s",
		len(evs), want, took.Round(time.Millisecond), requests, progress(first, start, 0.5), progress(first, start, 0.9),
		r.concurrency(), bare)
}

// benchLatency writes events at a steady rate while the dispatcher runs and measures each
// delivery from the write to the receiver's 2xx.
func benchLatency(b *testing.B, be backend, p params) {
	ctx := context.Background()
	r := newRig(b, be.dsn(b), p)
	total := int(float64(p.rate) * p.duration.Seconds())
	want := total * len(r.eps)

	stop := r.start(ctx)
	time.Sleep(time.Second) // the first relay pass and the queue's fetch loop are running
	done := r.rc.arm(want)
	written := writeSteadily(b, r.ts, total, p.rate)
	wait(b, done, r.rc, want, 5*time.Minute)
	r.check(b)
	stop()

	first, requests := r.rc.phase()
	lat := latencies(b, first, written)
	b.ReportMetric(percentile(lat, 0.50), "p50_ms")
	b.ReportMetric(percentile(lat, 0.99), "p99_ms")
	b.ReportMetric(percentile(lat, 1), "max_ms")
	b.ReportMetric(float64(requests-want), "duplicates")
	b.ReportMetric(float64(r.snoozes(b))/float64(want), "snoozes/delivery")
	b.Logf("%d events at %d/s, %d deliveries", total, p.rate, want)
}

// wait blocks until the phase is complete, failing the benchmark after limit.
func wait(b *testing.B, done <-chan struct{}, rc *receiver, want int, limit time.Duration) {
	select {
	case <-done:
	case <-time.After(limit):
		got, _ := rc.phase()
		b.Fatalf("after %s the receiver had %d of %d deliveries", limit, len(got), want)
	}
}

// progress is when the receiver had the fraction q of its deliveries, since start.
func progress(first map[key]time.Time, start time.Time, q float64) time.Duration {
	at := make([]float64, 0, len(first))
	for _, t := range first {
		at = append(at, float64(t.Sub(start)))
	}
	slices.Sort(at)
	return time.Duration(percentile(at, q)).Round(time.Millisecond)
}

// percentile of sorted latencies in ms (q 1: the largest).
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(q*float64(len(sorted))))
	return sorted[i]
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(fmt.Errorf("webhooks bench: %w", err))
	}
}

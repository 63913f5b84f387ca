package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for bulk seeding

	"qual.cx/operator/internal/store"
)

// Benchmarks seed their data inside Benchmark functions only, so `go test` without -bench
// never pays for them.

const benchTeam, benchCampaign = "bench-team", "bench-campaign"

func openBench(b *testing.B, dsn string) store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), dsn, store.WithMaxConns(16))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkInsertMessage appends messages with one writer, and with 8 concurrent writers each on
// its own interview.
func BenchmarkInsertMessage(b *testing.B) {
	for _, be := range backends {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/%dwriters", be.name, writers), func(b *testing.B) {
				benchInsert(b, openBench(b, be.dsn(b)).Team(benchTeam), writers)
			})
		}
	}
}

func benchInsert(b *testing.B, ts store.TeamStore, writers int) {
	ctx := context.Background()
	ivs := make([]store.InterviewID, writers)
	for i := range ivs {
		iv, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: benchCampaign})
		if err != nil {
			b.Fatal(err)
		}
		ivs[i] = iv.ID
	}
	var next atomic.Int64
	b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	msg := store.NewMessage{Role: store.RoleParticipant, Content: strings.Repeat("an answer ", 10)}
	b.ResetTimer()
	start := time.Now()
	if writers == 1 {
		for range b.N {
			mustAppend(b, ts, ivs[0], msg)
		}
	} else {
		b.RunParallel(func(pb *testing.PB) {
			iv := ivs[int(next.Add(1)-1)%writers]
			for pb.Next() {
				mustAppend(b, ts, iv, msg)
			}
		})
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func mustAppend(b *testing.B, ts store.TeamStore, iv store.InterviewID, m store.NewMessage) {
	if _, err := ts.AppendMessage(context.Background(), iv, m); err != nil {
		b.Error(err)
	}
}

// BenchmarkListPage compares page 1 with a page after 1,000,000 rows of one team's interviews,
// sorted by created_at, with and without the total_count query.
func BenchmarkListPage(b *testing.B) {
	const depth = 1_000_000
	for _, be := range backends {
		dsn := be.dsn(b)
		ts := openBench(b, dsn).Team(benchTeam)
		seedInterviews(b, be.driver, be.raw(dsn), depth+1000)
		deep := &store.Position{Time: seedTime(depth), ID: seedID(depth)}
		for _, c := range []struct {
			name  string
			after *store.Position
		}{{"depth=1", nil}, {"depth=1000000", deep}} {
			for _, skip := range []bool{false, true} {
				name := be.name + "/" + c.name
				if skip {
					name += "/no_total"
				}
				b.Run(name, func(b *testing.B) {
					req := store.PageRequest{Order: store.Asc, Limit: 20, After: c.after, SkipTotal: skip}
					for range b.N {
						page, err := ts.ListInterviews(context.Background(), store.InterviewFilter{}, req)
						if err != nil || len(page.Items) != 20 {
							b.Fatalf("page: %d items, %v", len(page.Items), err)
						}
					}
				})
			}
		}
	}
}

var seedBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func seedTime(i int) time.Time { return seedBase.Add(time.Duration(i) * time.Microsecond) }
func seedID(i int) string      { return fmt.Sprintf("00000000-0000-7000-8000-%012d", i) }

// seedInterviews bulk-inserts n interviews numbered 1..n in one statement.
func seedInterviews(b *testing.B, driver, dsn string, n int) {
	q := `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at)
		SELECT printf('00000000-0000-7000-8000-%012d', i), ?, ?, 'in_progress', ? + i, ? + i FROM s`
	args := []any{n, benchTeam, benchCampaign, seedBase.UnixMicro(), seedBase.UnixMicro()}
	if driver == "pgx" {
		q = `INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at)
			SELECT '00000000-0000-7000-8000-' || lpad(i::text, 12, '0'), $2, $3, 'in_progress',
				$4::timestamptz + i * interval '1 microsecond', $4::timestamptz + i * interval '1 microsecond'
			FROM generate_series(1, $1) i`
		args = []any{n, benchTeam, benchCampaign, seedBase}
	}
	rawExec(b, driver, dsn, q, args...)
	rawExec(b, driver, dsn, "ANALYZE")
}

// rawExec runs one statement outside the store, for seeding.
func rawExec(b *testing.B, driver, dsn, q string, args ...any) {
	b.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	if _, err := db.Exec(q, args...); err != nil {
		b.Fatalf("seed: %v", err)
	}
	b.Logf("%s: %s in %v", driver, strings.Fields(q)[0], time.Since(start).Round(time.Millisecond))
}

// BenchmarkSQLiteMillionMessages seeds 1,000,000 messages (1,000 interviews of 1,000) into a
// SQLite store, reads pages from it, and reports the file size, Go heap and process RSS.
func BenchmarkSQLiteMillionMessages(b *testing.B) {
	const interviews, perInterview = 1000, 1000
	path := filepath.Join(b.TempDir(), "million.db")
	ts := openBench(b, "sqlite://"+path).Team(benchTeam)
	seedInterviews(b, "sqlite", path, interviews)
	rawExec(b, "sqlite", path, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ? - 1)
		INSERT INTO messages (id, team_id, interview_id, role, content, sequence, created_at)
		SELECT printf('10000000-0000-7000-8000-%012d', i), ?, printf('00000000-0000-7000-8000-%012d', i / ? + 1),
			CASE i % 2 WHEN 0 THEN 'interviewer' ELSE 'participant' END,
			printf('Message %d: the participant explains, in a sentence or two, what they think.', i),
			i % ? + 1, ? + i FROM s`, interviews*perInterview, benchTeam, perInterview, perInterview, seedBase.UnixMicro())
	rawExec(b, "sqlite", path, "PRAGMA wal_checkpoint(TRUNCATE)")
	b.Run("list", func(b *testing.B) {
		iv := store.InterviewID(seedID(interviews / 2))
		after := &store.Position{Sequence: perInterview / 2}
		for range b.N {
			if _, err := ts.ListMessages(context.Background(), iv, store.PageRequest{Limit: 20, After: after}); err != nil {
				b.Fatal(err)
			}
		}
		reportMemory(b, path)
	})
}

// reportMemory reports the database file size (with WAL), the Go heap after GC and the RSS.
func reportMemory(b *testing.B, path string) {
	var size int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			size += fi.Size()
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(size)/(1<<20), "file-MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(rssMiB(), "rss-MiB")
}

// rssMiB reads the resident set size from /proc/self/status.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

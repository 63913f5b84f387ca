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

	"github.com/google/uuid"
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

// BenchmarkListPage lists 20-interview pages of one team holding 1,001,000 interviews
// (QUAL_BENCH_SIZE=n seeds n+1000 instead), sorted by created_at: page 1 and the page after row
// 1,000,000, with no filter, one campaign (half the rows) and one status (a quarter). Each runs
// three ways, side by side in one run:
//   - counters: ListInterviews as it is, total_count from interview_counts;
//   - count_star: the page without total plus the COUNT(*) total_count used to cost (the
//     baseline: what the same call cost before the counters);
//   - no_total: the page alone (SkipTotal).
func BenchmarkListPage(b *testing.B) {
	size := benchEnv(b, "QUAL_BENCH_SIZE", 1_000_000)
	ctx := context.Background()
	for _, be := range backends {
		dsn := be.dsn(b)
		ts := openBench(b, dsn).Team(benchTeam)
		seedInterviews(b, be.driver, be.raw(dsn), size+1000)
		raw := openRaw(b, be.driver, be.raw(dsn))
		deep := &store.Position{Time: seedTime(size), ID: seedID(size)}
		for _, flt := range []struct {
			name string
			f    store.InterviewFilter
		}{
			{"all", store.InterviewFilter{}},
			{"campaign", store.InterviewFilter{CampaignID: benchCampaign}},
			{"status", store.InterviewFilter{Status: store.InterviewCompleted}},
		} {
			want := countStar(b, raw, be.driver, flt.f)
			for _, at := range []struct {
				name  string
				after *store.Position
			}{{"depth=1", nil}, {fmt.Sprintf("depth=%d", size), deep}} {
				for _, mode := range []string{"counters", "count_star", "no_total"} {
					b.Run(be.name+"/"+flt.name+"/"+at.name+"/"+mode, func(b *testing.B) {
						req := store.PageRequest{Order: store.Asc, Limit: 20, After: at.after, SkipTotal: mode != "counters"}
						for range b.N {
							page, err := ts.ListInterviews(ctx, flt.f, req)
							if err != nil || len(page.Items) != 20 {
								b.Fatalf("page: %d items, %v", len(page.Items), err)
							}
							if mode == "count_star" {
								page.TotalCount = countStar(b, raw, be.driver, flt.f)
							}
							if mode != "no_total" && page.TotalCount != want {
								b.Fatalf("total_count %d, COUNT(*) %d", page.TotalCount, want)
							}
						}
					})
				}
			}
		}
	}
}

// BenchmarkMessagePage lists 20-message pages of one interview holding 100,000 messages
// (QUAL_BENCH_MESSAGES=n for n): page 1 and the page after message n-1000, three ways as in
// BenchmarkListPage (counters here means total_count from the interview's message_count).
func BenchmarkMessagePage(b *testing.B) {
	n := benchEnv(b, "QUAL_BENCH_MESSAGES", 100_000)
	ctx := context.Background()
	for _, be := range backends {
		dsn := be.dsn(b)
		ts := openBench(b, dsn).Team(benchTeam)
		seedInterviews(b, be.driver, be.raw(dsn), 1)
		seedMessages(b, be.driver, be.raw(dsn), 1, n)
		raw := openRaw(b, be.driver, be.raw(dsn))
		iv := store.InterviewID(seedID(1))
		count := `SELECT COUNT(*) FROM messages WHERE team_id = ? AND interview_id = ?`
		for _, at := range []struct {
			name  string
			after *store.Position
		}{{"depth=1", nil}, {fmt.Sprintf("depth=%d", n-1000), &store.Position{Sequence: int64(n - 1000)}}} {
			for _, mode := range []string{"counters", "count_star", "no_total"} {
				b.Run(be.name+"/"+at.name+"/"+mode, func(b *testing.B) {
					req := store.PageRequest{Limit: 20, After: at.after, SkipTotal: mode != "counters"}
					for range b.N {
						page, err := ts.ListMessages(ctx, iv, req)
						if err != nil || len(page.Items) != 20 {
							b.Fatalf("page: %d items, %v", len(page.Items), err)
						}
						if mode == "count_star" {
							page.TotalCount = rawCount(b, raw, be.driver, count, benchTeam, iv)
						}
						if mode != "no_total" && page.TotalCount != int64(n) {
							b.Fatalf("total_count %d, want %d", page.TotalCount, n)
						}
					}
				})
			}
		}
	}
}

// BenchmarkAppendTurn is the store's share of one interview turn: in one InTx, the
// participant's answer and the interviewer's reply, each at the sequence read before (the
// precondition the REST layer uses). One writer, and 8 writers each on its own interview.
func BenchmarkAppendTurn(b *testing.B) {
	for _, be := range backends {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/%dwriters", be.name, writers), func(b *testing.B) {
				ts := openBench(b, be.dsn(b)).Team(benchTeam)
				runWriters(b, writers, func() func() {
					iv, seq := mustCreate(b, ts), int64(1)
					return func() {
						mustTurn(b, ts, iv, seq)
						seq += 2
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
			})
		}
	}
}

// mustTurn appends an answer at seq and a reply at seq+1 in one transaction.
func mustTurn(b *testing.B, ts store.TeamStore, iv store.InterviewID, seq int64) {
	err := ts.InTx(context.Background(), func(tx store.TeamStore) error {
		ctx := context.Background()
		if _, err := tx.AppendMessage(ctx, iv, store.NewMessage{Role: store.RoleParticipant, Content: "an answer", Sequence: seq}); err != nil {
			return err
		}
		_, err := tx.AppendMessage(ctx, iv, store.NewMessage{Role: store.RoleInterviewer, Content: "a reply", Sequence: seq + 1})
		return err
	})
	if err != nil {
		b.Error(err)
	}
}

// BenchmarkCreateInterview creates interviews in one team and campaign, with one writer and
// with 8: each create also bumps two counter rows, the team-wide one shared by every create of
// the team.
func BenchmarkCreateInterview(b *testing.B) {
	for _, be := range backends {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/%dwriters", be.name, writers), func(b *testing.B) {
				ts := openBench(b, be.dsn(b)).Team(benchTeam)
				runWriters(b, writers, func() func() { return func() { mustCreate(b, ts) } })
			})
		}
	}
}

func mustCreate(b *testing.B, ts store.TeamStore) store.InterviewID {
	iv, err := ts.CreateInterview(context.Background(), store.NewInterview{CampaignID: benchCampaign})
	if err != nil {
		b.Fatal(err)
	}
	return iv.ID
}

// runWriters times b.N calls shared by writers goroutines (one writer: the benchmark's own),
// each calling the op that setup made for it, untimed.
func runWriters(b *testing.B, writers int, setup func() func()) {
	if writers == 1 {
		op := setup()
		b.ResetTimer()
		for range b.N {
			op()
		}
		return
	}
	// RunParallel starts parallelism x GOMAXPROCS goroutines: at least writers.
	parallelism := (writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	ops := make([]func(), parallelism*runtime.GOMAXPROCS(0))
	for i := range ops {
		ops[i] = setup()
	}
	var next atomic.Int64
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		op := ops[next.Add(1)-1]
		for pb.Next() {
			op()
		}
	})
}

// benchEnv reads a positive size from the environment, or returns def.
func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2000 {
		b.Fatalf("%s=%q: want a number of at least 2000", name, v)
	}
	return n
}

var seedBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func seedTime(i int) time.Time { return seedBase.Add(time.Duration(i) * time.Microsecond) }
func seedID(i int) string      { return fmt.Sprintf("00000000-0000-7000-8000-%012d", i) }

// seedInterviews bulk-inserts n interviews numbered 1..n in one statement, behind the store's
// back, then fills interview_counts as migration 00002 backfills it. Even-numbered interviews
// are in benchCampaign, odd ones spread over 20,000 other campaigns; one in four is completed,
// one in four abandoned.
func seedInterviews(b *testing.B, driver, dsn string, n int) {
	q := `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at)
		SELECT printf('00000000-0000-7000-8000-%012d', i), ?,
			CASE i % 2 WHEN 0 THEN ? ELSE printf('campaign-%d', i % 20000) END,
			CASE i % 4 WHEN 1 THEN 'completed' WHEN 3 THEN 'abandoned' ELSE 'in_progress' END,
			? + i, ? + i FROM s`
	args := []any{n, benchTeam, benchCampaign, seedBase.UnixMicro(), seedBase.UnixMicro()}
	if driver == "pgx" {
		q = `INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at)
			SELECT '00000000-0000-7000-8000-' || lpad(i::text, 12, '0'), $2,
				CASE i % 2 WHEN 0 THEN $3 ELSE 'campaign-' || (i % 20000) END,
				CASE i % 4 WHEN 1 THEN 'completed' WHEN 3 THEN 'abandoned' ELSE 'in_progress' END,
				$4::timestamptz + i * interval '1 microsecond', $4::timestamptz + i * interval '1 microsecond'
			FROM generate_series(1, $1) i`
		args = []any{n, benchTeam, benchCampaign, seedBase}
	}
	rawExec(b, driver, dsn, q, args...)
	rawExec(b, driver, dsn, `INSERT INTO interview_counts (team_id, campaign_id, status, n)
		SELECT team_id, campaign_id, status, COUNT(*) FROM interviews GROUP BY team_id, campaign_id, status
		UNION ALL
		SELECT team_id, '', status, COUNT(*) FROM interviews GROUP BY team_id, status`)
	rawExec(b, driver, dsn, "ANALYZE")
}

// seedMessages bulk-inserts per messages into each of the interviews 1..interviews, alternating
// interviewer and participant, and sets the interviews' message and question counts to match.
func seedMessages(b *testing.B, driver, dsn string, interviews, per int) {
	q := `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ? - 1)
		INSERT INTO messages (id, team_id, interview_id, role, content, sequence, created_at)
		SELECT printf('10000000-0000-7000-8000-%012d', i), ?, printf('00000000-0000-7000-8000-%012d', i / ? + 1),
			CASE i % 2 WHEN 0 THEN 'interviewer' ELSE 'participant' END,
			printf('Message %d: the participant explains, in a sentence or two, what they think.', i),
			i % ? + 1, ? + i FROM s`
	args := []any{interviews * per, benchTeam, per, per, seedBase.UnixMicro()}
	if driver == "pgx" {
		q = `INSERT INTO messages (id, team_id, interview_id, role, content, sequence, created_at)
			SELECT '10000000-0000-7000-8000-' || lpad(i::text, 12, '0'), $2,
				'00000000-0000-7000-8000-' || lpad((i / $3 + 1)::text, 12, '0'),
				CASE i % 2 WHEN 0 THEN 'interviewer' ELSE 'participant' END,
				'Message ' || i || ': the participant explains, in a sentence or two, what they think.',
				i % $3 + 1, $4::timestamptz + i * interval '1 microsecond'
			FROM generate_series(0, $1 - 1) i`
		args = []any{interviews * per, benchTeam, per, seedBase}
	}
	rawExec(b, driver, dsn, q, args...)
	rawExec(b, driver, dsn, `UPDATE interviews SET
		message_count = (SELECT COUNT(*) FROM messages m WHERE m.interview_id = interviews.id),
		question_count = (SELECT COUNT(*) FROM messages m WHERE m.interview_id = interviews.id AND m.role = 'interviewer')`)
	rawExec(b, driver, dsn, "ANALYZE")
}

// openRaw opens a database/sql handle beside the store, for the COUNT(*) baselines.
func openRaw(b *testing.B, driver, dsn string) *sql.DB {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// countStar is the interview list's former total_count: COUNT(*) over the filter's matches.
func countStar(b *testing.B, db *sql.DB, driver string, f store.InterviewFilter) int64 {
	q, args := "SELECT COUNT(*) FROM interviews WHERE team_id = ?", []any{benchTeam}
	if f.CampaignID != "" {
		q, args = q+" AND campaign_id = ?", append(args, f.CampaignID)
	}
	if f.Status != "" {
		q, args = q+" AND status = ?", append(args, f.Status)
	}
	return rawCount(b, db, driver, q, args...)
}

// rawCount runs a COUNT query written with '?' placeholders.
func rawCount(b *testing.B, db *sql.DB, driver, q string, args ...any) int64 {
	if driver == "pgx" {
		for i := range args {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i+1), 1)
		}
	}
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
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
	seedMessages(b, "sqlite", path, interviews, perInterview)
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

// BenchmarkDeleteInterview deletes an interview (with its message) while the idempotency table
// holds none, or 10,000 or 100,000 recorded answers (a busy day's keyed POSTs, 600 bytes
// each): deletion erases every answer that names the interview, which reads them all once.
// The row with no records is the baseline of the ratio.
func BenchmarkDeleteInterview(b *testing.B) {
	for _, be := range backends {
		for _, records := range []int{0, 10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%drecords", be.name, records), func(b *testing.B) {
				s := openBench(b, be.dsn(b))
				seedRecords(b, s, records)
				ts := s.Team(benchTeam)
				ids := make([]store.InterviewID, b.N)
				for i := range ids {
					ids[i] = mustCreate(b, ts)
					if _, err := ts.AppendMessage(context.Background(), ids[i], store.NewMessage{Role: store.RoleParticipant, Content: "an answer"}); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for _, id := range ids {
					if err := ts.DeleteInterview(context.Background(), id); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// seedRecords stores n completed idempotency records of other requests, spread over 100 callers,
// each naming an object of its own and one of 100 campaigns, as an interview start's answer does.
func seedRecords(b *testing.B, s store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	for i := range n {
		records := s.Team(store.TeamID(fmt.Sprintf("caller:%d", i%100)))
		key := strconv.Itoa(i)
		body := []byte(fmt.Sprintf(`{"data":{"id":"%s","campaign_id":"0a7e57ed-0000-4000-8000-%012d","status":"in_progress","text":"%s"}}`,
			uuid.NewString(), i%100, strings.Repeat("y", 430)))
		if _, err := records.SaveIdempotency(ctx, store.IdempotencyRecord{Key: key, RequestHash: []byte{1}, StatusCode: 201, Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdempotentAnswer records one idempotent request's answer: its claim, then its
// completion, which first looks for erasures since the claim (the erasure race), among none
// recorded (the baseline), or 10,000 recorded within the minute before (a mass erasure, the
// worst case: every one is recent enough to matter).
func BenchmarkIdempotentAnswer(b *testing.B) {
	// An interview start's answer: it names the interview and its campaign.
	body := []byte(`{"data":{"id":"0a7e57ed-0000-4000-8000-0000000000a1","campaign_id":"0a7e57ed-0000-4000-8000-0000000000c1","text":"` +
		strings.Repeat("y", 430) + `"}}`)
	for _, be := range backends {
		for _, erased := range []int{0, 10_000} {
			b.Run(fmt.Sprintf("%s/%derasures", be.name, erased), func(b *testing.B) {
				s := openBench(b, be.dsn(b))
				ts := s.Team(benchTeam)
				for range erased {
					if err := ts.DeleteInterview(context.Background(), mustCreate(b, ts)); err != nil {
						b.Fatal(err)
					}
				}
				records := s.Team("caller:bench")
				b.ResetTimer()
				for i := range b.N {
					key := strconv.Itoa(i)
					claim, err := records.SaveIdempotency(context.Background(), store.IdempotencyRecord{Key: key, RequestHash: []byte{1}})
					if err != nil {
						b.Fatal(err)
					}
					if err := records.CompleteIdempotency(context.Background(), claim, 201, body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEraseAmongFindingEvents erases interviews one by one from a campaign whose history
// holds no other finding events (the baseline), 10,000 or 100,000 (QUAL_BENCH_EVENTS=n for n
// instead of 100,000): finding.created events, about 700 bytes each, of manual findings and of
// analysis findings an earlier erasure redacted, each quoting three other interviews, which
// every erasure keeps. Each erased interview was read by an analysis and is quoted by a manual
// finding, whose event the erasure deletes before announcing the finding without the quote.
func BenchmarkEraseAmongFindingEvents(b *testing.B) {
	for _, be := range backends {
		for _, events := range []int{0, 10_000, benchEnv(b, "QUAL_BENCH_EVENTS", 100_000)} {
			b.Run(fmt.Sprintf("%s/%devents", be.name, events), func(b *testing.B) {
				dsn := be.dsn(b)
				ts := openBench(b, dsn).Team(benchTeam)
				seedFindingEvents(b, ts, events)
				ids := make([]store.InterviewID, b.N)
				for i := range ids {
					ids[i] = quotedInterview(b, ts)
				}
				// As if an analysis whose findings were stored had read them: the erasure then
				// also looks for the campaign's analysis findings' events.
				rawExec(b, be.driver, be.raw(dsn), "UPDATE interviews SET analysed = TRUE")
				rawExec(b, be.driver, be.raw(dsn), "ANALYZE")
				b.ResetTimer()
				for _, id := range ids {
					if err := ts.DeleteInterview(context.Background(), id); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// seedFindingEvents announces n findings of benchCampaign, 1,000 to a transaction: every other
// one a manual finding, the rest analysis findings as an erasure redacted them.
func seedFindingEvents(b *testing.B, ts store.TeamStore, n int) {
	b.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		err := ts.InTx(ctx, func(tx store.TeamStore) error {
			for i := start; i < min(start+1000, n); i++ {
				f := store.Finding{ID: store.FindingID(uuid.NewString()), CampaignID: benchCampaign, Type: store.FindingTheme,
					Title: "Pricing limits surprise new teams", Summary: strings.Repeat("s", 200), Frequency: 3,
					Sentiment: store.SentimentNeutral, Confidence: 0.5, Tags: []string{"pricing", "limits"}, Source: store.SourceManual}
				if i%2 == 1 {
					f.Title, f.Summary, f.Tags, f.Source = store.RedactedTitle, "", nil, store.SourceAnalysis
				}
				for range 3 {
					f.Evidence = append(f.Evidence, store.Evidence{InterviewID: store.InterviewID(uuid.NewString()), Quote: "the limits were hidden"})
				}
				if err := store.AnnounceFinding(ctx, tx, store.EventFindingCreated, f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// quotedInterview makes an interview of benchCampaign with an answer, quoted by a manual
// finding announced as the REST API announces it.
func quotedInterview(b *testing.B, ts store.TeamStore) store.InterviewID {
	ctx := context.Background()
	iv := mustCreate(b, ts)
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		m, err := tx.AppendMessage(ctx, iv, store.NewMessage{Role: store.RoleParticipant, Content: "an answer"})
		if err != nil {
			return err
		}
		f, err := tx.CreateFinding(ctx, store.NewFinding{CampaignID: benchCampaign, Type: store.FindingInsight, Title: "a finding",
			Evidence: []store.Evidence{{InterviewID: iv, MessageID: m.ID, Quote: "answer"}}})
		if err != nil {
			return err
		}
		return store.AnnounceFinding(ctx, tx, store.EventFindingCreated, f)
	})
	if err != nil {
		b.Fatal(err)
	}
	return iv
}

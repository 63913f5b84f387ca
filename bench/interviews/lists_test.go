package interviews

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for bulk seeding

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/cursor"
	"qual.cx/operator/internal/teststack"
)

// benchLists seeds a team of its own with QUAL_BENCH_INTERVIEWS interviews (default 100,000),
// the oldest of which holds QUAL_BENCH_MESSAGES messages (default 100,000), in bulk SQL straight
// into the store's database, and times pages of the two lists through the API.
func benchLists(b *testing.B, st *stack) {
	size := envSize(b, "QUAL_BENCH_INTERVIEWS", 100_000)
	messages := envSize(b, "QUAL_BENCH_MESSAGES", 100_000)
	t := st.newTeam(b, "lists", qualv1alpha1.CampaignSpec{Title: "Pricing research", MaxQuestions: 10,
		Mode: qualv1alpha1.ModeResearch, Settings: qualv1alpha1.CampaignSettings{Language: "en"}})
	raw, err := sql.Open(st.be.driver, st.be.raw(st.dsn))
	must(b, err)
	defer func() { _ = raw.Close() }()
	seed(b, raw, st.be.driver, t, size, messages)
	if n := count(b, raw, st.be.driver, "SELECT COUNT(*) FROM interviews WHERE team_id = ?", t.uid); n != size {
		b.Fatalf("seeded %d interviews, COUNT(*) is %d", size, n)
	}
	iv := seedID(1)
	if n := count(b, raw, st.be.driver, "SELECT COUNT(*) FROM messages WHERE team_id = ? AND interview_id = ?", t.uid, iv); n != messages {
		b.Fatalf("seeded %d messages, COUNT(*) is %d", messages, n)
	}

	codec := cursor.NewCodec(teststack.CursorKey)
	mid := size / 2
	// The page after interview mid in the list's default order (created_at, newest first), as
	// the cursor the server would have given for it.
	deepInterviews := codec.Encode(cursor.Position{SortBy: "created_at", Value: seedTime(mid).Format(time.RFC3339Nano), ID: seedID(mid)},
		cursor.Binding("GET /interviews", "desc", nil))
	deepMessages := codec.Encode(cursor.Position{SortBy: "sequence", Value: strconv.Itoa(messages / 2), ID: messageID(messages / 2)},
		cursor.Binding("GET /interviews/{id}/messages", "asc", map[string]string{"interview": iv}))

	ivPath, msgPath := "/interviews?limit=20", "/interviews/"+iv+"/messages?limit=20"
	pages := []struct {
		name        string
		path        func() string
		total       int
		first, last string // ids of the page's first and last items
	}{
		{"interviews/first", func() string { return ivPath }, size, seedID(size), seedID(size - 19)},
		{"interviews/cursor", func() string { return ivPath + "&cursor=" + url.QueryEscape(nextCursor(b, st, t, ivPath)) }, size, seedID(size - 20), seedID(size - 39)},
		{"interviews/deep", func() string { return ivPath + "&cursor=" + url.QueryEscape(deepInterviews) }, size, seedID(mid - 1), seedID(mid - 20)},
		{"messages/first", func() string { return msgPath }, messages, messageID(1), messageID(20)},
		{"messages/cursor", func() string { return msgPath + "&cursor=" + url.QueryEscape(nextCursor(b, st, t, msgPath)) }, messages, messageID(21), messageID(40)},
		{"messages/deep", func() string { return msgPath + "&cursor=" + url.QueryEscape(deepMessages) }, messages, messageID(messages/2 + 1), messageID(messages/2 + 20)},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			path := p.path()
			// Warm: connections, and the rows' pages in the database's cache.
			for range 20 {
				st.do(b, t, "GET", path, "")
			}
			var lat []time.Duration
			for b.Loop() {
				req := st.request(b, t, "GET", path, "")
				begin := time.Now()
				resp, err := st.client.Do(req)
				must(b, err)
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				lat = append(lat, time.Since(begin))
				must(b, err)
				checkPage(b, resp.StatusCode, body, p.total, p.first, p.last)
			}
			slices.Sort(lat)
			var sum time.Duration
			for _, l := range lat {
				sum += l
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(sum/time.Duration(len(lat))), "ms/page")
			b.ReportMetric(ms(lat[(len(lat)-1)*50/100]), "p50-ms")
			b.ReportMetric(ms(lat[(len(lat)-1)*99/100]), "p99-ms")
			b.ReportMetric(float64(p.total), "rows")
			b.Logf("%s %s: %d pages, load average %s", st.be.name, p.name, len(lat), loadAverage())
		})
	}
}

type listPage struct {
	Data []struct {
		ID string `json:"id"`
	} `json:"data"`
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
		TotalCount int     `json:"total_count"`
	} `json:"pagination"`
}

// checkPage checks a page has 20 items, from first to last, more after them, and the exact
// total_count.
func checkPage(b *testing.B, status int, body []byte, total int, first, last string) {
	var p listPage
	if status != http.StatusOK || json.Unmarshal(body, &p) != nil {
		b.Fatalf("%d %.300s", status, body)
	}
	if len(p.Data) != 20 || p.Data[0].ID != first || p.Data[19].ID != last || !p.Pagination.HasMore || p.Pagination.TotalCount != total {
		b.Fatalf("want 20 items %s..%s of %d, got %.300s … %s", first, last, total, body, body[max(0, len(body)-120):])
	}
}

// nextCursor is the next_cursor of a list's first page.
func nextCursor(b *testing.B, st *stack, t team, path string) string {
	status, body := st.do(b, t, "GET", path, "")
	var p listPage
	if status != http.StatusOK || json.Unmarshal(body, &p) != nil || p.Pagination.NextCursor == nil {
		b.Fatalf("first page of %s: %d %.300s", path, status, body)
	}
	return *p.Pagination.NextCursor
}

var seedBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seedTime is when seeded interview i was created (and last updated): one microsecond apart.
func seedTime(i int) time.Time { return seedBase.Add(time.Duration(i) * time.Microsecond) }
func seedID(i int) string      { return fmt.Sprintf("00000000-0000-7000-8000-%012d", i) }
func messageID(seq int) string { return fmt.Sprintf("10000000-0000-7000-8000-%012d", seq) }

// seed inserts n interviews numbered 1..n into the team's campaign in one statement, behind
// the store's back (one in four completed, one in four abandoned, the rest in progress), fills
// the team's interview_counts rows as migration 00002 backfills them, and gives interview 1
// `messages` messages, alternating interviewer and participant, with its counts to match.
func seed(b *testing.B, db *sql.DB, driver string, t team, n, messages int) {
	interviews := `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at, ended_at)
		SELECT printf('00000000-0000-7000-8000-%012d', i), ?, ?,
			CASE i % 4 WHEN 1 THEN 'completed' WHEN 3 THEN 'abandoned' ELSE 'in_progress' END,
			? + i, ? + i, CASE i % 2 WHEN 1 THEN ? + i END FROM s`
	base := any(seedBase.UnixMicro())
	msgs := `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO messages (id, team_id, interview_id, role, content, sequence, created_at)
		SELECT printf('10000000-0000-7000-8000-%012d', i), ?, ?,
			CASE i % 2 WHEN 1 THEN 'interviewer' ELSE 'participant' END,
			printf('Message %d: the participant explains, in a sentence or two, what they think.', i),
			i, ? + i FROM s`
	if driver == "pgx" {
		interviews = `INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at, ended_at)
			SELECT '00000000-0000-7000-8000-' || lpad(i::text, 12, '0'), ?, ?,
				CASE i % 4 WHEN 1 THEN 'completed' WHEN 3 THEN 'abandoned' ELSE 'in_progress' END,
				?::timestamptz + i * interval '1 microsecond', ?::timestamptz + i * interval '1 microsecond',
				CASE i % 2 WHEN 1 THEN ?::timestamptz + i * interval '1 microsecond' END
			FROM generate_series(1, ?::bigint) i`
		msgs = `INSERT INTO messages (id, team_id, interview_id, role, content, sequence, created_at)
			SELECT '10000000-0000-7000-8000-' || lpad(i::text, 12, '0'), ?, ?,
				CASE i % 2 WHEN 1 THEN 'interviewer' ELSE 'participant' END,
				'Message ' || i || ': the participant explains, in a sentence or two, what they think.',
				i, ?::timestamptz + i * interval '1 microsecond'
			FROM generate_series(1, ?::bigint) i`
		base = seedBase
		exec(b, db, driver, interviews, t.uid, t.campaign, base, base, base, n)
		exec(b, db, driver, msgs, t.uid, seedID(1), base, messages)
	} else {
		exec(b, db, driver, interviews, n, t.uid, t.campaign, base, base, base)
		exec(b, db, driver, msgs, messages, t.uid, seedID(1), base)
	}
	exec(b, db, driver, `INSERT INTO interview_counts (team_id, campaign_id, status, n)
		SELECT team_id, campaign_id, status, COUNT(*) FROM interviews WHERE team_id = ? GROUP BY team_id, campaign_id, status
		UNION ALL
		SELECT team_id, '', status, COUNT(*) FROM interviews WHERE team_id = ? GROUP BY team_id, status`, t.uid, t.uid)
	exec(b, db, driver, `UPDATE interviews SET message_count = ?, question_count = ? WHERE team_id = ? AND id = ?`,
		messages, (messages+1)/2, t.uid, seedID(1))
	exec(b, db, driver, "ANALYZE")
	if driver == "sqlite" {
		exec(b, db, driver, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
}

// exec runs one statement written with '?' placeholders and logs how long it took.
func exec(b *testing.B, db *sql.DB, driver, q string, args ...any) {
	b.Helper()
	begin := time.Now()
	if _, err := db.Exec(rebind(driver, q), args...); err != nil {
		b.Fatalf("seed: %v\n%s", err, q)
	}
	words := strings.Fields(q)
	b.Logf("%s: %s in %v", driver, strings.Join(words[:min(3, len(words))], " "), time.Since(begin).Round(time.Millisecond))
}

func count(b *testing.B, db *sql.DB, driver, q string, args ...any) int {
	var n int
	if err := db.QueryRow(rebind(driver, q), args...).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// rebind numbers '?' placeholders for PostgreSQL.
func rebind(driver, q string) string {
	if driver != "pgx" {
		return q
	}
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
	}
	return q
}

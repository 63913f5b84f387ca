package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"qual.cx/operator/internal/store"
)

// TestMigrationBackfillsCounts: interviews written before the counters existed (schema version
// 1) are counted once migration 2 runs.
func TestMigrationBackfillsCounts(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			dsn, db := atVersion(t, be, 1)
			// Team t1: campaign c1 has 2 in_progress and 1 completed, c2 1 abandoned; t2: c1 1.
			rows := [][3]string{{"t1", "c1", "in_progress"}, {"t1", "c1", "in_progress"}, {"t1", "c1", "completed"},
				{"t1", "c2", "abandoned"}, {"t2", "c1", "in_progress"}}
			q := rawTimes(be, "INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 0, 0)")
			for i, r := range rows {
				if _, err := db.Exec(q, string(rune('a'+i)), r[0], r[1], r[2]); err != nil {
					t.Fatal(err)
				}
			}
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, c := range []struct {
				team string
				f    store.InterviewFilter
				want int64
			}{
				{"t1", store.InterviewFilter{}, 4},
				{"t1", store.InterviewFilter{CampaignID: "c1"}, 3},
				{"t1", store.InterviewFilter{Status: store.InterviewInProgress}, 2},
				{"t1", store.InterviewFilter{CampaignID: "c2", Status: store.InterviewAbandoned}, 1},
				{"t1", store.InterviewFilter{CampaignID: "c2", Status: store.InterviewCompleted}, 0},
				{"t2", store.InterviewFilter{}, 1},
			} {
				n, err := s.Team(store.TeamID(c.team)).CountInterviews(ctx, c.f)
				if err != nil || n != c.want {
					t.Errorf("team %s %+v: %d, %v; want %d", c.team, c.f, n, err, c.want)
				}
			}
		})
	}
}

// TestMigrationLeavesOldInterviewsWithoutToken: an interview started before participant tokens
// (schema version 8) is read with none after migration 9, so no token reaches it.
func TestMigrationLeavesOldInterviewsWithoutToken(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			dsn, db := atVersion(t, be, 8)
			if _, err := db.Exec(rawTimes(be, "INSERT INTO interviews (id, team_id, campaign_id, status, created_at, updated_at) VALUES ('old', 't1', 'c1', 'in_progress', 0, 0)")); err != nil {
				t.Fatal(err)
			}
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			iv, err := s.Team("t1").GetInterview(ctx, "old")
			if err != nil {
				t.Fatal(err)
			}
			if iv.ParticipantToken != nil || iv.TokenMatches(store.TokenHash{}) {
				t.Fatalf("an interview from before migration 9 has a token: %v", iv.ParticipantToken)
			}
		})
	}
}

// atVersion migrates a fresh database of be up to version and opens it behind the store's
// back, for rows written as an older schema held them; it is closed when the test ends.
func atVersion(t *testing.T, be backend, version int64) (string, *sql.DB) {
	t.Helper()
	dsn := be.dsn(t)
	if err := store.MigrateTo(context.Background(), dsn, version); err != nil {
		t.Fatal(err)
	}
	return dsn, be.open(t, dsn)
}

// rawTimes is q, whose timestamps are written "0, 0", with times the backend's columns take.
func rawTimes(be backend, q string) string {
	if be.driver == "pgx" {
		return strings.ReplaceAll(q, "0, 0", "now(), now()")
	}
	return q
}

// findingEvent is a finding event of team and campaign (c1 being the erased interview's),
// whether erasing the interview deletes it, and whether AddEvent refuses it, its payload not
// being a finding.
type findingEvent struct {
	id, team, campaign, payload string
	erased, refused             bool
}

// findingEvents are finding events about the campaign of interview iv, an analysis of which
// read it, and of other: in Go's JSON spelling and in jsonb's (a space after each colon), those
// quoting iv and those showing an analysis finding as an analysis wrote it are erased with it;
// those showing a finding an earlier erasure redacted, manual ones quoting others, another
// campaign's and another team's stay; payloads of other shapes quote nothing.
func findingEvents(iv, other string) []findingEvent {
	redacted := `"title":"` + store.RedactedTitle + `"`
	return []findingEvent{
		{"evt_quotes", "team", "c1", `{"source":"manual","title":"t","evidence":[{"interview_id":"` + iv + `","quote":"q"}],"tags":[]}`, true, false},
		{"evt_quotes_spaced", "team", "c1", `{"source": "manual", "evidence": [{"interview_id": "` + other + `"}, {"interview_id": "` + iv + `"}]}`, true, false},
		{"evt_analysis", "team", "c1", `{"source":"analysis","title":"Pricing","evidence":[],"tags":["pricing"]}`, true, false},
		{"evt_analysis_spaced", "team", "c1", `{"source": "analysis", "title": "Pricing", "evidence": [], "tags": []}`, true, false},
		{"evt_redacted_tagged", "team", "c1", `{"source":"analysis",` + redacted + `,"evidence":[],"tags":["pricing"]}`, true, false},
		{"evt_redacted_untagged", "team", "c1", `{"source":"analysis",` + redacted + `,"evidence":[]}`, true, false},
		{"evt_redacted", "team", "c1", `{"source":"analysis",` + redacted + `,"evidence":[{"interview_id":"` + other + `"}],"tags":[]}`, false, false},
		{"evt_redacted_spaced", "team", "c1", `{"source": "analysis", "title": "` + store.RedactedTitle + `", "evidence": [], "tags": []}`, false, false},
		{"evt_manual_other", "team", "c1", `{"source":"manual","title":"t","evidence":[{"interview_id":"` + other + `"}],"tags":["x"]}`, false, false},
		{"evt_other_campaign", "team", "c2", `{"source":"analysis","title":"Pricing","evidence":[],"tags":["pricing"]}`, false, false},
		{"evt_other_team", "team2", "c1", `{"source":"manual","evidence":[{"interview_id":"` + iv + `"}]}`, false, false},
		{"evt_odd_evidence", "team", "c1", `{"source":"manual","evidence":{"interview_id":"` + iv + `"}}`, false, true},
		{"evt_odd_quotes", "team", "c1", `{"source":"manual","evidence":["` + iv + `", 1, {"interview_id": 7}, null]}`, false, true},
		{"evt_odd_payload", "team", "c1", `["analysis"]`, false, true},
	}
}

// checkErased checks which of events erasing iv left in s.
func checkErased(t *testing.T, s store.Store, iv store.InterviewID, events []findingEvent) {
	t.Helper()
	ctx := context.Background()
	if err := s.Team("team").DeleteInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.refused {
			continue
		}
		_, err := s.Team(store.TeamID(ev.team)).GetEvent(ctx, store.EventID(ev.id))
		if gone := errors.Is(err, store.ErrNotFound); gone != ev.erased || (err != nil && !gone) {
			t.Errorf("%s after the erasure: %v, want erased %v", ev.id, err, ev.erased)
		}
	}
}

// TestErasureFindsFindingEventsWrittenBeforeTheIndex: finding events written before migration
// 14, which records what an erasure looks for in them, are erased after it as AddEvent's are
// (findingEvents), and payloads AddEvent refuses stay and do not stop the migration.
func TestErasureFindsFindingEventsWrittenBeforeTheIndex(t *testing.T) {
	const iv, other = "0a7e57ed-0000-4000-8000-0000000000d1", "0a7e57ed-0000-4000-8000-0000000000d2"
	events := findingEvents(iv, other)
	for i := range events {
		events[i].refused = false // written before AddEvent read payloads
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			dsn, db := atVersion(t, be, 13)
			if _, err := db.Exec(rawTimes(be, "INSERT INTO interviews (id, team_id, campaign_id, status, analysed, created_at, updated_at) VALUES ($1, 'team', 'c1', 'completed', TRUE, 0, 0)"), iv); err != nil {
				t.Fatal(err)
			}
			// created_at and dispatched_at: sent events are erased as pending ones are.
			q := rawTimes(be, "INSERT INTO events (id, team_id, type, subject, campaign_id, payload, created_at, dispatched_at) VALUES ($1, $2, 'finding.updated', $1, $3, $4, 0, 0)")
			for _, ev := range events {
				if _, err := db.Exec(q, ev.id, ev.team, ev.campaign, ev.payload); err != nil {
					t.Fatal(err)
				}
			}
			s, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkErased(t, s, iv, events)
		})
	}
}

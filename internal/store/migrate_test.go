package store_test

import (
	"context"
	"database/sql"
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
	db, err := sql.Open(be.driver, be.raw(dsn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return dsn, db
}

// rawTimes is q, whose timestamps are written "0, 0", with times the backend's columns take.
func rawTimes(be backend, q string) string {
	if be.driver == "pgx" {
		return strings.ReplaceAll(q, "0, 0", "now(), now()")
	}
	return q
}

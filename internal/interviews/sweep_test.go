package interviews_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"qual.cx/operator/internal/interviews"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

// The sweep abandons, across teams and in batches, every interview idle since before the
// timeout, and leaves alone the ones active since.
func TestSweepAbandonsOnlyIdleInterviews(t *testing.T) {
	ctx := context.Background()
	db, closeDB, err := testenv.TempStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	var idle []store.InterviewID
	for i := range 1203 { // more than two batches, over two teams
		ts := db.Team(store.TeamID([]string{"team-a", "team-b"}[i%2]))
		iv, err := ts.CreateInterview(ctx, store.NewInterview{CampaignID: "c-1"})
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, iv.ID)
	}
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	active, err := db.Team("team-a").CreateInterview(ctx, store.NewInterview{CampaignID: "c-1"})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = time.Hour
	s := &interviews.Sweeper{Store: db, IdleTimeout: timeout, Log: logr.Discard(), Now: func() time.Time { return cut.Add(timeout) }}
	n, err := s.Sweep(ctx)
	if err != nil || n != len(idle) {
		t.Fatalf("swept %d (%v), want %d", n, err, len(idle))
	}
	for _, team := range []store.TeamID{"team-a", "team-b"} {
		left, err := db.Team(team).CountInterviews(ctx, store.InterviewFilter{Status: store.InterviewInProgress})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[store.TeamID]int64{"team-a": 1, "team-b": 0}[team]; left != want {
			t.Errorf("%s: %d in progress, want %d", team, left, want)
		}
	}
	if iv, err := db.Team("team-a").GetInterview(ctx, active.ID); err != nil || iv.Status != store.InterviewInProgress {
		t.Fatalf("the active interview: %+v %v", iv, err)
	}
	if iv, err := db.Team("team-b").GetInterview(ctx, idle[1]); err != nil || iv.Status != store.InterviewAbandoned || iv.EndedAt == nil {
		t.Fatalf("an idle interview: %+v %v", iv, err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a second sweep: %d %v", n, err)
	}
}

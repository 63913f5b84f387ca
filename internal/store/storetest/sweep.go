package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

// testIdleSweep: the sweep abandons, oldest first and in every team, exactly the in_progress
// interviews idle since before the cut; recently active and ended ones stay as they were.
func testIdleSweep(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	done := interview(t, f.a, f.campA)
	must(f.a.EndInterview(f.ctx, done.ID, store.InterviewCompleted))(t)
	idleA := interview(t, f.a, f.campA)
	idleB := interview(t, f.b, f.campB)
	active := interview(t, f.a, f.campA)
	time.Sleep(2 * time.Millisecond) // the store's clock is in microseconds; keep the cut clear
	cut := time.Now()
	time.Sleep(2 * time.Millisecond)
	say(t, f.a, active.ID, store.RoleParticipant, "still here") // active since the cut
	fresh := interview(t, f.a, f.campB)

	for _, limit := range []int{0, -1, store.MaxSweepLimit + 1} {
		_, err := f.s.AbandonIdleInterviews(f.ctx, cut, limit)
		isErr(t, err, store.ErrInvalidInput)
	}
	first := must(f.s.AbandonIdleInterviews(f.ctx, cut, 1))(t)
	same(t, first, []store.IdleInterview{{TeamID: f.a.Team(), CampaignID: f.campA, InterviewID: idleA.ID}})
	rest := must(f.s.AbandonIdleInterviews(f.ctx, cut, 10))(t)
	same(t, rest, []store.IdleInterview{{TeamID: f.b.Team(), CampaignID: f.campB, InterviewID: idleB.ID}})
	if again := must(f.s.AbandonIdleInterviews(f.ctx, cut, 10))(t); len(again) != 0 {
		t.Fatalf("second sweep abandoned %+v", again)
	}

	got := must(f.a.GetInterview(f.ctx, idleA.ID))(t)
	if got.Status != store.InterviewAbandoned || got.EndedAt == nil || !got.UpdatedAt.After(cut) {
		t.Fatalf("swept interview = %+v", got)
	}
	same(t, must(f.a.GetInterview(f.ctx, done.ID))(t).Status, store.InterviewCompleted)
	for _, iv := range []store.Interview{active, fresh} {
		if got := must(f.a.GetInterview(f.ctx, iv.ID))(t); got.Status != store.InterviewInProgress {
			t.Fatalf("recently active interview %s swept: %+v", iv.ID, got)
		}
	}
	checkCounts(t, f, f.a, f.campA, f.campB)
	checkCounts(t, f, f.b, f.campA, f.campB)
}

// testConcurrentSweep: replicas sweeping at once abandon every idle interview exactly once.
func testConcurrentSweep(t *testing.T, newDSN NewDSN) {
	const idle, sweepers, limit = 60, 4, 4
	f := setup(t, newDSN)
	want := make([]string, 0, idle)
	for i := range idle {
		ts := []store.TeamStore{f.a, f.b}[i%2]
		want = append(want, string(interview(t, ts, f.campA).ID))
	}
	cut := time.Now().Add(time.Second)
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for range sweepers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				swept, err := f.s.AbandonIdleInterviews(f.ctx, cut, limit)
				if err != nil {
					t.Errorf("sweep: %v", err)
					return
				}
				mu.Lock()
				for _, iv := range swept {
					got = append(got, string(iv.InterviewID))
				}
				mu.Unlock()
				if len(swept) < limit {
					return
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(want)
	slices.Sort(got)
	same(t, got, want) // each exactly once
	checkCounts(t, f, f.a, f.campA)
	checkCounts(t, f, f.b, f.campA)
}

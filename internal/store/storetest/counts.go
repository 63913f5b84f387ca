package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"qual.cx/operator/internal/store"
)

var statuses = []store.InterviewStatus{store.InterviewInProgress, store.InterviewCompleted, store.InterviewAbandoned}

// checkCounts compares every interview total of ts (CountInterviews, ListInterviews' TotalCount
// and InterviewCounts) with the interviews a full walk of the list finds, for no filter, each
// status, each of campaigns (which may include campaigns with no interviews left) and each
// campaign and status.
func checkCounts(t *testing.T, f *fixture, ts store.TeamStore, campaigns ...store.CampaignID) {
	t.Helper()
	type key struct {
		c store.CampaignID
		s store.InterviewStatus
	}
	truth := map[key]int64{}
	all := walk(t, func(p store.PageRequest) (store.Page[store.Interview], error) {
		return ts.ListInterviews(f.ctx, store.InterviewFilter{}, p)
	}, store.PageRequest{Limit: store.MaxPageLimit, SkipTotal: true}, nil)
	for _, iv := range all {
		for _, k := range []key{{}, {c: iv.CampaignID}, {s: iv.Status}, {iv.CampaignID, iv.Status}} {
			truth[k]++
		}
		if !slices.Contains(campaigns, iv.CampaignID) {
			campaigns = append(campaigns, iv.CampaignID)
		}
	}
	for _, c := range append([]store.CampaignID{""}, campaigns...) {
		for _, s := range append([]store.InterviewStatus{""}, statuses...) {
			flt := store.InterviewFilter{CampaignID: c, Status: s}
			want := truth[key{c, s}]
			if got := must(ts.CountInterviews(f.ctx, flt))(t); got != want {
				t.Fatalf("CountInterviews(%+v) = %d, %d interviews listed", flt, got, want)
			}
			if got := must(ts.ListInterviews(f.ctx, flt, store.PageRequest{Limit: 1}))(t).TotalCount; got != want {
				t.Fatalf("ListInterviews(%+v).TotalCount = %d, %d interviews listed", flt, got, want)
			}
		}
	}
	want := map[store.CampaignID]int64{}
	for _, c := range campaigns {
		want[c] = truth[key{c: c}]
	}
	same(t, must(ts.InterviewCounts(f.ctx, campaigns))(t), want)
}

// testInterviewCounts: the counters follow every kind of change, one step at a time, in two
// teams that share a campaign id.
func testInterviewCounts(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN, store.WithDeleteBatchSize(3))
	campC := store.CampaignID("campaign-c")
	check := func() {
		t.Helper()
		checkCounts(t, f, f.a, f.campA, f.campB, campC)
		checkCounts(t, f, f.b, f.campA, f.campB, campC)
	}
	check() // nothing yet: every total is 0

	var a []store.Interview
	for i := range 10 {
		a = append(a, interview(t, f.a, []store.CampaignID{f.campA, f.campB}[i%2]))
	}
	for range 4 {
		interview(t, f.b, f.campA)
	}
	interview(t, f.a, campC)
	check()

	must(f.a.EndInterview(f.ctx, a[0].ID, store.InterviewCompleted))(t)
	must(f.a.EndInterview(f.ctx, a[1].ID, store.InterviewAbandoned))(t)
	_, err := f.a.EndInterview(f.ctx, a[0].ID, store.InterviewAbandoned) // refused: no change
	isErr(t, err, store.ErrInvalidState)
	check()

	ok(t, f.a.DeleteInterview(f.ctx, a[0].ID)) // a completed one
	ok(t, f.a.DeleteInterview(f.ctx, a[2].ID)) // an in_progress one
	isErr(t, f.b.DeleteInterview(f.ctx, a[4].ID), store.ErrNotFound)
	check()

	say(t, f.a, a[4].ID, store.RoleInterviewer, "q")
	say(t, f.a, a[4].ID, store.RoleParticipant, "a")
	must(f.a.EndCampaignInterviews(f.ctx, f.campA))(t)
	check()

	// The sweep is across teams: everything still in progress is idle by now.
	must(f.s.AbandonIdleInterviews(f.ctx, time.Now().Add(time.Hour), 3))(t)
	check()
	interview(t, f.a, f.campB)
	must(f.s.AbandonIdleInterviews(f.ctx, time.Now().Add(time.Hour), store.MaxSweepLimit))(t)
	check()

	// A failed transaction leaves the counters as they were.
	boom := fmt.Errorf("boom")
	isErr(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		interview(t, tx, f.campA)
		must(tx.EndCampaignInterviews(f.ctx, f.campA))(t)
		return boom
	}), boom)
	check()

	for range 7 { // more than two delete batches
		interview(t, f.a, f.campB)
	}
	must(f.a.DeleteCampaignData(f.ctx, f.campB))(t)
	check()
	must(f.b.DeleteCampaignData(f.ctx, f.campA))(t)
	check()
	if n := must(f.a.CountInterviews(f.ctx, store.InterviewFilter{}))(t); n != 4 {
		t.Fatalf("team A holds %d interviews, want 4 (campaign A's five minus two deleted, plus C's one)", n)
	}
}

// testConcurrentCounts: creates, ends, deletes, sweeps, campaign ends and campaign deletions
// racing in two teams leave every counter equal to the rows.
func testConcurrentCounts(t *testing.T, newDSN NewDSN) {
	const workers, rounds = 6, 25
	f := setup(t, newDSN, store.WithDeleteBatchSize(4))
	campaigns := []store.CampaignID{f.campA, f.campB, "campaign-c"}
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			ts := []store.TeamStore{f.a, f.b}[w%2]
			for range rounds {
				errs <- raceStep(f, ts, campaigns[rng.IntN(len(campaigns))], rng)
			}
		}()
	}
	wg.Add(1)
	go func() { // a sweeper, as on another replica
		defer wg.Done()
		for range rounds {
			_, err := f.s.AbandonIdleInterviews(f.ctx, time.Now().Add(-5*time.Millisecond), 5)
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, err)
	}
	checkCounts(t, f, f.a, campaigns...)
	checkCounts(t, f, f.b, campaigns...)
}

// raceStep makes a few interviews in a campaign and changes some of the team's interviews at
// random.
func raceStep(f *fixture, ts store.TeamStore, c store.CampaignID, rng *rand.Rand) error {
	var ivs []store.Interview
	for range 3 {
		iv, err := ts.CreateInterview(f.ctx, store.NewInterview{CampaignID: c})
		if err != nil {
			return err
		}
		ivs = append(ivs, iv)
	}
	_, err := ts.AppendMessage(f.ctx, ivs[0].ID, store.NewMessage{Role: store.RoleParticipant, Content: "a"})
	if err = lostRace(err); err != nil {
		return err
	}
	switch rng.IntN(10) {
	case 0:
		_, err = ts.EndCampaignInterviews(f.ctx, c)
	case 1:
		_, err = ts.DeleteCampaignData(f.ctx, c)
	default:
		_, err = ts.EndInterview(f.ctx, ivs[1].ID, statuses[1+rng.IntN(2)])
		if err = lostRace(err); err == nil {
			err = ts.DeleteInterview(f.ctx, ivs[2].ID)
		}
	}
	return lostRace(err)
}

// lostRace drops the errors a change meets when another worker ended or deleted its interview
// first: the counters must be exact whatever wins. ErrConflict is not one of them: each step
// is its own transaction with one counted change, which the store promises never deadlocks.
func lostRace(err error) error {
	for _, lost := range []error{store.ErrInvalidState, store.ErrNotFound} {
		if errors.Is(err, lost) {
			return nil
		}
	}
	return err
}

package storetest

import (
	"errors"
	"testing"

	"qual.cx/operator/internal/store"
)

// testEndCampaignInterviews: ending a campaign completes the interviews the participant
// answered, abandons the rest, returns the completed ones, and touches nothing else; inside
// InTx its events commit or roll back with it.
func testEndCampaignInterviews(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	silent := interview(t, f.a, f.campA)
	asked := interview(t, f.a, f.campA)
	say(t, f.a, asked.ID, store.RoleInterviewer, "Why?")
	answered := interview(t, f.a, f.campA)
	say(t, f.a, answered.ID, store.RoleInterviewer, "Why?")
	say(t, f.a, answered.ID, store.RoleParticipant, "Because.")
	ended := must(f.a.EndInterview(f.ctx, interview(t, f.a, f.campA).ID, store.InterviewAbandoned))(t)
	other := interview(t, f.a, f.campB)
	otherTeam := interview(t, f.b, f.campA) // same campaign id, other team

	_, err := f.a.EndCampaignInterviews(f.ctx, "")
	isErr(t, err, store.ErrInvalidInput)
	boom := errors.New("boom")
	isErr(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		must(tx.EndCampaignInterviews(f.ctx, f.campA))(t)
		return boom
	}), boom)
	same(t, must(f.a.GetInterview(f.ctx, answered.ID))(t).Status, store.InterviewInProgress)

	var completed []store.Interview
	ok(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		completed = must(tx.EndCampaignInterviews(f.ctx, f.campA))(t)
		for range completed {
			must(tx.AddEvent(f.ctx, store.NewEvent{Type: "interview.completed", Payload: []byte(`{}`)}))(t)
		}
		return nil
	}))
	if len(completed) != 1 || completed[0].ID != answered.ID || completed[0].Status != store.InterviewCompleted ||
		completed[0].EndedAt == nil || completed[0].MessageCount != 2 {
		t.Fatalf("completed = %+v", completed)
	}
	same(t, must(f.a.GetInterview(f.ctx, answered.ID))(t), completed[0])
	if n := len(must(f.a.PendingEvents(f.ctx, 10))(t)); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
	for _, iv := range []store.Interview{silent, asked} {
		if got := must(f.a.GetInterview(f.ctx, iv.ID))(t); got.Status != store.InterviewAbandoned || got.EndedAt == nil {
			t.Fatalf("unanswered interview = %+v", got)
		}
	}
	same(t, must(f.a.GetInterview(f.ctx, ended.ID))(t), ended)
	same(t, must(f.a.GetInterview(f.ctx, other.ID))(t), other)
	same(t, must(f.b.GetInterview(f.ctx, otherTeam.ID))(t), otherTeam)
	if again := must(f.a.EndCampaignInterviews(f.ctx, f.campA))(t); again == nil || len(again) != 0 {
		t.Fatalf("second end returned %#v, want an empty slice", again)
	}
	checkCounts(t, f, f.a, f.campA, f.campB)
	checkCounts(t, f, f.b, f.campA, f.campB)
}

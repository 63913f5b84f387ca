package storetest

import (
	"fmt"
	"sync"
	"testing"

	"qual.cx/operator/internal/store"
)

func testInterviews(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	p := store.Participant{Name: "Ada", Email: "ada@example.com", ExternalID: "ext-1",
		Metadata: map[string]any{"plan": "pro", "seats": 3.0}}
	iv := must(f.a.CreateInterview(f.ctx, store.NewInterview{CampaignID: f.campA, Participant: p}))(t)
	if iv.Status != store.InterviewInProgress || iv.CreatedAt.Location().String() != "UTC" {
		t.Fatalf("new interview = %+v", iv)
	}
	same(t, must(f.a.GetInterview(f.ctx, iv.ID))(t), iv)

	ended := must(f.a.EndInterview(f.ctx, iv.ID, store.InterviewCompleted))(t)
	if ended.Status != store.InterviewCompleted || ended.EndedAt == nil {
		t.Fatalf("ended = %+v", ended)
	}
	_, err := f.a.EndInterview(f.ctx, iv.ID, store.InterviewAbandoned)
	isErr(t, err, store.ErrInvalidState)
	_, err = f.a.AppendMessage(f.ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: "late"})
	isErr(t, err, store.ErrInvalidState)
	_, err = f.a.CreateInterview(f.ctx, store.NewInterview{})
	isErr(t, err, store.ErrInvalidInput)

	ok(t, f.a.DeleteInterview(f.ctx, iv.ID))
	_, err = f.a.GetInterview(f.ctx, iv.ID)
	isErr(t, err, store.ErrNotFound)
	isErr(t, f.a.DeleteInterview(f.ctx, iv.ID), store.ErrNotFound)
}

func testMessages(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	q := say(t, f.a, iv.ID, store.RoleInterviewer, "What brought you here?")
	a := say(t, f.a, iv.ID, store.RoleParticipant, "Curiosity.")
	if q.Sequence != 1 || a.Sequence != 2 {
		t.Fatalf("sequences %d, %d", q.Sequence, a.Sequence)
	}
	got := must(f.a.GetInterview(f.ctx, iv.ID))(t)
	if got.MessageCount != 2 || got.QuestionCount != 1 || got.UpdatedAt.Before(iv.UpdatedAt) {
		t.Fatalf("counts after two messages: %+v", got)
	}
	page := must(f.a.ListMessages(f.ctx, iv.ID, store.PageRequest{}))(t)
	same(t, page.Items, []store.Message{q, a})
	if page.TotalCount != 2 || page.HasMore {
		t.Fatalf("page = %+v", page)
	}
	_, err := f.a.AppendMessage(f.ctx, iv.ID, store.NewMessage{Role: "robot"})
	isErr(t, err, store.ErrInvalidInput)
	_, err = f.a.ListMessages(f.ctx, "missing", store.PageRequest{})
	isErr(t, err, store.ErrNotFound)
}

// testConcurrentAppend: 8 writers x 50 messages on one interview keep sequences 1..400.
func testConcurrentAppend(t *testing.T, newDSN NewDSN) {
	const writers, each = 8, 50
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := f.a.AppendMessage(f.ctx, iv.ID, store.NewMessage{
					Role: store.RoleParticipant, Content: fmt.Sprintf("w%d-%d", w, i)})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, err)
	}
	seen := 0
	req := store.PageRequest{Limit: store.MaxPageLimit}
	for {
		page := must(f.a.ListMessages(f.ctx, iv.ID, req))(t)
		for _, m := range page.Items {
			seen++
			if m.Sequence != int64(seen) {
				t.Fatalf("message %d has sequence %d", seen, m.Sequence)
			}
		}
		if !page.HasMore {
			break
		}
		req.After = page.Next
	}
	got := must(f.a.GetInterview(f.ctx, iv.ID))(t)
	if seen != writers*each || got.MessageCount != writers*each {
		t.Fatalf("seen %d messages, message_count %d, want %d", seen, got.MessageCount, writers*each)
	}
}

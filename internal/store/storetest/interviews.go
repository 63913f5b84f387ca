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

// testParticipantTokens: an interview keeps the hash of its participant token through every
// read and change, matches that hash and no other, and one started without a token matches
// nothing, not even the zero hash.
func testParticipantTokens(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	h := store.HashToken("qual_pt_a")
	iv := must(f.a.CreateInterview(f.ctx, store.NewInterview{CampaignID: f.campA, ParticipantToken: &h}))(t)
	other := store.HashToken("qual_pt_b")
	bare := interview(t, f.a, f.campA)
	check := func(what string, got store.Interview) {
		t.Helper()
		if !got.TokenMatches(h) || got.TokenMatches(other) || got.TokenMatches(store.TokenHash{}) {
			t.Fatalf("%s: the interview's token matches %v", what, got.ParticipantToken)
		}
	}
	check("created", iv)
	check("read", must(f.a.GetInterview(f.ctx, iv.ID))(t))
	say(t, f.a, iv.ID, store.RoleInterviewer, "What brought you here?")
	check("after a message", must(f.a.GetInterview(f.ctx, iv.ID))(t))
	page := must(f.a.ListInterviews(f.ctx, store.InterviewFilter{CampaignID: f.campA}, store.PageRequest{}))(t)
	for _, got := range page.Items {
		if got.ID == iv.ID {
			check("listed", got)
		}
	}
	check("ended", must(f.a.EndInterview(f.ctx, iv.ID, store.InterviewCompleted))(t))
	for _, got := range []store.Interview{bare, must(f.a.GetInterview(f.ctx, bare.ID))(t)} {
		if got.ParticipantToken != nil || got.TokenMatches(store.TokenHash{}) || got.TokenMatches(h) {
			t.Fatalf("an interview started without a token has one: %v", got.ParticipantToken)
		}
	}
	// Another team's store does not find it, token or not.
	_, err := f.b.GetInterview(f.ctx, iv.ID)
	isErr(t, err, store.ErrNotFound)
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

// testAppendSequence: an append with an expected sequence succeeds only at that sequence, and
// fails with ErrConflict, changing nothing, at any other.
func testAppendSequence(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	at := func(ts store.TeamStore, seq int64, r store.Role) (store.Message, error) {
		return ts.AppendMessage(f.ctx, iv.ID, store.NewMessage{Role: r, Content: "x", Sequence: seq})
	}
	if m := must(at(f.a, 1, store.RoleInterviewer))(t); m.Sequence != 1 {
		t.Fatalf("sequence %d, want 1", m.Sequence)
	}
	for _, seq := range []int64{1, 3, 100} {
		_, err := at(f.a, seq, store.RoleParticipant)
		isErr(t, err, store.ErrConflict)
	}
	_, err := at(f.a, -1, store.RoleParticipant)
	isErr(t, err, store.ErrInvalidInput)
	_, err = at(f.b, 2, store.RoleParticipant) // another team's interview does not exist for it
	isErr(t, err, store.ErrNotFound)

	// A turn: the answer and the reply in one transaction, at the sequences read before.
	ok(t, f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		must(at(tx, 2, store.RoleParticipant))(t)
		must(at(tx, 3, store.RoleInterviewer))(t)
		return nil
	}))
	// A turn whose reply lost its place rolls back its answer too.
	err = f.a.InTx(f.ctx, func(tx store.TeamStore) error {
		must(at(tx, 4, store.RoleParticipant))(t)
		_, err := at(tx, 4, store.RoleInterviewer)
		return err
	})
	isErr(t, err, store.ErrConflict)
	got := must(f.a.GetInterview(f.ctx, iv.ID))(t)
	if got.MessageCount != 3 || got.QuestionCount != 2 {
		t.Fatalf("after the turns: %+v", got)
	}
	page := must(f.a.ListMessages(f.ctx, iv.ID, store.PageRequest{Limit: 1}))(t)
	if page.TotalCount != 3 {
		t.Fatalf("message total_count %d, want 3", page.TotalCount)
	}
	must(at(f.a, 0, store.RoleParticipant))(t) // zero: no expectation
	must(f.a.EndInterview(f.ctx, iv.ID, store.InterviewCompleted))(t)
	_, err = at(f.a, 5, store.RoleParticipant) // ended beats a right sequence
	isErr(t, err, store.ErrInvalidState)
	_, err = at(f.a, 9, store.RoleParticipant) // and a wrong one
	isErr(t, err, store.ErrInvalidState)
}

// testConcurrentTurns: writers that read the same interview and each append an answer and a
// reply in one InTx at the sequences they read: exactly one turn commits, the others get
// ErrConflict and leave nothing behind.
func testConcurrentTurns(t *testing.T, newDSN NewDSN) {
	const writers, rounds = 6, 5
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	for round := range rounds {
		next := int64(must(f.a.GetInterview(f.ctx, iv.ID))(t).MessageCount) + 1
		start := make(chan struct{})
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- f.a.InTx(f.ctx, func(tx store.TeamStore) error {
					answer := fmt.Sprintf("round %d writer %d", round, w)
					if _, err := tx.AppendMessage(f.ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: answer, Sequence: next}); err != nil {
						return err
					}
					_, err := tx.AppendMessage(f.ctx, iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: "re: " + answer, Sequence: next + 1})
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			if err == nil {
				won++
				continue
			}
			isErr(t, err, store.ErrConflict)
		}
		if won != 1 {
			t.Fatalf("round %d: %d turns committed, want 1", round, won)
		}
	}
	msgs := walk(t, func(p store.PageRequest) (store.Page[store.Message], error) {
		return f.a.ListMessages(f.ctx, iv.ID, p)
	}, store.PageRequest{Limit: store.MaxPageLimit}, nil)
	if len(msgs) != 2*rounds {
		t.Fatalf("%d messages, want %d", len(msgs), 2*rounds)
	}
	for i := 0; i < len(msgs); i += 2 { // each reply follows its own answer
		if msgs[i+1].Content != "re: "+msgs[i].Content || msgs[i].Sequence != int64(i+1) {
			t.Fatalf("turn at %d interleaved: %q then %q", i, msgs[i].Content, msgs[i+1].Content)
		}
	}
}

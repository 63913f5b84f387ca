// Package interviews runs interviews: it starts one with the interviewer's opening question,
// takes each answer and stores it with the interviewer's reply, and ends interviews, each
// change in one store transaction with its outbox event, so webhook delivery only has to
// read the outbox. The interviewer itself (protocol or LLM) is behind internal/interviewer;
// this package decides when an interview ends, so max_questions holds whatever the model says.
package interviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/go-logr/logr"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/interviewer"
	"qual.cx/operator/internal/store"
)

// Event types this package writes to the outbox.
const (
	EventStarted   = "interview.started"
	EventCompleted = "interview.completed"
)

// ErrCampaignClosed is returned when the campaign takes no interview or answer in its publish state.
var ErrCampaignClosed = errors.New("interviews: campaign closed")

// Service runs interviews. It holds no state of its own: every call reads and writes the store.
type Service struct {
	// Interviewers picks each campaign's interviewer.
	Interviewers Interviewers
	// Log receives what went wrong; never a participant's words or personal data.
	Log logr.Logger

	answering sync.Map // store.InterviewID -> struct{}: the answers being taken here now
}

// ErrAnswering is an answer sent while another answer to the same interview is being taken.
var ErrAnswering = errors.New("interviews: another answer to the interview is being taken")

// Turn is the outcome of one answer.
type Turn struct {
	Answer    store.Message
	Reply     *store.Message // nil when the answer ended the interview
	Interview store.Interview
	Closing   string // the interviewer's closing words when the answer ended the interview
}

// Start opens an interview on an active campaign with the interviewer's opening question.
// token is the hash of the participant token the caller shows the starter once (nil: none).
// The interview, its opening question and its event are stored in one transaction, which
// calls nothing but the store: the caller pays for the start (the Interviews/hr budget)
// before, and gives the unit back when Start fails, so no limiter call holds the store's
// writer.
func (s *Service) Start(ctx context.Context, ts store.TeamStore, c *qualv1alpha1.Campaign, who store.Participant,
	token *store.TokenHash) (store.Interview, store.Message, error) {
	if c.Spec.State != qualv1alpha1.StateActive {
		return store.Interview{}, store.Message{}, fmt.Errorf("%w: %s", ErrCampaignClosed, c.Spec.State)
	}
	opening, err := s.Interviewers.For(ctx, c).Next(ctx, Brief(c), nil)
	if err != nil {
		return store.Interview{}, store.Message{}, fmt.Errorf("interviews: opening question: %w", err)
	}
	var iv store.Interview
	var first store.Message
	err = ts.InTx(ctx, func(tx store.TeamStore) error {
		var err error
		if iv, err = tx.CreateInterview(ctx, store.NewInterview{CampaignID: store.CampaignID(c.UID), Participant: who,
			ParticipantToken: token}); err != nil {
			return err
		}
		if first, err = tx.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: opening.Content}); err != nil {
			return err
		}
		if iv, err = tx.GetInterview(ctx, iv.ID); err != nil {
			return err
		}
		return announce(ctx, tx, EventStarted, iv)
	})
	if err != nil {
		return store.Interview{}, store.Message{}, fmt.Errorf("interviews: start: %w", err)
	}
	return iv, first, nil
}

// Answer stores a participant's answer to iv, as the caller last read it, with the
// interviewer's reply, or ends the interview when the answer was to the last question the
// campaign allows or the interviewer has no more. The reply is asked for before the
// transaction, so a slow model holds no lock; the answer then lands only if the transcript
// has not moved since iv was read (else store.ErrConflict), which also makes a stale iv safe.
func (s *Service) Answer(ctx context.Context, ts store.TeamStore, c *qualv1alpha1.Campaign, iv store.Interview, content string) (Turn, error) {
	if iv.Status != store.InterviewInProgress {
		return Turn{}, fmt.Errorf("interviews: answer a %s interview: %w", iv.Status, store.ErrInvalidState)
	}
	if c.Spec.State == qualv1alpha1.StateCompleted {
		return Turn{}, fmt.Errorf("%w: %s", ErrCampaignClosed, c.Spec.State)
	}
	// An answer that overlaps one being taken would lose to it (the transcript moves), so it
	// is refused before it spends a model call. Each replica guards its own requests; across
	// replicas the transcript's sequence check still lets only one land.
	if _, busy := s.answering.LoadOrStore(iv.ID, struct{}{}); busy {
		return Turn{}, ErrAnswering
	}
	defer s.answering.Delete(iv.ID)
	next, err := s.nextQuestion(ctx, ts, c, iv, content)
	if err != nil {
		return Turn{}, err
	}
	turn := Turn{}
	err = ts.InTx(ctx, func(tx store.TeamStore) error {
		var err error
		turn.Answer, err = tx.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleParticipant, Content: content,
			Sequence: int64(iv.MessageCount) + 1})
		if err != nil {
			return err
		}
		if next.Done {
			turn.Closing = next.Content
			turn.Interview, err = complete(ctx, tx, iv.ID)
			return err
		}
		reply, err := tx.AppendMessage(ctx, iv.ID, store.NewMessage{Role: store.RoleInterviewer, Content: next.Content})
		if err != nil {
			return err
		}
		turn.Reply = &reply
		turn.Interview = afterTurn(iv, reply)
		return nil
	})
	if err != nil {
		return Turn{}, fmt.Errorf("interviews: answer: %w", err)
	}
	return turn, nil
}

// afterTurn is iv once an answer and its reply have been appended. The answer's sequence
// precondition proves nothing else changed the interview in between, so it need not be
// read again.
func afterTurn(iv store.Interview, reply store.Message) store.Interview {
	iv.MessageCount = int(reply.Sequence)
	iv.QuestionCount++
	iv.UpdatedAt = reply.CreatedAt
	return iv
}

// nextQuestion is what the interviewer says after content: the closing when the campaign's
// question budget is spent (the server's rule, not the model's), else the interviewer's turn.
func (s *Service) nextQuestion(ctx context.Context, ts store.TeamStore, c *qualv1alpha1.Campaign, iv store.Interview, content string) (interviewer.Reply, error) {
	brief := Brief(c)
	if iv.QuestionCount >= brief.MaxQuestions {
		return interviewer.Reply{Content: interviewer.Closing(brief), Done: true, Source: "server"}, nil
	}
	transcript, err := Transcript(ctx, ts, iv.ID)
	if err != nil {
		return interviewer.Reply{}, err
	}
	transcript = append(transcript, interviewer.Turn{Role: interviewer.RoleParticipant, Content: content})
	return s.Interviewers.For(ctx, c).Next(ctx, brief, transcript)
}

// Complete moves an in_progress interview to completed.
func (s *Service) Complete(ctx context.Context, ts store.TeamStore, id store.InterviewID) (store.Interview, error) {
	var iv store.Interview
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		var err error
		iv, err = complete(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Interview{}, fmt.Errorf("interviews: complete: %w", err)
	}
	return iv, nil
}

// EndCampaign ends every running interview of a campaign that was completed: one the
// participant answered counts as completed (and is announced), one never answered is
// abandoned.
func EndCampaign(ctx context.Context, ts store.TeamStore, campaign store.CampaignID) (int, error) {
	n := 0
	err := ts.InTx(ctx, func(tx store.TeamStore) error {
		done, err := tx.EndCampaignInterviews(ctx, campaign)
		if err != nil {
			return err
		}
		for _, iv := range done {
			if err := announce(ctx, tx, EventCompleted, iv); err != nil {
				return err
			}
		}
		n = len(done)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("interviews: end the interviews of campaign %s: %w", campaign, err)
	}
	return n, nil
}

func complete(ctx context.Context, tx store.TeamStore, id store.InterviewID) (store.Interview, error) {
	iv, err := tx.EndInterview(ctx, id, store.InterviewCompleted)
	if err != nil {
		return store.Interview{}, err
	}
	return iv, announce(ctx, tx, EventCompleted, iv)
}

// announce writes an event whose payload is the interview's REST form.
func announce(ctx context.Context, tx store.TeamStore, typ string, iv store.Interview) error {
	payload, err := json.Marshal(resources.NewInterview(iv))
	if err != nil {
		return fmt.Errorf("interviews: render %s: %w", typ, err)
	}
	_, err = tx.AddEvent(ctx, store.NewEvent{Type: typ, Subject: string(iv.ID), CampaignID: iv.CampaignID,
		InterviewID: iv.ID, Payload: payload})
	return err
}

// Transcript reads an interview's messages in order.
func Transcript(ctx context.Context, ts store.TeamStore, id store.InterviewID) ([]interviewer.Turn, error) {
	var out []interviewer.Turn
	req := store.PageRequest{Limit: store.MaxPageLimit, SkipTotal: true}
	for {
		page, err := ts.ListMessages(ctx, id, req)
		if err != nil {
			return nil, fmt.Errorf("interviews: transcript of %s: %w", id, err)
		}
		for _, m := range page.Items {
			out = append(out, interviewer.Turn{Role: interviewer.Role(m.Role), Content: m.Content})
		}
		if !page.HasMore {
			return out, nil
		}
		req.After = page.Next
	}
}

package resources

import (
	"time"

	"qual.cx/operator/internal/store"
)

// Participant is who was interviewed; null fields were not given.
type Participant struct {
	Name       *string        `json:"name"`
	Email      *string        `json:"email"`
	ExternalID *string        `json:"external_id"`
	Metadata   map[string]any `json:"metadata"`
}

// Interview is the REST form of an interview.
type Interview struct {
	ID            string       `json:"id"`
	CampaignID    string       `json:"campaign_id"`
	Status        string       `json:"status"`
	Participant   *Participant `json:"participant"`
	MessageCount  int          `json:"message_count"`
	QuestionCount int          `json:"question_count"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
	EndedAt       *time.Time   `json:"ended_at"`
}

// Message is the REST form of one turn of an interview.
type Message struct {
	ID          string    `json:"id"`
	InterviewID string    `json:"interview_id"`
	Role        string    `json:"role"`
	Content     string    `json:"content"`
	Sequence    int64     `json:"sequence"`
	CreatedAt   time.Time `json:"created_at"`
}

// InterviewStarted is the answer to a start: the interview with its opening question, and
// the participant token, shown this once (null in an idempotent replay).
type InterviewStarted struct {
	Interview
	Messages         []Message `json:"messages"`
	ParticipantToken *string   `json:"participant_token"`
}

// Turn is the answer to a participant's message.
type Turn struct {
	Message   Message   `json:"message"`
	Reply     *Message  `json:"reply"`
	Interview Interview `json:"interview"`
	// Closing is the interviewer's closing words when this answer ended the interview; they
	// are shown, not stored, so the transcript holds only questions and answers.
	Closing *string `json:"closing"`
}

// NewInterview renders an interview.
func NewInterview(iv store.Interview) Interview {
	out := Interview{
		ID: string(iv.ID), CampaignID: string(iv.CampaignID), Status: string(iv.Status),
		Participant:  newParticipant(iv.Participant),
		MessageCount: iv.MessageCount, QuestionCount: iv.QuestionCount,
		CreatedAt: iv.CreatedAt.UTC(), UpdatedAt: iv.UpdatedAt.UTC(),
	}
	if iv.EndedAt != nil {
		t := iv.EndedAt.UTC()
		out.EndedAt = &t
	}
	return out
}

// newParticipant is nil when nothing about the participant was given.
func newParticipant(p store.Participant) *Participant {
	if p.Empty() {
		return nil
	}
	return &Participant{Name: OrNil(p.Name), Email: OrNil(p.Email), ExternalID: OrNil(p.ExternalID), Metadata: p.Metadata}
}

// NewMessage renders a message.
func NewMessage(m store.Message) Message {
	return Message{ID: string(m.ID), InterviewID: string(m.InterviewID), Role: string(m.Role),
		Content: m.Content, Sequence: m.Sequence, CreatedAt: m.CreatedAt.UTC()}
}

// OrNil is s, or nil (JSON null) when it is empty.
func OrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

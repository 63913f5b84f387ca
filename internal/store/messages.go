package store

import (
	"context"
	"time"
)

// Role says who wrote a message.
type Role string

// Message roles.
const (
	RoleInterviewer Role = "interviewer"
	RoleParticipant Role = "participant"
)

// Message is one turn of an interview. Sequence numbers of an interview run 1..N without gaps
// or duplicates, whatever the number of concurrent writers.
type Message struct {
	ID          MessageID
	InterviewID InterviewID
	Role        Role
	Content     string
	Sequence    int64
	CreatedAt   time.Time
}

// NewMessage is the input of AppendMessage.
type NewMessage struct {
	Role    Role
	Content string
}

// MessageStore holds the messages of interviews.
type MessageStore interface {
	// AppendMessage adds a message at the end of an in_progress interview (ErrInvalidState
	// otherwise) and bumps its message_count, and question_count for interviewer messages.
	AppendMessage(ctx context.Context, interview InterviewID, m NewMessage) (Message, error)
	// ListMessages lists one interview's messages by sequence, ascending by default. It returns
	// ErrNotFound when the interview is not the team's.
	ListMessages(ctx context.Context, interview InterviewID, p PageRequest) (Page[Message], error)
}

// Position returns the keyset position of the message (messages sort only by sequence).
func (m Message) Position(SortKey) Position {
	return Position{ID: string(m.ID), Sequence: m.Sequence}
}

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
	// Sequence, when non-zero, is the sequence the message must get: the append happens only if
	// the interview holds exactly Sequence-1 messages, else it fails with ErrConflict. A caller
	// that read the interview, decided a turn from it and appends it in one InTx with the
	// sequences it read cannot interleave with another caller doing the same.
	Sequence int64
}

// MessageStore holds the messages of interviews.
type MessageStore interface {
	// AppendMessage adds a message at the end of an in_progress interview (ErrInvalidState
	// otherwise) and bumps its message_count, and question_count for interviewer messages.
	// With m.Sequence set, another sequence is ErrConflict (see NewMessage).
	AppendMessage(ctx context.Context, interview InterviewID, m NewMessage) (Message, error)
	// ListMessages lists one interview's messages by sequence, ascending by default. It returns
	// ErrNotFound when the interview is not the team's. TotalCount is the interview's
	// message_count, read with it, not a COUNT(*).
	ListMessages(ctx context.Context, interview InterviewID, p PageRequest) (Page[Message], error)
}

// Position returns the keyset position of the message (messages sort only by sequence).
func (m Message) Position(SortKey) Position {
	return Position{ID: string(m.ID), Sequence: m.Sequence}
}

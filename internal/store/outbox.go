package store

import (
	"context"
	"encoding/json"
	"time"
)

// Event is an outbox row: a domain change to announce to webhooks. Write it in the same
// transaction (TeamStore.InTx) as the change it announces.
type Event struct {
	ID           EventID
	TeamID       TeamID
	Type         string // e.g. "finding.created"
	Subject      string // what the event is about; delivery order is kept per subject
	CampaignID   CampaignID
	InterviewID  InterviewID
	Payload      json.RawMessage
	CreatedAt    time.Time
	DispatchedAt *time.Time
}

// NewEvent is the input of AddEvent. Payload must be valid JSON; it is stored byte for byte.
type NewEvent struct {
	// ID is optional: a derived id ("evt_" and 1..64 of [0-9a-z_-]) makes AddEvent idempotent.
	ID      EventID
	Type    string
	Subject string // at most MaxSubjectLen characters
	// CampaignID and InterviewID are optional: the event is erased with the campaign's data or
	// the interview whose data its payload carries.
	CampaignID  CampaignID
	InterviewID InterviewID
	Payload     json.RawMessage
}

// MaxSubjectLen caps an event's subject, in characters.
const MaxSubjectLen = 200

// OutboxStore holds the event outbox.
type OutboxStore interface {
	// AddEvent appends an event to the outbox. With in.ID set it is idempotent: when the team
	// already has that event, the stored one is returned unchanged (ErrConflict when another
	// team's event has the id).
	AddEvent(ctx context.Context, in NewEvent) (Event, error)
	// GetEvent returns one event, or ErrNotFound.
	GetEvent(ctx context.Context, id EventID) (Event, error)
	// PendingEvents returns up to limit undispatched events, oldest first.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// MarkEventDispatched records that an event has been handed to delivery; ErrInvalidState
	// when it already was.
	MarkEventDispatched(ctx context.Context, id EventID) error
}

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
	Payload      json.RawMessage
	CreatedAt    time.Time
	DispatchedAt *time.Time
}

// NewEvent is the input of AddEvent. Payload must be valid JSON; it is stored byte for byte.
type NewEvent struct {
	Type    string
	Payload json.RawMessage
}

// OutboxStore holds the event outbox.
type OutboxStore interface {
	// AddEvent appends an event to the outbox.
	AddEvent(ctx context.Context, in NewEvent) (Event, error)
	// GetEvent returns one event, or ErrNotFound.
	GetEvent(ctx context.Context, id EventID) (Event, error)
	// PendingEvents returns up to limit undispatched events, oldest first.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// MarkEventDispatched records that an event has been handed to delivery; ErrInvalidState
	// when it already was.
	MarkEventDispatched(ctx context.Context, id EventID) error
}

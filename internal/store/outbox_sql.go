package store

import (
	"context"
	"encoding/json"
	"fmt"
)

const eventColumns = "id, team_id, type, payload, created_at, dispatched_at"

func scanEvent(r rowScanner) (Event, error) {
	var e Event
	var payload []byte
	err := r.Scan(&e.ID, &e.TeamID, &e.Type, &payload, timeCol{&e.CreatedAt}, nullTimeCol{&e.DispatchedAt})
	e.Payload = payload
	return e, err
}

// AddEvent appends an event to the outbox.
func (ts *teamStore) AddEvent(ctx context.Context, in NewEvent) (Event, error) {
	if in.Type == "" || !json.Valid(in.Payload) {
		return Event{}, fmt.Errorf("store: add event: type and JSON payload required: %w", ErrInvalidInput)
	}
	e := Event{ID: newEventID(), TeamID: ts.team, Type: in.Type, Payload: in.Payload, CreatedAt: now()}
	_, err := ts.exec(ctx, "INSERT INTO events (id, team_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
		e.ID, ts.team, e.Type, string(e.Payload), ts.t(e.CreatedAt))
	if err != nil {
		return Event{}, fmt.Errorf("store: add event %s: %w", in.Type, err)
	}
	return e, nil
}

// GetEvent returns one event.
func (ts *teamStore) GetEvent(ctx context.Context, id EventID) (Event, error) {
	return getOne(ctx, ts, "get event", id, scanEvent,
		"SELECT "+eventColumns+" FROM events WHERE team_id = ? AND id = ?", ts.team, id)
}

// PendingEvents returns the oldest undispatched events.
func (ts *teamStore) PendingEvents(ctx context.Context, limit int) ([]Event, error) {
	rows, err := ts.query(ctx, "SELECT "+eventColumns+` FROM events
		WHERE team_id = ? AND dispatched_at IS NULL ORDER BY created_at, id LIMIT ?`, ts.team, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: pending events: %w", err)
	}
	evs, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("store: pending events: %w", err)
	}
	return evs, nil
}

// MarkEventDispatched stamps an event as handed to delivery.
func (ts *teamStore) MarkEventDispatched(ctx context.Context, id EventID) error {
	res, err := ts.exec(ctx, "UPDATE events SET dispatched_at = ? WHERE team_id = ? AND id = ? AND dispatched_at IS NULL",
		ts.t(now()), ts.team, id)
	if err == nil {
		var ok bool
		if ok, err = affected(res); err == nil && !ok {
			err = ts.explainMiss(ctx, "events", string(id))
		}
	}
	if err != nil {
		return fmt.Errorf("store: mark event %s dispatched: %w", id, err)
	}
	return nil
}

// clampLimit keeps batch sizes in 1..MaxPageLimit.
func clampLimit(n int) int {
	return min(max(n, 1), MaxPageLimit)
}

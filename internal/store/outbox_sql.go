package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

const eventColumns = "id, team_id, type, subject, campaign_id, interview_id, payload, created_at, dispatched_at"

func scanEvent(r rowScanner) (Event, error) {
	var e Event
	var payload []byte
	err := r.Scan(&e.ID, &e.TeamID, &e.Type, &e.Subject, &e.CampaignID, &e.InterviewID, &payload,
		timeCol{&e.CreatedAt}, nullTimeCol{&e.DispatchedAt})
	e.Payload = payload
	return e, err
}

// checkNewEvent validates the input of AddEvent.
func checkNewEvent(in NewEvent) error {
	switch {
	case in.Type == "" || !json.Valid(in.Payload):
		return errors.New("type and JSON payload required")
	case in.ID != "" && !validEventID(in.ID):
		return fmt.Errorf("event id %q is not evt_ and 1..64 of [0-9a-z_-]", in.ID)
	case utf8.RuneCountInString(in.Subject) > MaxSubjectLen:
		return fmt.Errorf("subject longer than %d characters", MaxSubjectLen)
	}
	return nil
}

// AddEvent appends an event to the outbox. A given id is inserted with ON CONFLICT DO NOTHING,
// which waits for a concurrent insert of the same id to commit, so of two racing writers one
// inserts and the other reads that row back. A finding event is written with what an erasure
// looks for in it (readFindingEvent), in the same transaction.
func (ts *teamStore) AddEvent(ctx context.Context, in NewEvent) (Event, error) {
	if err := checkNewEvent(in); err != nil {
		return Event{}, fmt.Errorf("store: add event: %w: %w", ErrInvalidInput, err)
	}
	facts, err := readFindingEvent(in.Type, in.Payload)
	if err != nil {
		return Event{}, fmt.Errorf("store: add event: %w: %w", ErrInvalidInput, err)
	}
	e := Event{ID: in.ID, TeamID: ts.team, Type: in.Type, Subject: in.Subject, CampaignID: in.CampaignID,
		InterviewID: in.InterviewID, Payload: in.Payload, CreatedAt: now()}
	if e.ID == "" {
		e.ID = newEventID()
	}
	err = ts.atomically(ctx, func(tx *teamStore) error {
		res, err := tx.exec(ctx, "INSERT INTO events ("+eventColumns+`, analysis_words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
			ON CONFLICT (id) DO NOTHING`,
			e.ID, tx.team, e.Type, e.Subject, e.CampaignID, e.InterviewID, string(e.Payload), tx.t(e.CreatedAt), facts.analysisWords)
		if err != nil {
			return err
		}
		inserted, err := affected(res)
		if err != nil {
			return err
		}
		if !inserted {
			e, err = tx.existingEvent(ctx, e.ID)
			return err
		}
		return tx.recordQuotes(ctx, e.ID, facts.quotes)
	})
	if err != nil {
		return Event{}, fmt.Errorf("store: add event %s: %w", in.Type, err)
	}
	return e, nil
}

// recordQuotes indexes the interviews a finding event quotes (event_quotes), by which erasing
// one of them finds the event.
func (ts *teamStore) recordQuotes(ctx context.Context, id EventID, quotes []string) error {
	rows := make([][]any, len(quotes))
	for i, iv := range quotes {
		rows[i] = []any{ts.team, iv, id}
	}
	if err := ts.insertRows(ctx, "event_quotes (team_id, interview_id, event_id)", rows); err != nil {
		return fmt.Errorf("index the interviews the event quotes: %w", err)
	}
	return nil
}

// existingEvent reads back the event whose id an insert found taken: the team's own is the
// idempotent answer, another team's is a conflict (and stays invisible).
func (ts *teamStore) existingEvent(ctx context.Context, id EventID) (Event, error) {
	// writer, not reader: the row may have been committed an instant ago, or in this transaction.
	e, err := scanEvent(ts.writer().QueryRowContext(ctx, ts.s.d.rebind(
		"SELECT "+eventColumns+" FROM events WHERE team_id = ? AND id = ?"), ts.team, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("event id %s taken: %w", id, ErrConflict)
	}
	return e, err
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

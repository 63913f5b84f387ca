package store

import (
	"context"
	"fmt"
	"time"
)

const deliveryColumns = "id, team_id, webhook_id, event_id, event_type, subject, test, status, next_retry_at, created_at, updated_at"

func scanDelivery(r rowScanner) (Delivery, error) {
	var d Delivery
	err := r.Scan(&d.ID, &d.TeamID, &d.WebhookID, &d.EventID, &d.EventType, &d.Subject, &d.Test, &d.Status,
		nullTimeCol{&d.NextRetryAt}, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt})
	return d, err
}

// CreateDelivery makes a pending delivery of one of the team's events.
func (ts *teamStore) CreateDelivery(ctx context.Context, in NewDelivery) (Delivery, error) {
	var d Delivery
	err := ts.atomically(ctx, func(tx *teamStore) error {
		ev, err := tx.GetEvent(ctx, in.EventID)
		if err != nil {
			return err
		}
		d, err = tx.insertDelivery(ctx, ev, in)
		return err
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("store: create delivery: %w", err)
	}
	return d, nil
}

// insertDelivery stores a pending delivery of ev (an event of the handle's team), due at
// in.NextRetryAt or now. The event's type and subject are copied so lists need no join.
func (ts *teamStore) insertDelivery(ctx context.Context, ev Event, in NewDelivery) (Delivery, error) {
	if in.WebhookID == "" {
		return Delivery{}, fmt.Errorf("empty webhook id: %w", ErrInvalidInput)
	}
	if in.EventID != "" && in.EventID != ev.ID {
		return Delivery{}, fmt.Errorf("delivery of event %s made for event %s: %w", in.EventID, ev.ID, ErrInvalidInput)
	}
	t := now()
	due := t
	if in.NextRetryAt != nil {
		due = in.NextRetryAt.UTC().Truncate(time.Microsecond)
	}
	d := Delivery{ID: DeliveryID(newID()), TeamID: ts.team, WebhookID: in.WebhookID, EventID: ev.ID,
		EventType: ev.Type, Subject: ev.Subject, Test: in.Test, Status: DeliveryPending,
		Attempts: []Attempt{}, NextRetryAt: &due, CreatedAt: t, UpdatedAt: t}
	_, err := ts.exec(ctx, "INSERT INTO deliveries ("+deliveryColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		d.ID, ts.team, d.WebhookID, d.EventID, d.EventType, d.Subject, d.Test, d.Status, ts.t(due), ts.t(t), ts.t(t))
	if err != nil {
		return Delivery{}, fmt.Errorf("insert delivery of event %s: %w", ev.ID, err)
	}
	return d, nil
}

// GetDelivery returns one delivery with its attempts.
func (ts *teamStore) GetDelivery(ctx context.Context, id DeliveryID) (Delivery, error) {
	d, err := getOne(ctx, ts, "get delivery", id, scanDelivery,
		"SELECT "+deliveryColumns+" FROM deliveries WHERE team_id = ? AND id = ?", ts.team, id)
	if err != nil {
		return Delivery{}, err
	}
	ds := []Delivery{d}
	if err := ts.loadAttempts(ctx, ds); err != nil {
		return Delivery{}, fmt.Errorf("store: get delivery %s: %w", id, err)
	}
	return ds[0], nil
}

// RecordAttempt appends an attempt to a pending delivery and moves it on.
func (ts *teamStore) RecordAttempt(ctx context.Context, id DeliveryID, r AttemptResult) (Delivery, error) {
	if r.Status != DeliveryPending && r.Status != DeliverySucceeded && r.Status != DeliveryFailed {
		return Delivery{}, fmt.Errorf("store: record attempt: status %q: %w", r.Status, ErrInvalidInput)
	}
	var out Delivery
	err := ts.atomically(ctx, func(tx *teamStore) error {
		var status DeliveryStatus
		var webhook WebhookID
		var test bool
		var n int
		// The row lock (PostgreSQL) makes the attempt number safe against a concurrent dispatcher.
		if err := tx.writeRow(ctx, "SELECT status, webhook_id, test FROM deliveries WHERE team_id = ? AND id = ?"+tx.s.d.forUpdate,
			[]any{&status, &webhook, &test}, tx.team, id); err != nil {
			return notFound("delivery", id, err)
		}
		if status != DeliveryPending {
			return fmt.Errorf("delivery is %s: %w", status, ErrInvalidState)
		}
		if err := tx.writeRow(ctx, "SELECT COUNT(*) FROM delivery_attempts WHERE team_id = ? AND delivery_id = ?",
			[]any{&n}, tx.team, id); err != nil {
			return err
		}
		at := attemptTime(r)
		if err := tx.insertAttempt(ctx, id, n+1, r, at); err != nil {
			return err
		}
		switch {
		case test:
		case r.Held:
			if err := tx.recordHold(ctx, webhook, at); err != nil {
				return err
			}
		default:
			if err := tx.recordHealth(ctx, webhook, r.StatusCode, at); err != nil {
				return err
			}
		}
		var err error
		out, err = tx.GetDelivery(ctx, id)
		return err
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("store: record attempt on delivery %s: %w", id, err)
	}
	return out, nil
}

// insertAttempt stores attempt number n, made at t, and the delivery state that follows it.
func (ts *teamStore) insertAttempt(ctx context.Context, id DeliveryID, n int, r AttemptResult, t time.Time) error {
	if _, err := ts.exec(ctx, `INSERT INTO delivery_attempts (delivery_id, attempt, team_id, status_code,
		duration_ms, error, response_excerpt, at, held) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, n, ts.team, r.StatusCode, r.DurationMS, r.Error, r.ResponseExcerpt, ts.t(t), r.Held); err != nil {
		return err
	}
	var next *time.Time
	if r.Status == DeliveryPending {
		due := t
		if r.NextRetryAt != nil {
			due = r.NextRetryAt.UTC().Truncate(time.Microsecond)
		}
		next = &due
	}
	_, err := ts.exec(ctx, "UPDATE deliveries SET status = ?, next_retry_at = ?, updated_at = ? WHERE team_id = ? AND id = ?",
		r.Status, ts.s.d.timePtrArg(next), ts.t(t), ts.team, id)
	return err
}

// attemptTime is when the attempt was made: r.At in the store's precision, or now.
func attemptTime(r AttemptResult) time.Time {
	if r.At.IsZero() {
		return now()
	}
	return r.At.UTC().Truncate(time.Microsecond)
}

// Redeliver puts a finished delivery back to pending; a test delivery stays as it is.
func (ts *teamStore) Redeliver(ctx context.Context, id DeliveryID, at time.Time) (Delivery, error) {
	var out Delivery
	err := ts.atomically(ctx, func(tx *teamStore) error {
		res, err := tx.exec(ctx, `UPDATE deliveries SET status = 'pending', next_retry_at = ?, updated_at = ?
			WHERE team_id = ? AND id = ? AND status <> 'pending' AND NOT test`,
			tx.t(at.UTC().Truncate(time.Microsecond)), tx.t(now()), tx.team, id)
		if err != nil {
			return err
		}
		if ok, err := affected(res); err != nil || !ok {
			return firstErr(err, tx.explainMiss(ctx, "deliveries", string(id)))
		}
		out, err = tx.GetDelivery(ctx, id)
		return err
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("store: redeliver %s: %w", id, err)
	}
	return out, nil
}

// DueDeliveries returns pending deliveries whose retry time has come.
func (ts *teamStore) DueDeliveries(ctx context.Context, at time.Time, limit int) ([]Delivery, error) {
	rows, err := ts.query(ctx, "SELECT "+deliveryColumns+` FROM deliveries
		WHERE team_id = ? AND status = 'pending' AND next_retry_at <= ? ORDER BY next_retry_at, id LIMIT ?`,
		ts.team, ts.t(at), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: due deliveries: %w", err)
	}
	ds, err := collect(rows, scanDelivery)
	if err == nil {
		err = ts.loadAttempts(ctx, ds)
	}
	if err != nil {
		return nil, fmt.Errorf("store: due deliveries: %w", err)
	}
	return ds, nil
}

// ListDeliveries lists one webhook's deliveries with their attempts.
func (ts *teamStore) ListDeliveries(ctx context.Context, webhook WebhookID, p PageRequest) (Page[Delivery], error) {
	l := &listSpec{what: "deliveries", table: "deliveries", columns: deliveryColumns,
		sorts: map[SortKey]string{SortCreatedAt: "created_at"}, defSort: SortCreatedAt, defOrder: Desc}
	l.filter("team_id = ?", ts.team)
	l.filter("webhook_id = ?", webhook)
	page, err := listPage(ctx, ts, l, p, scanDelivery)
	if err != nil {
		return page, err
	}
	if err := ts.loadAttempts(ctx, page.Items); err != nil {
		return Page[Delivery]{}, fmt.Errorf("store: list deliveries: %w", err)
	}
	return page, nil
}

// loadAttempts fills the attempts of a batch of deliveries with one query.
func (ts *teamStore) loadAttempts(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[DeliveryID]*Delivery, len(ds))
	ids := make([]string, len(ds))
	for i := range ds {
		ds[i].Attempts = []Attempt{}
		byID[ds[i].ID] = &ds[i]
		ids[i] = string(ds[i].ID)
	}
	in, args := inList(ts.team, ids)
	rows, err := ts.query(ctx, `SELECT delivery_id, attempt, status_code, duration_ms, error, response_excerpt, at, held
		FROM delivery_attempts WHERE team_id = ? AND delivery_id IN `+in+" ORDER BY delivery_id, attempt", args...)
	if err != nil {
		return fmt.Errorf("load attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id DeliveryID
		var a Attempt
		if err := rows.Scan(&id, &a.Attempt, &a.StatusCode, &a.DurationMS, &a.Error, &a.ResponseExcerpt, timeCol{&a.At}, &a.Held); err != nil {
			return fmt.Errorf("load attempts: %w", err)
		}
		byID[id].Attempts = append(byID[id].Attempts, a)
	}
	return rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const healthColumns = "team_id, webhook_id, consecutive_failures, failing_since, last_delivery_at, last_success_at, updated_at"

func scanHealth(r rowScanner) (WebhookHealth, error) {
	var h WebhookHealth
	err := r.Scan(&h.TeamID, &h.WebhookID, &h.ConsecutiveFailures, nullTimeCol{&h.FailingSince},
		nullTimeCol{&h.LastDeliveryAt}, nullTimeCol{&h.LastSuccessAt}, timeCol{&h.UpdatedAt})
	return h, err
}

// Upserts of a webhook's health after an attempt: a success ends the failure streak (and any
// hold within it), a failure extends it and keeps the time the streak began.
const (
	healthSuccessSQL = "INSERT INTO webhook_health (" + healthColumns + `) VALUES (?, ?, 0, NULL, ?, ?, ?)
		ON CONFLICT (team_id, webhook_id) DO UPDATE SET consecutive_failures = 0, failing_since = NULL,
			held_since = NULL, last_delivery_at = excluded.last_delivery_at, last_success_at = excluded.last_success_at,
			updated_at = excluded.updated_at`
	healthFailureSQL = "INSERT INTO webhook_health (" + healthColumns + `) VALUES (?, ?, 1, ?, ?, NULL, ?)
		ON CONFLICT (team_id, webhook_id) DO UPDATE SET
			consecutive_failures = webhook_health.consecutive_failures + 1,
			failing_since = COALESCE(webhook_health.failing_since, excluded.failing_since),
			last_delivery_at = excluded.last_delivery_at, updated_at = excluded.updated_at`
)

// recordHealth folds one attempt, made at at with HTTP status code (0: no response), into the
// webhook's health. Only a 2xx is a success.
func (ts *teamStore) recordHealth(ctx context.Context, webhook WebhookID, code int, at time.Time) error {
	var err error
	if code >= 200 && code < 300 {
		_, err = ts.exec(ctx, healthSuccessSQL, ts.team, webhook, ts.t(at), ts.t(at), ts.t(at))
	} else if err = ts.resumeStreak(ctx, webhook, at); err == nil {
		_, err = ts.exec(ctx, healthFailureSQL, ts.team, webhook, ts.t(at), ts.t(at), ts.t(at))
	}
	if err != nil {
		return fmt.Errorf("update health of webhook %s: %w", webhook, err)
	}
	return nil
}

// recordHold notes, at the first held attempt of a failing webhook since its last real one,
// when the hold began: time held does not count toward the failure streak (resumeStreak).
// It leaves updated_at alone, as nothing to report changed.
func (ts *teamStore) recordHold(ctx context.Context, webhook WebhookID, at time.Time) error {
	if _, err := ts.exec(ctx, `UPDATE webhook_health SET held_since = ?
		WHERE team_id = ? AND webhook_id = ? AND failing_since IS NOT NULL AND held_since IS NULL`,
		ts.t(at), ts.team, webhook); err != nil {
		return fmt.Errorf("note the hold of webhook %s: %w", webhook, err)
	}
	return nil
}

// resumeStreak, before a failed real attempt made at at, moves the start of the webhook's
// failure streak later by the time its deliveries were held since recordHold noted a hold,
// so the disable period counts only time failing, and ends the hold. The row is locked
// (PostgreSQL) so two dispatchers' attempts move it once.
func (ts *teamStore) resumeStreak(ctx context.Context, webhook WebhookID, at time.Time) error {
	var failing, held *time.Time
	err := ts.writeRow(ctx, "SELECT failing_since, held_since FROM webhook_health WHERE team_id = ? AND webhook_id = ?"+ts.s.d.forUpdate,
		[]any{nullTimeCol{&failing}, nullTimeCol{&held}}, ts.team, webhook)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read the hold of webhook %s: %w", webhook, err)
	case held == nil:
		return nil
	}
	if failing != nil {
		moved := failing.Add(max(at.Sub(*held), 0)) // a replica's clock may lag the hold's
		failing = &moved
	}
	if _, err := ts.exec(ctx, "UPDATE webhook_health SET failing_since = ?, held_since = NULL WHERE team_id = ? AND webhook_id = ?",
		ts.s.d.timePtrArg(failing), ts.team, webhook); err != nil {
		return fmt.Errorf("end the hold of webhook %s: %w", webhook, err)
	}
	return nil
}

// Health returns a webhook's health.
func (ts *teamStore) Health(ctx context.Context, webhook WebhookID) (WebhookHealth, error) {
	if err := ts.checkTeam(); err != nil {
		return WebhookHealth{}, fmt.Errorf("store: webhook health: %w", err)
	}
	h, err := scanHealth(ts.reader().QueryRowContext(ctx, ts.s.d.rebind(
		"SELECT "+healthColumns+" FROM webhook_health WHERE team_id = ? AND webhook_id = ?"), ts.team, webhook))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return WebhookHealth{TeamID: ts.team, WebhookID: webhook}, nil
	case err != nil:
		return WebhookHealth{}, fmt.Errorf("store: health of webhook %s: %w", webhook, err)
	}
	return h, nil
}

// OlderPendingDelivery looks for an older pending delivery of d's subject to d's webhook, one
// probe of the deliveries_subject_pending index (the literal 'pending' matches its WHERE).
func (ts *teamStore) OlderPendingDelivery(ctx context.Context, d Delivery) (bool, error) {
	if d.Subject == "" {
		return false, nil
	}
	var one int
	err := ts.queryRow(ctx, `SELECT 1 FROM deliveries WHERE team_id = ? AND webhook_id = ? AND subject = ?
		AND status = 'pending' AND (created_at, id) < (?, ?) LIMIT 1`,
		[]any{&one}, ts.team, d.WebhookID, d.Subject, ts.t(d.CreatedAt), d.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: older pending delivery than %s: %w", d.ID, err)
	}
	return true, nil
}

// HeadPendingDelivery finds the oldest pending delivery of a subject to a webhook, on the
// pending-deliveries-by-subject index. Its attempts are not loaded: the worker reads them.
func (ts *teamStore) HeadPendingDelivery(ctx context.Context, webhook WebhookID, subject string) (Delivery, error) {
	return getOne(ctx, ts, "head pending delivery", subject, scanDelivery, "SELECT "+deliveryColumns+
		` FROM deliveries WHERE team_id = ? AND webhook_id = ? AND subject = ? AND status = 'pending'
		ORDER BY created_at, id LIMIT 1`, ts.team, webhook, subject)
}

// DeleteWebhookData deletes a webhook's deliveries in batches, then its health. An attempt
// recorded meanwhile on a delivery not yet deleted may write the health row again; the health
// delete comes last so that row goes too.
func (ts *teamStore) DeleteWebhookData(ctx context.Context, webhook WebhookID) error {
	if webhook == "" {
		return fmt.Errorf("store: delete webhook data: empty webhook id: %w", ErrInvalidInput)
	}
	if _, err := ts.deleteInBatches(ctx, "deliveries", "webhook_id = ?", webhook); err != nil {
		return fmt.Errorf("store: delete deliveries of webhook %s: %w", webhook, err)
	}
	if _, err := ts.exec(ctx, "DELETE FROM webhook_health WHERE team_id = ? AND webhook_id = ?", ts.team, webhook); err != nil {
		return fmt.Errorf("store: delete health of webhook %s: %w", webhook, err)
	}
	return nil
}

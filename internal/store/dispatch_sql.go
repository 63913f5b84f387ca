package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// checkBatchLimit refuses a cross-team batch size outside 1..MaxSweepLimit, so one call's
// transaction stays short.
func checkBatchLimit(limit int) error {
	if limit < 1 || limit > MaxSweepLimit {
		return fmt.Errorf("limit %d out of 1..%d: %w", limit, MaxSweepLimit, ErrInvalidInput)
	}
	return nil
}

// DispatchEvents claims undispatched events of every team, fans each out into deliveries and
// marks it dispatched, all in one transaction.
func (s *sqlStore) DispatchEvents(ctx context.Context, limit int, fanout func(Event) []NewDelivery) ([]Delivery, error) {
	if err := checkBatchLimit(limit); err != nil {
		return nil, fmt.Errorf("store: dispatch events: %w", err)
	}
	if fanout == nil {
		return nil, fmt.Errorf("store: dispatch events: nil fanout: %w", ErrInvalidInput)
	}
	var out []Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		evs, err := s.claimEvents(ctx, tx, limit)
		if err != nil {
			return err
		}
		out = []Delivery{}
		for _, ev := range evs {
			ts := &teamStore{s: s, team: ev.TeamID, tx: tx}
			for _, in := range fanout(ev) {
				d, err := ts.insertDelivery(ctx, ev, in)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
		}
		return s.markDispatched(ctx, tx, evs)
	})
	if err != nil {
		return nil, fmt.Errorf("store: dispatch events: %w", err)
	}
	return out, nil
}

// claimEvents reads the oldest undispatched events through the events_undispatched index. On
// PostgreSQL it locks them and skips those another relay holds; an event that relay has
// dispatched and committed meanwhile is re-checked on its newest version and drops out.
func (s *sqlStore) claimEvents(ctx context.Context, tx *sql.Tx, limit int) ([]Event, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind("SELECT "+eventColumns+` FROM events
		WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT ?`+s.d.skipLocked), limit)
	if err != nil {
		return nil, fmt.Errorf("claim events: %w", err)
	}
	evs, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("claim events: %w", err)
	}
	return evs, nil
}

// markDispatched stamps the claimed events as dispatched.
func (s *sqlStore) markDispatched(ctx context.Context, tx *sql.Tx, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	args := make([]any, 0, len(evs)+1)
	args = append(args, s.d.timeArg(now()))
	for _, ev := range evs {
		args = append(args, ev.ID)
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(evs)), ", ") + ")"
	if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE events SET dispatched_at = ? WHERE id IN "+in), args...); err != nil {
		return fmt.Errorf("mark events dispatched: %w", err)
	}
	return nil
}

// StrandedDeliveries lists pending deliveries of any team untouched since updatedBefore and
// due by then, through the deliveries_stranded index (the literal 'pending' matches its
// WHERE). Deliveries due later are left out here, not by the caller, so they cannot fill the
// batch ahead of stranded ones. So is a delivery behind an older pending one of its subject
// to its webhook (one probe of the pending-by-subject index): it is queued when its line
// moves (the older one's job hands it on, or, that job lost, the older one is stranded
// itself), and queued out of turn it would only wait, looking every poll interval, for as
// long as the line is held, a week for a stalled webhook.
func (s *sqlStore) StrandedDeliveries(ctx context.Context, updatedBefore time.Time, limit int) ([]Delivery, error) {
	if err := checkBatchLimit(limit); err != nil {
		return nil, fmt.Errorf("store: stranded deliveries: %w", err)
	}
	rows, err := s.rd.QueryContext(ctx, s.d.rebind("SELECT "+deliveryColumns+` FROM deliveries d
		WHERE status = 'pending' AND updated_at < ? AND (next_retry_at IS NULL OR next_retry_at < ?)
		AND (subject = '' OR NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.team_id = d.team_id
			AND o.webhook_id = d.webhook_id AND o.subject = d.subject AND o.status = 'pending'
			AND (o.created_at, o.id) < (d.created_at, d.id)))
		ORDER BY updated_at, id LIMIT ?`), s.d.timeArg(updatedBefore), s.d.timeArg(updatedBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("store: stranded deliveries: %w", err)
	}
	ds, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("store: stranded deliveries: %w", err)
	}
	return ds, nil
}

// Retention statements. Each picks its batch once (MATERIALIZED) and the DELETE repeats the
// state test, so on PostgreSQL a delivery redelivered after the pick is re-checked on its
// newest version and kept.
const (
	pruneDeliveriesSQL = `WITH picked AS MATERIALIZED (SELECT id FROM deliveries
			WHERE status <> 'pending' AND created_at < ? ORDER BY created_at LIMIT ?)
		DELETE FROM deliveries WHERE id IN (SELECT id FROM picked) AND status <> 'pending'`
	pruneEventsSQL = `WITH picked AS MATERIALIZED (SELECT id FROM events
			WHERE dispatched_at IS NOT NULL AND created_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id AND status = 'pending')
			ORDER BY created_at LIMIT ?)
		DELETE FROM events WHERE id IN (SELECT id FROM picked)`
)

// PruneDeliveries deletes old finished deliveries, then old dispatched events no pending
// delivery needs (their finished deliveries go by cascade), limit rows in all.
func (s *sqlStore) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := checkBatchLimit(limit); err != nil {
		return 0, fmt.Errorf("store: prune deliveries: %w", err)
	}
	n, err := s.execCount(ctx, pruneDeliveriesSQL, s.d.timeArg(before), limit)
	if err != nil {
		return 0, fmt.Errorf("store: prune deliveries: %w", err)
	}
	if n >= int64(limit) {
		return n, nil
	}
	m, err := s.execCount(ctx, pruneEventsSQL, s.d.timeArg(before), int64(limit)-n)
	if err != nil {
		return n, fmt.Errorf("store: prune events: %w", err)
	}
	return n + m, nil
}

// execCount runs a write statement outside any team and returns the rows it changed.
func (s *sqlStore) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.wr.ExecContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// WebhookHealth lists health rows of any team changed at or after changedSince.
func (s *sqlStore) WebhookHealth(ctx context.Context, changedSince time.Time, limit int) ([]WebhookHealth, error) {
	if err := checkBatchLimit(limit); err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", err)
	}
	rows, err := s.rd.QueryContext(ctx, s.d.rebind("SELECT "+healthColumns+` FROM webhook_health
		WHERE updated_at >= ? ORDER BY updated_at, team_id, webhook_id LIMIT ?`), s.d.timeArg(changedSince), limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", err)
	}
	hs, err := collect(rows, scanHealth)
	if err != nil {
		return nil, fmt.Errorf("store: webhook health: %w", err)
	}
	return hs, nil
}

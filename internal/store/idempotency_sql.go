package store

import (
	"context"
	"fmt"
	"time"
)

const idempotencyColumns = "key, request_hash, status_code, body, created_at, expires_at"

func scanIdempotency(r rowScanner) (IdempotencyRecord, error) {
	var rec IdempotencyRecord
	err := r.Scan(&rec.Key, &rec.RequestHash, &rec.StatusCode, &rec.Body, timeCol{&rec.CreatedAt}, timeCol{&rec.ExpiresAt})
	// SQLite reads an empty BLOB back as nil; make both backends return empty slices.
	rec.RequestHash, rec.Body = append([]byte{}, rec.RequestHash...), append([]byte{}, rec.Body...)
	return rec, err
}

// GetIdempotency returns the unexpired record for key.
func (ts *teamStore) GetIdempotency(ctx context.Context, key string) (IdempotencyRecord, error) {
	return getOne(ctx, ts, "get idempotency record", key, scanIdempotency,
		"SELECT "+idempotencyColumns+` FROM idempotency_records
		WHERE team_id = ? AND key = ? AND expires_at > ?`, ts.team, key, ts.t(now()))
}

// SaveIdempotency stores a record, replacing an expired one with the same key.
func (ts *teamStore) SaveIdempotency(ctx context.Context, r IdempotencyRecord) (IdempotencyRecord, error) {
	if r.Key == "" {
		return IdempotencyRecord{}, fmt.Errorf("store: save idempotency record: empty key: %w", ErrInvalidInput)
	}
	r.CreatedAt = now()
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = r.CreatedAt.Add(IdempotencyTTL)
	}
	r.ExpiresAt = r.ExpiresAt.UTC().Truncate(time.Microsecond)
	if r.Body == nil {
		r.Body = []byte{}
	}
	if r.RequestHash == nil {
		r.RequestHash = []byte{}
	}
	err := ts.atomically(ctx, func(tx *teamStore) error {
		if _, err := tx.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND key = ? AND expires_at <= ?",
			tx.team, r.Key, tx.t(r.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO idempotency_records (team_id, "+idempotencyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			tx.team, r.Key, r.RequestHash, r.StatusCode, r.Body, tx.t(r.CreatedAt), tx.t(r.ExpiresAt))
		if tx.s.d.isUnique(err) {
			return ErrConflict
		}
		return err
	})
	if err != nil {
		return IdempotencyRecord{}, fmt.Errorf("store: save idempotency record %q: %w", r.Key, err)
	}
	return r, nil
}

// CompleteIdempotency fills in the response of a pending claim.
func (ts *teamStore) CompleteIdempotency(ctx context.Context, key string, status int, body []byte) error {
	if status == 0 {
		return fmt.Errorf("store: complete idempotency record %q: status 0: %w", key, ErrInvalidInput)
	}
	if body == nil {
		body = []byte{}
	}
	// The answer is kept for IdempotencyTTL from now, whatever lease the claim had; a claim
	// whose lease ran out may already belong to a repeat, which then records its own answer.
	at := now()
	res, err := ts.exec(ctx, `UPDATE idempotency_records SET status_code = ?, body = ?, expires_at = ?
		WHERE team_id = ? AND key = ? AND status_code = 0 AND expires_at > ?`,
		status, body, ts.t(at.Add(IdempotencyTTL)), ts.team, key, ts.t(at))
	if err != nil {
		return fmt.Errorf("store: complete idempotency record %q: %w", key, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("store: complete idempotency record %q: %w", key, ErrNotFound)
	}
	return nil
}

// DeleteIdempotency removes a record.
func (ts *teamStore) DeleteIdempotency(ctx context.Context, key string) error {
	if _, err := ts.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND key = ?", ts.team, key); err != nil {
		return fmt.Errorf("store: delete idempotency record %q: %w", key, err)
	}
	return nil
}

// PurgeIdempotency deletes the team's expired records.
func (ts *teamStore) PurgeIdempotency(ctx context.Context) (int64, error) {
	res, err := ts.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND expires_at <= ?", ts.team, ts.t(now()))
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency records: %w", err)
	}
	return res.RowsAffected()
}

// eraseReplays deletes every caller's idempotency records whose stored answer names id (an
// interview or a campaign, whose UUID appears in no other object's answer): a replay must not
// give back the participant data and words that deleting it erased. Records are keyed by
// caller, not team, and live a day at most, so this reads that day's records once.
func (ts *teamStore) eraseReplays(ctx context.Context, id string) error {
	_, err := ts.writer().ExecContext(ctx, ts.s.d.rebind("DELETE FROM idempotency_records WHERE team_id LIKE 'caller:%' AND "+
		fmt.Sprintf(ts.s.d.holdsBytes, "body")), []byte(id))
	if err != nil {
		return fmt.Errorf("erase idempotent answers naming %s: %w", id, err)
	}
	return nil
}

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

// PurgeIdempotency deletes the team's expired records.
func (ts *teamStore) PurgeIdempotency(ctx context.Context) (int64, error) {
	res, err := ts.exec(ctx, "DELETE FROM idempotency_records WHERE team_id = ? AND expires_at <= ?", ts.team, ts.t(now()))
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency records: %w", err)
	}
	return res.RowsAffected()
}

package store

import (
	"context"
	"time"
)

// IdempotencyTTL is how long a stored response answers repeats of its request.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is the first response to a POST carrying an Idempotency-Key.
type IdempotencyRecord struct {
	Key         string
	RequestHash []byte // e.g. SHA-256 of method, path and body; compared by the caller
	StatusCode  int
	Body        []byte
	CreatedAt   time.Time // set by the store
	ExpiresAt   time.Time // zero: CreatedAt + IdempotencyTTL
}

// IdempotencyStore holds idempotency records.
type IdempotencyStore interface {
	// GetIdempotency returns the unexpired record for key, or ErrNotFound.
	GetIdempotency(ctx context.Context, key string) (IdempotencyRecord, error)
	// SaveIdempotency stores a record. An unexpired record with the same key is ErrConflict
	// (a concurrent request won); an expired one is replaced.
	SaveIdempotency(ctx context.Context, r IdempotencyRecord) (IdempotencyRecord, error)
	// PurgeIdempotency deletes the team's expired records and returns how many.
	PurgeIdempotency(ctx context.Context) (int64, error)
}

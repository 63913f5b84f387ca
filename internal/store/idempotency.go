package store

import (
	"context"
	"time"
)

// IdempotencyTTL is how long a stored response answers repeats of its request.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is the first response to a POST carrying an Idempotency-Key. A record
// saved with StatusCode 0 claims the key while its request runs; CompleteIdempotency fills in
// the response, DeleteIdempotency gives the key up. A claim holds the key for its lease
// (ExpiresAt) and binds it to its request (RequestHash) for IdempotencyTTL from CreatedAt: once
// the lease ends (its process died) only the same request may take the claim over, so a
// different one under the key is refused as it would be had the claim been answered.
type IdempotencyRecord struct {
	Key         string
	RequestHash []byte // e.g. SHA-256 of method, path and body; compared by the caller
	StatusCode  int    // 0 while the request is in progress
	Body        []byte
	CreatedAt   time.Time // set by the store
	ExpiresAt   time.Time // zero: CreatedAt + IdempotencyTTL
	// Gone is the id of the campaign or interview the answer was (the one its request made or
	// acted on) once it is deleted, GoneKind which of the two: its Body is erased, and the
	// record stays until it expires, so a repeat is told so rather than run again. An
	// interview's record keeps no RequestHash either (a fingerprint of the participant's
	// data). Set by the store only.
	Gone     string
	GoneKind string
}

// The kinds of object a record may be gone with (IdempotencyRecord.GoneKind).
const (
	GoneCampaign  = "campaign"
	GoneInterview = "interview"
)

// IdempotencyStore holds idempotency records.
type IdempotencyStore interface {
	// GetIdempotency returns the record binding key: an unexpired one, or a claim whose lease
	// ran out (StatusCode 0, ExpiresAt past) still binding it to its request; else ErrNotFound.
	GetIdempotency(ctx context.Context, key string) (IdempotencyRecord, error)
	// SaveIdempotency stores a record. A record binding the key is ErrConflict (a concurrent
	// or earlier request won), unless it is a claim whose lease ran out and r is the same
	// request (RequestHash): that claim, and any expired record, is replaced.
	SaveIdempotency(ctx context.Context, r IdempotencyRecord) (IdempotencyRecord, error)
	// CompleteIdempotency records the response of claim (as SaveIdempotency returned it) and
	// keeps it IdempotencyTTL from now. It is ErrNotFound when that claim is no longer pending
	// and unexpired: answered, given up, or taken over by a repeat once its lease ran out.
	CompleteIdempotency(ctx context.Context, claim IdempotencyRecord, status int, body []byte) error
	// DeleteIdempotency removes the record r (as saved or read), so the request may run
	// again; a record that has since replaced it under the same key is left.
	DeleteIdempotency(ctx context.Context, r IdempotencyRecord) error
	// PurgeIdempotency deletes the team's expired records and returns how many.
	PurgeIdempotency(ctx context.Context) (int64, error)
}

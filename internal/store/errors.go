package store

import "errors"

// Sentinel errors. Every error returned by this package wraps at most one of them, so callers
// (the HTTP layer) can map them with errors.Is.
var (
	// ErrNotFound: the row does not exist or belongs to another team.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule was violated (duplicate key, live idempotency record), or a
	// write lost to a concurrent write (an AppendMessage whose expected Sequence another append
	// took first). Re-read and decide again; retrying the same write cannot succeed.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalidState: the row exists but is not in a state that allows the change.
	ErrInvalidState = errors.New("store: invalid state")
	// ErrInvalidInput: an argument is malformed (empty team, unknown enum, bad page request).
	ErrInvalidInput = errors.New("store: invalid input")
)

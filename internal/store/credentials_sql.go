package store

import (
	"context"
	"fmt"
)

// ClaimCredential inserts the claim if the hash has none, then reads the one that stands: of
// callers racing on a hash (replicas authenticating its first request, the controller
// reconciling its key) the first insert wins and every one reads it. Both statements go to
// the writer, so the read sees the insert (or the earlier one that beat it) on SQLite too.
func (s *sqlStore) ClaimCredential(ctx context.Context, hashRef, keyUID string) (string, error) {
	if hashRef == "" || keyUID == "" {
		return "", fmt.Errorf("store: claim credential: hash and key required: %w", ErrInvalidInput)
	}
	if _, err := s.wr.ExecContext(ctx, s.d.rebind(`INSERT INTO credential_claims (hash_ref, key_uid, claimed_at)
		VALUES (?, ?, ?) ON CONFLICT (hash_ref) DO NOTHING`), hashRef, keyUID, s.d.timeArg(now())); err != nil {
		return "", fmt.Errorf("store: claim credential: %w", err)
	}
	var holder string
	err := s.wr.QueryRowContext(ctx, s.d.rebind("SELECT key_uid FROM credential_claims WHERE hash_ref = ?"), hashRef).Scan(&holder)
	if err != nil {
		return "", fmt.Errorf("store: read the claim of a credential: %w", err)
	}
	return holder, nil
}

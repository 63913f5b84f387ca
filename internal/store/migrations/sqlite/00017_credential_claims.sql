-- The APIKey that first held each credential hash, kept for good: a hash is no secret (whoever
-- reads a team's APIKeys sees it), so an APIKey re-created naming it, once the key holding it
-- is deleted (after its revocation, say), must not bring the old plaintext back. The first
-- claim wins (insert if absent, then read), so every replica and the controller agree; a key
-- whose UID is not the one recorded never authenticates. The rows hold no personal data (a
-- SHA-256 of a random token and a UID) and stay when the key or its team is deleted, as
-- forgetting one would make the hash claimable again. Numbered 17: 15 and 16 are other
-- branches'.

-- +goose Up
CREATE TABLE credential_claims (
    hash_ref   TEXT PRIMARY KEY,
    key_uid    TEXT NOT NULL,
    claimed_at INTEGER NOT NULL
);

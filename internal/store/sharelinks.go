package store

import (
	"context"
	"crypto/sha256"
	"time"
)

// TokenHash is the SHA-256 of a bearer token: a share token, or an interview's participant
// token. The plaintext token is never stored.
type TokenHash [sha256.Size]byte

// HashToken hashes a token for storage and lookup.
func HashToken(token string) TokenHash {
	return sha256.Sum256([]byte(token))
}

// ShareLink is a read-only link to a campaign's knowledge graph.
type ShareLink struct {
	ID         ShareLinkID
	TeamID     TeamID
	CampaignID CampaignID
	TokenHash  TokenHash
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
	CreatedBy  ShareCreator
}

// ShareCreator is who made a share link: an API key (KeyID, its UID) or a session user
// (UserID), never both. A link lives no longer than its maker's right to make it, which the
// apiserver judges from this at every read. Both are empty for a link made before makers were
// recorded (migration 18).
type ShareCreator struct {
	KeyID  string
	UserID string
}

// NewShareLink is the input of CreateShareLink.
type NewShareLink struct {
	CampaignID CampaignID
	TokenHash  TokenHash
	ExpiresAt  time.Time
	CreatedBy  ShareCreator
}

// ShareLinkStore holds graph share links: at most one live (unrevoked) link per campaign.
type ShareLinkStore interface {
	// CreateShareLink revokes the campaign's live link, if any, and stores a new one.
	// A token hash already in use is ErrConflict.
	CreateShareLink(ctx context.Context, in NewShareLink) (ShareLink, error)
	// GetShareLink returns the campaign's live link: neither revoked nor expired, else ErrNotFound.
	GetShareLink(ctx context.Context, campaign CampaignID) (ShareLink, error)
	// RevokeShareLink revokes the campaign's link; ErrNotFound when there is none.
	RevokeShareLink(ctx context.Context, campaign CampaignID) error
}

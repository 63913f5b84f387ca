package store

import (
	"context"
	"time"
)

// Store is an open database. It holds no data methods of its own: everything goes through the
// team-scoped handle returned by Team, so every query carries a team.
type Store interface {
	// Team returns the handle for one team. It does not touch the database; an empty id makes
	// every method of the handle fail with ErrInvalidInput.
	Team(id TeamID) TeamStore
	// ResolveShareLink finds the live share link whose token hashes to hash, in whatever team owns
	// it. It is the one lookup not scoped by team, because a public share URL carries only the
	// token; the caller continues with Team(link.TeamID).
	ResolveShareLink(ctx context.Context, hash TokenHash) (ShareLink, error)
	// AbandonIdleInterviews is the operator's idle sweep, across all teams: in one transaction
	// it moves up to limit (1..MaxSweepLimit) in_progress interviews whose updated_at is before
	// idleBefore to abandoned, oldest first, and returns them. An interview that gets a message
	// while the sweep runs is left alone. Replicas may sweep at once: on PostgreSQL each skips
	// the rows another holds (SKIP LOCKED), so no interview is abandoned twice. Call it again
	// while it returns limit interviews.
	AbandonIdleInterviews(ctx context.Context, idleBefore time.Time, limit int) ([]IdleInterview, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Backend names the backend: "sqlite" or "postgres".
	Backend() string
	// Close releases the connections.
	Close() error
}

// TeamStore is every data operation, scoped to one team. Rows of other teams are invisible: a
// get, update or delete of another team's id returns ErrNotFound.
type TeamStore interface {
	// Team returns the team this handle is scoped to.
	Team() TeamID
	// InTx runs fn in one transaction: every write made through tx commits together, or none
	// does when fn returns an error or panics (the panic is re-raised after the rollback).
	// Calling InTx on a handle that is already inside a transaction joins that transaction.
	InTx(ctx context.Context, fn func(tx TeamStore) error) error

	InterviewStore
	MessageStore
	FindingStore
	AnalysisStore
	AnalysisFindingStore
	ShareLinkStore
	IdempotencyStore
	OutboxStore
	DeliveryStore

	// DeleteCampaignData deletes every interview, message, finding, analysis and share link of a
	// campaign, in batches so no statement holds the database for long. It returns the number of
	// rows deleted (rows removed by cascade, such as evidence and tags, are not counted). Deleting
	// a campaign with no data returns 0 and no error.
	DeleteCampaignData(ctx context.Context, campaign CampaignID) (int64, error)
}

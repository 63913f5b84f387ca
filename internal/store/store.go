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
	// DispatchEvents is the webhook relay, across all teams: in one transaction it claims up to
	// limit (1..MaxSweepLimit) undispatched events, oldest first, creates the deliveries fanout
	// returns for each (in the event's team, with its subject, due now unless NextRetryAt says
	// otherwise), marks the events dispatched and returns the deliveries. On PostgreSQL claims
	// skip events another relay holds, so no event is fanned out twice. fanout runs inside the
	// transaction: it must be quick and must not use the store.
	DispatchEvents(ctx context.Context, limit int, fanout func(Event) []NewDelivery) ([]Delivery, error)
	// StrandedDeliveries returns up to limit (1..MaxSweepLimit) pending deliveries of any team
	// not updated since updatedBefore and due before it (a retry or the end of a hold at or
	// after it is not yet stranded), whose job may have been lost, least recently updated
	// first; not one behind an older pending delivery of its subject to its webhook, which is
	// queued when that one finishes. Their Attempts are not loaded.
	StrandedDeliveries(ctx context.Context, updatedBefore time.Time, limit int) ([]Delivery, error)
	// PruneDeliveries is delivery retention, across all teams: it deletes finished deliveries
	// created before before, then dispatched events created before before that no pending
	// delivery needs, at most limit (1..MaxSweepLimit) rows in all, and returns how many it
	// deleted (attempts and deliveries removed by cascade are not counted). Call it again
	// while it returns limit.
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)
	// PurgeReplays is idempotency retention, across all callers: it deletes up to limit
	// (1..MaxSweepLimit) expired idempotency records, and as many records of erasures older
	// than any record could be, and returns the larger count. Call it again while it
	// returns limit.
	PurgeReplays(ctx context.Context, limit int) (int64, error)
	// WebhookHealth returns up to limit (1..MaxSweepLimit) health rows of any team updated at
	// or after changedSince, by updated_at, so the dispatcher can roll changes up into Webhook
	// status. updated_at is the time of the attempt that changed the row.
	WebhookHealth(ctx context.Context, changedSince time.Time, limit int) ([]WebhookHealth, error)
	CredentialClaims
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Backend names the backend: "sqlite" or "postgres".
	Backend() string
	// Close releases the connections.
	Close() error
}

// CredentialClaims remembers, for good, which APIKey first held each credential hash. It is
// not scoped by team: a hash is the same credential in whatever namespace an APIKey names it.
type CredentialClaims interface {
	// ClaimCredential records keyUID as the first holder of the credential hashRef names (an
	// APIKey's `sha256:` reference) unless a key was recorded before, and returns the UID
	// recorded: keyUID, or the earlier key's. A claim is never replaced nor deleted, not even
	// with its key or its team, so every caller (the APIKey controller, each apiserver
	// replica) gets the same answer for a hash, for good.
	ClaimCredential(ctx context.Context, hashRef, keyUID string) (string, error)
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

	// DeleteCampaignData deletes every interview, message, finding, analysis, share link and
	// event (with its deliveries) of a campaign but the campaign's own campaign.* events, in
	// batches so no statement holds the database for long. It returns the number of rows deleted (rows removed by cascade, such as
	// evidence, tags and deliveries, are not counted). Deleting a campaign with no data returns
	// 0 and no error.
	DeleteCampaignData(ctx context.Context, campaign CampaignID) (int64, error)
}

package store

import (
	"context"
	"time"
)

// DeliveryStatus is the state of a webhook delivery.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one event sent to one webhook, with every attempt.
type Delivery struct {
	ID          DeliveryID
	TeamID      TeamID
	WebhookID   WebhookID
	EventID     EventID
	EventType   string
	Subject     string // the event's: a delivery waits for older pending ones of its subject
	Test        bool   // a test send: logged, never retried, never moves webhook health
	Status      DeliveryStatus
	Attempts    []Attempt // by attempt number
	NextRetryAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	Attempt         int // 1-based
	StatusCode      int // 0 when no response arrived
	DurationMS      int64
	Error           string
	ResponseExcerpt string
	At              time.Time
	// Held marks an attempt the dispatcher held back unsent: the operator could not make the
	// webhook deliver (AttemptResult.Held).
	Held bool
}

// NewDelivery is the input of CreateDelivery. NextRetryAt nil means due now.
type NewDelivery struct {
	WebhookID   WebhookID
	EventID     EventID
	NextRetryAt *time.Time
	Test        bool
}

// AttemptResult records an attempt and the delivery state that follows it.
type AttemptResult struct {
	StatusCode      int
	DurationMS      int64
	Error           string
	ResponseExcerpt string
	Status          DeliveryStatus // pending (retry at NextRetryAt), succeeded or failed
	NextRetryAt     *time.Time
	// At is when the attempt was made; zero means now. The caller's clock decides, so health
	// times agree with the dispatcher's.
	At time.Time
	// Held records an attempt held back unsent because the operator could not make the webhook
	// deliver (a stall, a Secret that cannot sign, the webhook or its team gone): the receiver
	// had no part in it, so it leaves the webhook's health alone, and the dispatcher counts it
	// toward no retry (Delivery.Tries).
	Held bool
}

// WebhookHealth is one endpoint's delivery record: the failure streak the dispatcher disables
// endpoints by. Test deliveries never change it.
type WebhookHealth struct {
	TeamID              TeamID
	WebhookID           WebhookID
	ConsecutiveFailures int
	// FailingSince is the first failure of the current streak, moved later by the time the
	// webhook's deliveries were held by a stall within it (time held is not time failing);
	// nil after a success.
	FailingSince   *time.Time
	LastDeliveryAt *time.Time
	LastSuccessAt  *time.Time
	UpdatedAt      time.Time
}

// DeliveryStore holds webhook deliveries and their attempts.
type DeliveryStore interface {
	// CreateDelivery makes a pending delivery of one of the team's events (ErrNotFound if the
	// event is not the team's).
	CreateDelivery(ctx context.Context, in NewDelivery) (Delivery, error)
	// GetDelivery returns one delivery with its attempts, or ErrNotFound.
	GetDelivery(ctx context.Context, id DeliveryID) (Delivery, error)
	// RecordAttempt appends an attempt to a pending delivery (ErrInvalidState otherwise) and
	// moves it to r.Status. Unless the delivery is a test or the attempt was held, it updates
	// the webhook's health in the same transaction: a 2xx ends the failure streak, anything
	// else (or no response) extends it. A held attempt within a streak notes when the hold
	// began, and the next failure moves the streak's start later by the time held since.
	RecordAttempt(ctx context.Context, id DeliveryID, r AttemptResult) (Delivery, error)
	// Redeliver puts a finished delivery back to pending, due at at. A test delivery is never
	// sent again (ErrInvalidState).
	Redeliver(ctx context.Context, id DeliveryID, at time.Time) (Delivery, error)
	// DueDeliveries returns up to limit pending deliveries due at or before now, soonest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// ListDeliveries lists one webhook's deliveries by created_at, descending by default.
	ListDeliveries(ctx context.Context, webhook WebhookID, p PageRequest) (Page[Delivery], error)
	// OlderPendingDelivery tells whether a pending delivery of d's subject to d's webhook was
	// created before d (by created_at, id): d then waits, so each subject's events arrive in
	// order. A delivery without a subject never waits.
	OlderPendingDelivery(ctx context.Context, d Delivery) (bool, error)
	// HeadPendingDelivery returns the oldest pending delivery of a subject to a webhook (the
	// next one to send, in order), or ErrNotFound.
	HeadPendingDelivery(ctx context.Context, webhook WebhookID, subject string) (Delivery, error)
	// Health returns a webhook's health; one with no recorded attempt has only its ids set.
	Health(ctx context.Context, webhook WebhookID) (WebhookHealth, error)
	// DeleteWebhookData deletes a webhook's deliveries, their attempts and its health, when the
	// Webhook object goes. Outside InTx it deletes in batches, each committing on its own.
	DeleteWebhookData(ctx context.Context, webhook WebhookID) error
}

// Tries counts the attempts that were made, not held back: the ones the retry schedule counts.
func (d Delivery) Tries() int {
	n := 0
	for _, a := range d.Attempts {
		if !a.Held {
			n++
		}
	}
	return n
}

// Position returns the keyset position of the delivery (deliveries sort by created_at).
func (d Delivery) Position(SortKey) Position {
	return Position{ID: string(d.ID), Time: d.CreatedAt}
}

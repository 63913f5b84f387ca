package store

import (
	"strings"

	"github.com/google/uuid"
)

// TeamID is the UID of a Kubernetes Team object; it scopes every row.
type TeamID string

// CampaignID is the UID of a Kubernetes Campaign object. Campaigns live in Kubernetes; the store
// only references them.
type CampaignID string

// WebhookID is the UID of a Kubernetes Webhook object.
type WebhookID string

// InterviewID identifies an interview (a UUIDv7 made by the store).
type InterviewID string

// MessageID identifies a message (a UUIDv7 made by the store).
type MessageID string

// FindingID identifies a finding (a UUIDv7 made by the store).
type FindingID string

// AnalysisID identifies an analysis job (a UUIDv7 made by the store).
type AnalysisID string

// ShareLinkID identifies a graph share link (a UUIDv7 made by the store).
type ShareLinkID string

// EventID identifies an outbox event: "evt_" followed by a UUIDv7 in hex.
type EventID string

// DeliveryID identifies a webhook delivery (a UUIDv7 made by the store).
type DeliveryID string

// newID returns a UUIDv7: time-ordered, so inserts land at the right edge of the primary-key
// index instead of at random pages.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

func newEventID() EventID {
	return EventID("evt_" + strings.ReplaceAll(newID(), "-", ""))
}

// validEventID tells whether id has the shape of an event id: "evt_" and 1..64 of [0-9a-z_-].
// Callers derive ids (see AddEvent), so the store checks the shape rather than trusting it.
func validEventID(id EventID) bool {
	rest, ok := strings.CutPrefix(string(id), "evt_")
	if !ok || len(rest) < 1 || len(rest) > 64 {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

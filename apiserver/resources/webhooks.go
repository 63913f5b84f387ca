package resources

import (
	"time"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// Webhook is the REST form of a Webhook object. It never holds the signing secret.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	TeamID      string   `json:"team_id"`
	// SecretRef names the user's Secret when spec.secretRef is set: its owner rotates it.
	SecretRef           *string    `json:"secret_ref"`
	ConsecutiveFailures int32      `json:"consecutive_failures"`
	LastDeliveryAt      *time.Time `json:"last_delivery_at"`
	LastSuccessAt       *time.Time `json:"last_success_at"`
	DisabledAt          *time.Time `json:"disabled_at"`
	DisabledReason      *string    `json:"disabled_reason"`
	// URLRefused says why the controller refuses the URL (a Webhook applied with kubectl
	// skips REST's check): nothing is sent there, whatever enabled says.
	URLRefused *string `json:"url_refused"`
	// Stalled says why the controller cannot make the webhook deliver (a signing Secret that
	// is missing or invalid, a refused URL, ...): nothing is sent while it lasts, whatever
	// enabled says. url_refused stays beside it for the clients that read it.
	Stalled   *WebhookStall `json:"stalled"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// WebhookStall is the reason and message of a Webhook's Stalled condition.
type WebhookStall struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// WebhookWithSecret is the answer to a create or a secret rotation: the only times the
// signing secret is shown.
type WebhookWithSecret struct {
	Webhook
	Secret *string `json:"secret"`
}

// NewWebhook renders a Webhook object of the team teamID.
func NewWebhook(wh *qualv1alpha1.Webhook, teamID string) Webhook {
	out := Webhook{
		ID: string(wh.UID), URL: wh.Spec.URL, Events: wh.Spec.EventNames(), Description: wh.Spec.Description,
		Enabled: wh.Spec.Enabled == nil || *wh.Spec.Enabled, TeamID: teamID,
		ConsecutiveFailures: wh.Status.ConsecutiveFailures,
		LastDeliveryAt:      timePtr(wh.Status.LastDeliveryAt), LastSuccessAt: timePtr(wh.Status.LastSuccessAt),
		DisabledAt: timePtr(wh.Status.DisabledAt),
		CreatedAt:  kubeTime(wh.CreationTimestamp.Time), UpdatedAt: UpdatedAt(&wh.ObjectMeta),
	}
	if ref := wh.Spec.SecretRef; ref != nil {
		out.SecretRef = &ref.Name
	}
	if r := wh.Status.DisabledReason; r != "" && out.DisabledAt != nil {
		out.DisabledReason = &r
	}
	if r := wh.URLRefused(); r != "" {
		out.URLRefused = &r
	}
	if reason, msg := wh.Stall(); reason != "" {
		out.Stalled = &WebhookStall{Reason: reason, Message: msg}
	}
	return out
}

// Delivery is the REST form of one event sent to one webhook, with every attempt.
type Delivery struct {
	ID        string `json:"id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Status    string `json:"status"`
	// Test marks a test send: logged, never retried, never counted toward auto-disable.
	Test     bool              `json:"test"`
	Attempts []DeliveryAttempt `json:"attempts"`
	// NextRetryAt is when a pending delivery is tried next; null once it has finished.
	NextRetryAt *time.Time `json:"next_retry_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

// DeliveryAttempt is one HTTP request of a delivery, or one the dispatcher held back.
type DeliveryAttempt struct {
	Attempt int `json:"attempt"`
	// StatusCode is null when no response arrived (refused, timed out, held).
	StatusCode      *int      `json:"status_code"`
	DurationMS      int64     `json:"duration_ms"`
	Error           *string   `json:"error"`
	ResponseExcerpt string    `json:"response_excerpt"`
	At              time.Time `json:"at"`
	// Held marks an attempt held back unsent because the operator could not make the webhook
	// deliver (error says why): it counts toward neither retries nor consecutive failures.
	Held bool `json:"held"`
}

// NewDelivery renders a delivery of the store.
func NewDelivery(d store.Delivery) Delivery {
	out := Delivery{
		ID: string(d.ID), EventID: string(d.EventID), EventType: d.EventType, Status: string(d.Status), Test: d.Test,
		Attempts: make([]DeliveryAttempt, len(d.Attempts)), CreatedAt: d.CreatedAt.UTC(),
	}
	if d.Status == store.DeliveryPending && d.NextRetryAt != nil {
		t := d.NextRetryAt.UTC()
		out.NextRetryAt = &t
	}
	for i, a := range d.Attempts {
		out.Attempts[i] = DeliveryAttempt{Attempt: a.Attempt, DurationMS: a.DurationMS,
			ResponseExcerpt: a.ResponseExcerpt, At: a.At.UTC(), Held: a.Held}
		if a.StatusCode != 0 {
			out.Attempts[i].StatusCode = &a.StatusCode
		}
		if a.Error != "" {
			out.Attempts[i].Error = &a.Error
		}
	}
	return out
}

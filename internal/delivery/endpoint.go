// Package delivery sends webhook events: it fans the outbox out to the endpoints that subscribe,
// signs each delivery the Standard Webhooks way and sends it on a durable River job, with
// retries, per-subject order and endpoint health.
package delivery

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// Keys of a signing Secret.
const (
	// SecretKey holds the current signing secret (`whsec_` plus base64).
	SecretKey = "secret"
	// PreviousSecretKey holds the secret a rotation replaced; it keeps signing beside the new
	// one until PreviousExpiresKey.
	PreviousSecretKey = "previous"
	// PreviousExpiresKey holds when the previous secret stops signing (RFC 3339).
	PreviousExpiresKey = "previousExpiresAt"
)

// RotationWindow is how long a replaced secret keeps signing beside its successor, so
// receivers can roll their configuration without losing a delivery.
const RotationWindow = 24 * time.Hour

// Endpoint is what a delivery needs of a Webhook.
type Endpoint struct {
	Team      store.TeamID
	Namespace string
	Name      string
	ID        store.WebhookID
	URL       string
	// Events are the subscribed event types; "*" subscribes to all of them.
	Events  []string
	Enabled bool
	// Secrets sign deliveries: the current one first, then the previous one while its
	// rotation window lasts.
	Secrets []string
	// Stall is why the Webhook controller says the webhook cannot deliver as written (its
	// Stalled condition: a signing Secret that is missing, invalid or someone else's, NoTeam,
	// ...), or "" when it can: nothing is sent to it meanwhile, so what its status says holds.
	// A refused URL is left to the sender's own egress policy (Config.CheckURL), which judges
	// it at each send.
	Stall string
}

// unsendable says why nothing may be sent to the endpoint as it stands, or "" when something
// may: the controller's stall, or no secret to sign with (a Secret missing or emptied, which
// the controller may not have judged yet). Neither is the receiver's doing, so a delivery it
// stops is held, not failed (Service.hold).
func (e Endpoint) unsendable() string {
	switch {
	case e.Stall != "":
		return fmt.Sprintf("the webhook is stalled (%s), so nothing is sent to it", e.Stall)
	case len(e.Secrets) == 0:
		return "the webhook has no signing secret to sign with (its Secret is missing or holds none), so nothing is sent to it"
	}
	return ""
}

// NewEndpoint describes a Webhook of the team teamUID signed with the Secret's keys as of now.
func NewEndpoint(wh *qualv1alpha1.Webhook, teamUID string, secret *corev1.Secret, now time.Time) Endpoint {
	return Endpoint{
		Team: store.TeamID(teamUID), Namespace: wh.Namespace, Name: wh.Name, ID: store.WebhookID(wh.UID),
		URL: wh.Spec.URL, Events: wh.Spec.EventNames(), Enabled: wh.Spec.Enabled == nil || *wh.Spec.Enabled,
		Secrets: SigningSecrets(secret, now), Stall: stallOf(wh),
	}
}

// stallOf is the webhook's Stalled verdict on its current generation as one line, or "".
func stallOf(wh *qualv1alpha1.Webhook) string {
	reason, message := wh.Stall()
	if reason == "" || reason == qualv1alpha1.ReasonURLRefused {
		return ""
	}
	return reason + ": " + message
}

// SigningSecrets lists the secrets that sign as of now: the current one, then the previous
// one until it expires. A Secret without a current secret signs nothing.
func SigningSecrets(secret *corev1.Secret, now time.Time) []string {
	if secret == nil || len(secret.Data[SecretKey]) == 0 {
		return nil
	}
	out := []string{string(secret.Data[SecretKey])}
	prev := string(secret.Data[PreviousSecretKey])
	expires, err := time.Parse(time.RFC3339, string(secret.Data[PreviousExpiresKey]))
	if prev != "" && err == nil && now.Before(expires) {
		out = append(out, prev)
	}
	return out
}

// Subscribes reports whether the endpoint takes events of type typ. webhook.test is sent on
// demand only.
func (e Endpoint) Subscribes(typ string) bool {
	if typ == EventTest {
		return false
	}
	return slices.Contains(e.Events, "*") || slices.Contains(e.Events, typ)
}

// EventTest is the type of the event `POST /webhooks/{id}/test` sends.
const EventTest = "webhook.test"

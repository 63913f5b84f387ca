// Package delivery sends webhook events: it fans the outbox out to the endpoints that subscribe,
// signs each delivery the Standard Webhooks way and sends it on a durable River job, with
// retries, per-subject order and endpoint health.
package delivery

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// Keys of a signing Secret.
const (
	// SecretKey holds the current signing secret (`whsec_` plus base64).
	SecretKey = "secret"
	// PreviousSecretKey holds the oldest secret a rotation replaced that still signs; it keeps
	// signing beside the new one until PreviousExpiresKey. Later replaced ones, while more
	// than one signs, are under previous2, previous3, ... (replacedKeys).
	PreviousSecretKey = "previous"
	// PreviousExpiresKey holds when the previous secret stops signing (RFC 3339).
	PreviousExpiresKey = "previousExpiresAt"
)

// RotationWindow is how long a replaced secret keeps signing beside its successor, so
// receivers can roll their configuration without losing a delivery.
const RotationWindow = 24 * time.Hour

// MaxReplacedSecrets is how many replaced secrets sign beside the current one at most: each
// secret a rotation hands out keeps signing for RotationWindow after it is replaced, so a
// receiver set up with any answer of overlapping rotations (two admins, a double click, a
// retry after a lost answer) verifies every delivery; the bound keeps the signature header
// short, and a rotation past it is refused until the oldest stops signing (Rotate).
const MaxReplacedSecrets = 4

// replacedKeys are the Secret's keys of the i-th (from 0, oldest first) replaced secret that
// still signs: previous and previousExpiresAt, as before more than one was kept, so a
// dispatcher of an older release still signs with the oldest, then previous2 and
// previous2ExpiresAt, and so on.
func replacedKeys(i int) (secret, expires string) {
	if i == 0 {
		return PreviousSecretKey, PreviousExpiresKey
	}
	n := strconv.Itoa(i + 1)
	return PreviousSecretKey + n, PreviousSecretKey + n + "ExpiresAt"
}

// Replaced is a secret a rotation replaced, which signs until Expires.
type Replaced struct {
	Secret  string
	Expires time.Time
}

// ReplacedSecrets lists the Secret's replaced secrets that still sign as of now, oldest first.
func ReplacedSecrets(secret *corev1.Secret, now time.Time) []Replaced {
	var out []Replaced
	for i := range MaxReplacedSecrets {
		k, e := replacedKeys(i)
		prev := string(secret.Data[k])
		expires, err := time.Parse(time.RFC3339, string(secret.Data[e]))
		if prev != "" && err == nil && now.Before(expires) {
			out = append(out, Replaced{Secret: prev, Expires: expires})
		}
	}
	return out
}

// Rotate makes next the Secret's current secret as of now. The secret it replaces, and every
// replaced one still signing, sign beside it until their windows end, so no secret a rotation
// handed out stops signing before RotationWindow has passed since it was replaced. With
// MaxReplacedSecrets still signing it changes nothing and returns false and when the oldest
// of them stops, the earliest a rotation can be made.
func Rotate(secret *corev1.Secret, next string, now time.Time) (time.Time, bool) {
	live := ReplacedSecrets(secret, now)
	if len(live) >= MaxReplacedSecrets {
		return live[0].Expires, false
	}
	live = append(live, Replaced{Secret: string(secret.Data[SecretKey]), Expires: now.UTC().Add(RotationWindow).Truncate(time.Second)})
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	for i := range MaxReplacedSecrets {
		k, e := replacedKeys(i)
		delete(secret.Data, k)
		delete(secret.Data, e)
	}
	for i, r := range live {
		k, e := replacedKeys(i)
		secret.Data[k] = []byte(r.Secret)
		secret.Data[e] = []byte(r.Expires.UTC().Format(time.RFC3339))
	}
	secret.Data[SecretKey] = []byte(next)
	return time.Time{}, true
}

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
	// Secrets sign deliveries: the current one first, then the replaced ones while their
	// rotation windows last.
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

// SigningSecrets lists the secrets that sign as of now: the current one, then each replaced
// one until it expires, oldest first. A Secret without a current secret signs nothing.
func SigningSecrets(secret *corev1.Secret, now time.Time) []string {
	if secret == nil || len(secret.Data[SecretKey]) == 0 {
		return nil
	}
	out := []string{string(secret.Data[SecretKey])}
	for _, r := range ReplacedSecrets(secret, now) {
		out = append(out, r.Secret)
	}
	return out
}

// Subscribes reports whether the endpoint takes events of type typ. webhook.test is sent on
// demand only.
func (e Endpoint) Subscribes(typ string) bool { return Subscribed(e.Events, typ) }

// Subscribed reports whether a subscription to events takes events of type typ.
func Subscribed(events []string, typ string) bool {
	if typ == EventTest {
		return false
	}
	return slices.Contains(events, "*") || slices.Contains(events, typ)
}

// EventTest is the type of the event `POST /webhooks/{id}/test` sends.
const EventTest = "webhook.test"

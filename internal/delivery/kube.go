package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// Field indexes of the Kubernetes directory.
const (
	teamIndex = "qual.cx/team-uid"
	uidIndex  = "metadata.uid"
)

// secretTTL is how long a signing Secret read is reused: a rotation shows within it (the old
// secret keeps signing beside the new one for a day, so only a receiver that dropped the old
// one at once refuses a delivery, which is retried).
const secretTTL = time.Second

// staleSecretLimit is how long a signing Secret last read may stand in while the Kubernetes
// API does not answer, and staleSecretWait how long a reread may take before it does: an
// outage of the control plane must not stop deliveries (their events are in the store, not in
// Kubernetes). No rotation can be made through an API that is down, and a secret a rotation
// replaces keeps signing for a day, so an hour-old copy still signs as the receiver expects.
const (
	staleSecretLimit = time.Hour
	staleSecretWait  = 3 * time.Second
)

// Kube finds endpoints in Kubernetes: Webhook objects and namespaces from an informer cache,
// signing Secrets read one by one by name (no Secret watch: the dispatcher may only get
// Secrets, and only in team namespaces). It also writes health back to the Webhooks.
type Kube struct {
	cache   cache.Cache
	secrets client.Reader
	writer  client.Client
	events  events.EventRecorder
	now     func() time.Time

	mu   sync.Mutex
	read map[client.ObjectKey]cachedSecret
}

type cachedSecret struct {
	secret *corev1.Secret
	at     time.Time
}

// NewKube builds the directory on a cache that holds Webhooks and Namespaces, and indexes
// them. secrets reads Secrets (an uncached reader); writer patches Webhooks and recorder
// records their Events.
func NewKube(ctx context.Context, c cache.Cache, secrets client.Reader, writer client.Client, recorder events.EventRecorder) (*Kube, error) {
	err := c.IndexField(ctx, &corev1.Namespace{}, teamIndex, func(o client.Object) []string {
		if uid := o.GetLabels()[qualv1alpha1.LabelTeamUID]; uid != "" {
			return []string{uid}
		}
		return nil
	})
	if err == nil {
		err = c.IndexField(ctx, &qualv1alpha1.Webhook{}, uidIndex, func(o client.Object) []string { return []string{string(o.GetUID())} })
	}
	if err != nil {
		return nil, fmt.Errorf("delivery: index the directory: %w", err)
	}
	return &Kube{cache: c, secrets: secrets, writer: writer, events: recorder, now: time.Now, read: map[client.ObjectKey]cachedSecret{}}, nil
}

// namespace returns the namespace a team owns: the one the Team controller labelled with its
// UID, which no tenant can label. A namespace being deleted is no team's: deleting a team
// deletes its namespace, which may stay Terminating for long (its objects' finalizers, or no
// namespace controller in `qual dev`), and none of the team's events may leave meanwhile.
func (k *Kube) namespace(ctx context.Context, team store.TeamID) (string, bool) {
	var list corev1.NamespaceList
	if err := k.cache.List(ctx, &list, client.MatchingFields{teamIndex: string(team)}); err != nil || len(list.Items) != 1 ||
		!list.Items[0].DeletionTimestamp.IsZero() {
		return "", false
	}
	return list.Items[0].Name, true
}

// Endpoints lists the team's webhooks.
func (k *Kube) Endpoints(team store.TeamID) []Endpoint {
	ctx := context.Background()
	ns, ok := k.namespace(ctx, team)
	if !ok {
		return nil
	}
	var list qualv1alpha1.WebhookList
	if err := k.cache.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil
	}
	out := make([]Endpoint, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp.IsZero() {
			out = append(out, NewEndpoint(&list.Items[i], string(team), nil, k.now()))
		}
	}
	return out
}

// Endpoint finds one of the team's webhooks with its signing secrets; ok is false once the
// webhook or its team's namespace is being deleted.
func (k *Kube) Endpoint(ctx context.Context, team store.TeamID, id store.WebhookID) (Endpoint, bool, error) {
	wh, ok := k.webhook(ctx, id)
	if !ok {
		return Endpoint{}, false, nil
	}
	if ns, ok := k.namespace(ctx, team); !ok || ns != wh.Namespace {
		return Endpoint{}, false, nil
	}
	if wh.Status.SecretRef == nil {
		return Endpoint{}, false, fmt.Errorf("webhook %s/%s has no signing secret yet", wh.Namespace, wh.Name)
	}
	secret, err := k.secret(ctx, client.ObjectKey{Namespace: wh.Namespace, Name: wh.Status.SecretRef.Name})
	if apierrors.IsNotFound(err) {
		// A Secret that is gone signs nothing: the endpoint says so, and its deliveries are
		// held until one is back (Endpoint.unsendable), rather than failing the job each time.
		secret, err = nil, nil
	}
	if err != nil {
		return Endpoint{}, false, err
	}
	return NewEndpoint(wh, string(team), secret, k.now()), true, nil
}

func (k *Kube) webhook(ctx context.Context, id store.WebhookID) (*qualv1alpha1.Webhook, bool) {
	var list qualv1alpha1.WebhookList
	if err := k.cache.List(ctx, &list, client.MatchingFields{uidIndex: string(id)}); err != nil || len(list.Items) != 1 {
		return nil, false
	}
	return &list.Items[0], list.Items[0].DeletionTimestamp.IsZero()
}

// secret reads a signing Secret, reusing a read younger than secretTTL, and one younger than
// staleSecretLimit while the Kubernetes API cannot be reached (an answer, such as NotFound
// or Forbidden, is never overridden).
func (k *Kube) secret(ctx context.Context, key client.ObjectKey) (*corev1.Secret, error) {
	k.mu.Lock()
	c, ok := k.read[key]
	k.mu.Unlock()
	age := k.now().Sub(c.at)
	if ok && age < secretTTL {
		return c.secret, nil
	}
	readCtx := ctx
	if ok && age < staleSecretLimit {
		var cancel context.CancelFunc
		readCtx, cancel = context.WithTimeout(ctx, staleSecretWait)
		defer cancel()
	}
	s := &corev1.Secret{}
	if err := k.secrets.Get(readCtx, key, s); err != nil {
		if ok && age < staleSecretLimit && ctx.Err() == nil && unanswered(err) {
			return c.secret, nil
		}
		return nil, fmt.Errorf("signing secret %s: %w", key, err)
	}
	k.mu.Lock()
	k.read[key] = cachedSecret{secret: s, at: k.now()}
	k.mu.Unlock()
	return s, nil
}

// Report writes the endpoint's health into its status when it differs from what is there.
func (k *Kube) Report(ctx context.Context, h store.WebhookHealth) error {
	wh, ok := k.webhook(ctx, h.WebhookID)
	if !ok {
		return nil
	}
	before := wh.DeepCopy()
	wh.Status.ConsecutiveFailures = int32(min(h.ConsecutiveFailures, 1<<30)) //nolint:gosec // bounded above
	wh.Status.LastDeliveryAt = metaTime(h.LastDeliveryAt)
	wh.Status.LastSuccessAt = metaTime(h.LastSuccessAt)
	if sameHealth(before.Status, wh.Status) {
		return nil
	}
	return client.IgnoreNotFound(k.writer.Status().Patch(ctx, wh, client.MergeFrom(before)))
}

func sameHealth(a, b qualv1alpha1.WebhookStatus) bool {
	return a.ConsecutiveFailures == b.ConsecutiveFailures && sameTime(a.LastDeliveryAt, b.LastDeliveryAt) &&
		sameTime(a.LastSuccessAt, b.LastSuccessAt)
}

func sameTime(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Unix() == b.Unix()
}

func metaTime(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	return &metav1.Time{Time: t.UTC().Truncate(time.Second)}
}

// Disable turns the endpoint off: spec.enabled false first, then why in status, so the
// controller never sees a disabledAt beside enabled=true (which means re-enabled by a user).
func (k *Kube) Disable(ctx context.Context, ep Endpoint, reason string) error {
	wh := &qualv1alpha1.Webhook{}
	if err := k.writer.Get(ctx, client.ObjectKey{Namespace: ep.Namespace, Name: ep.Name}, wh); err != nil {
		return client.IgnoreNotFound(err)
	}
	if string(wh.UID) != string(ep.ID) || (wh.Spec.Enabled != nil && !*wh.Spec.Enabled) {
		return nil // replaced, or already off
	}
	before := wh.DeepCopy()
	off := false
	wh.Spec.Enabled = &off
	if err := k.writer.Patch(ctx, wh, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil // changed meanwhile: the next failure judges again
		}
		return fmt.Errorf("disable webhook %s/%s: %w", ep.Namespace, ep.Name, err)
	}
	before = wh.DeepCopy()
	wh.Status.DisabledAt = &metav1.Time{Time: k.now().UTC().Truncate(time.Second)}
	wh.Status.DisabledReason = reason
	if err := k.writer.Status().Patch(ctx, wh, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("record why webhook %s/%s was disabled: %w", ep.Namespace, ep.Name, err)
	}
	if k.events != nil {
		k.events.Eventf(wh, nil, corev1.EventTypeWarning, "Disabled", "Disable", "delivery disabled: %s", reason)
	}
	return nil
}

// unanswered says a read failed without an answer from the Kubernetes API: it could not be
// reached, timed out, or said it is unavailable or overloaded.
func unanswered(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true // a transport error: refused, reset, timed out
	}
	return apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsInternalError(err) || apierrors.IsUnexpectedServerError(err)
}

package apiserver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/directory"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/apiserver/resources"
	"qual.cx/operator/internal/delivery"
	"qual.cx/operator/internal/signing"
	"qual.cx/operator/internal/store"
)

// Deliverer sends what the API asks for at once: a test event, or a delivery again. It is
// internal/delivery's Service; the API depends on nothing else of it.
type Deliverer interface {
	// SendTest signs and sends a webhook.test event to ep now and returns the logged delivery,
	// whether or not the receiver took it.
	SendTest(ctx context.Context, ep delivery.Endpoint) (store.Delivery, error)
	// Redeliver puts a finished delivery of the team back on the queue (store.ErrNotFound,
	// store.ErrInvalidState when it cannot be).
	Redeliver(ctx context.Context, team store.TeamID, id store.DeliveryID) (store.Delivery, error)
}

// signingSecretWait bounds how long a webhook creation waits for the Webhook controller to
// make the signing Secret; past it the answer carries secret: null (rotate-secret issues one).
const signingSecretWait = 10 * time.Second

// liveReader reads an object as the API server has it now, not as the informer cache last
// saw it: signing Secrets (the apiserver may not watch Secrets), and a key or Team whose
// write lost a race the cache has not caught up with.
func (s *Server) liveReader() client.Reader {
	if s.cfg.SecretReader != nil {
		return s.cfg.SecretReader
	}
	return s.cfg.Client
}

// signingSecretName is the Secret that signs a webhook's deliveries: the one spec.secretRef
// names, else the one the Webhook controller generates.
func signingSecretName(wh *qualv1alpha1.Webhook) string {
	if ref := wh.Spec.SecretRef; ref != nil {
		return ref.Name
	}
	return wh.Name + "-signing"
}

// signingSecret reads the webhook's signing Secret. A generated one must be the webhook's own
// (the controller refuses a namesake too) and hold a secret. Only a generated one not made yet
// is 503, which a retry soon finds; a Secret its owner names that is missing or holds no
// secret is 409, as a retry fails alike until the owner fixes it (the webhook shows it as
// stalled meanwhile).
func (s *Server) signingSecret(ctx context.Context, wh *qualv1alpha1.Webhook) (*corev1.Secret, error) {
	name := signingSecretName(wh)
	secret := &corev1.Secret{}
	err := s.liveReader().Get(ctx, client.ObjectKey{Namespace: wh.Namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err) && wh.Spec.SecretRef != nil:
		return nil, envelope.New(envelope.CodeInvalidState, "The Secret %s named by the webhook's secretRef does not exist", name)
	case apierrors.IsNotFound(err):
		return nil, envelope.New(envelope.CodeUnavailable, "The webhook's signing secret is not ready yet; retry shortly").WithRetry(2 * time.Second)
	case err != nil:
		return nil, kubeError(err)
	case wh.Spec.SecretRef == nil && !metav1.IsControlledBy(secret, wh):
		return nil, envelope.New(envelope.CodeConflict, "The Secret %s does not belong to this webhook", name)
	case !strings.HasPrefix(string(secret.Data[delivery.SecretKey]), signing.SecretPrefix):
		return nil, envelope.New(envelope.CodeInvalidState, "The Secret %s holds no signing secret (key %q, %s plus base64)", name, delivery.SecretKey, signing.SecretPrefix)
	}
	return secret, nil
}

// awaitSigningSecret waits, bounded, until the Webhook controller has made the new webhook's
// signing Secret, and returns the secret; nil when it did not come in time.
func (s *Server) awaitSigningSecret(ctx context.Context, wh *qualv1alpha1.Webhook) *string {
	ctx, cancel := context.WithTimeout(ctx, signingSecretWait)
	defer cancel()
	uid := string(wh.UID)
	if err := s.dir.WaitUntil(ctx, func(d *directory.Directory) bool { return d.WebhookSigned(uid) }); err != nil {
		s.cfg.Logger.Info("webhook created without its signing secret in time", "namespace", wh.Namespace, "name", wh.Name)
		return nil
	}
	secret, err := s.signingSecret(ctx, wh)
	if err != nil {
		s.cfg.Logger.Info("signing secret of a new webhook unreadable", "namespace", wh.Namespace, "name", wh.Name, "error", err.Error())
		return nil
	}
	v := string(secret.Data[delivery.SecretKey])
	return &v
}

// rotateWebhookSecret replaces the generated signing secret. Every secret it replaces keeps
// signing beside the new one for delivery.RotationWindow, so receivers can roll over without
// losing a delivery, whichever answer of overlapping rotations (two admins, a double click, a
// retry after a lost answer) they were set up with: no 200 hands out a secret that stops
// signing before its window ends. Past delivery.MaxReplacedSecrets still signing, a rotation
// is 409 CONFLICT until the oldest stops (Retry-After).
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	wh, m, e := s.visibleWebhook(r, p)
	if e != nil {
		return e
	}
	var none struct{}
	if e := decode.JSON(w, r, &none); e != nil {
		return e
	}
	if ref := wh.Spec.SecretRef; ref != nil {
		return envelope.New(envelope.CodeConflict,
			"The webhook's signing secret is managed by its owner (the Secret %s named by secretRef); rotate it there", ref.Name)
	}
	// The secret signs the endpoint's events: whoever holds it can forge any of them, so it
	// goes only to a caller who could have subscribed to them.
	if e := mayReceive(p, wh.Spec.EventNames()); e != nil {
		return e
	}
	secret, err := s.signingSecret(r.Context(), wh)
	if err != nil {
		return err
	}
	next, err := signing.NewSecret()
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	if until, ok := delivery.Rotate(secret, next, now); !ok {
		wait := until.Sub(now).Truncate(time.Second) + time.Second
		return envelope.New(envelope.CodeConflict,
			"The webhook's signing secret has been replaced %d times in the last %.0f h, and each replaced secret keeps signing for that long; it can be rotated again in %s, when the oldest stops",
			delivery.MaxReplacedSecrets, delivery.RotationWindow.Hours(), wait).WithRetry(wait)
	}
	// One update, under the resourceVersion read: a rotation racing this one is a 409 that
	// hands out nothing, never a secret handed out and dropped by the write after it.
	if err := s.cfg.Client.Update(r.Context(), secret, client.FieldOwner(FieldManager)); err != nil {
		return kubeError(err)
	}
	envelope.WriteData(w, http.StatusOK, resources.WebhookWithSecret{Webhook: renderWebhook(wh, m), Secret: &next})
	return nil
}

// deliverer is the delivery service, or 503 while the server has none.
func (s *Server) deliverer() (Deliverer, *envelope.Error) {
	if s.cfg.Deliveries == nil {
		return nil, envelope.Unavailable("Webhook delivery", 5*time.Second)
	}
	return s.cfg.Deliveries, nil
}

// testWebhook sends a signed webhook.test event now and answers with its delivery, also
// when the receiver failed: the delivery log says how. It counts toward the endpoint's
// in-flight cap as a delivery does: 409 when the cap is full.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	wh, m, e := s.visibleWebhook(r, p)
	if e != nil {
		return e
	}
	var none struct{}
	if e := decode.JSON(w, r, &none); e != nil {
		return e
	}
	d, e := s.deliverer()
	if e != nil {
		return e
	}
	secret, err := s.signingSecret(r.Context(), wh)
	if err != nil {
		return err
	}
	sent, err := d.SendTest(r.Context(), delivery.NewEndpoint(wh, string(m.Team.Object.UID), secret, s.cfg.Now()))
	if err != nil {
		return deliveryError(err, "The webhook cannot be tested in its present state")
	}
	envelope.WriteData(w, http.StatusOK, resources.NewDelivery(sent))
	return nil
}

// deliveryError maps the delivery service's refusals; anything else passes up.
func deliveryError(err error, invalidState string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return envelope.NotFound("Delivery")
	case errors.Is(err, store.ErrInvalidState):
		return envelope.New(envelope.CodeInvalidState, "%s", invalidState)
	case errors.Is(err, delivery.ErrEndpointBusy):
		// Like an answer racing another on one interview: nothing was done, and a retry
		// after the sends in flight finish goes through.
		return envelope.New(envelope.CodeConflict, "The webhook has as many sends in flight as this server makes to one endpoint at once; nothing was sent, retry once one has finished")
	}
	return err
}

var deliverySorts = []string{"created_at"}

// listDeliveries lists a webhook's delivery log, newest first, each with every attempt.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	wh, m, e := s.visibleWebhook(r, p)
	if e != nil {
		return e
	}
	lp, req, e := s.storeList(r, deliverySorts, map[string]string{"webhook": string(wh.UID)})
	if e != nil {
		return e
	}
	page, err := s.rows(m).ListDeliveries(r.Context(), store.WebhookID(wh.UID), req)
	if err != nil {
		return err
	}
	writeTimePage(s, w, lp, page, resources.NewDelivery)
	return nil
}

// redeliver queues a finished delivery of an enabled webhook again: 202 with the delivery.
// mayResend refuses sending the delivery d again to the webhook's URL
// as it is now, unless the webhook still subscribes to that type and the caller may receive
// it: a delivery keeps its event's data, and the URL may have moved since it was made (a
// key may narrow a "*" endpoint to events it can read and move it to its own URL), so
// sending it again is receiving it.
// A test delivery is refused later, as one that is never sent again.
func mayResend(p *authn.Principal, wh *qualv1alpha1.Webhook, d store.Delivery) *envelope.Error {
	if d.Test {
		return nil
	}
	if !delivery.Subscribed(wh.Spec.EventNames(), d.EventType) {
		return envelope.New(envelope.CodeInvalidState, "The webhook no longer subscribes to %s; only a delivery of an event it takes can be sent again", d.EventType)
	}
	return mayReceive(p, []string{d.EventType})
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
	wh, m, e := s.visibleWebhook(r, p)
	if e != nil {
		return e
	}
	var none struct{}
	if e := decode.JSON(w, r, &none); e != nil {
		return e
	}
	id := r.PathValue("delivery_id")
	if !isUUID(id) {
		return envelope.NotFound("Delivery")
	}
	found, err := s.rows(m).GetDelivery(r.Context(), store.DeliveryID(id))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && found.WebhookID != store.WebhookID(wh.UID)):
		return envelope.NotFound("Delivery")
	case err != nil:
		return err
	}
	// A disabled endpoint sends nothing, so the delivery would wait unseen until someone
	// enabled it again; say so instead of queueing it.
	if wh.Spec.Enabled != nil && !*wh.Spec.Enabled {
		return envelope.New(envelope.CodeInvalidState, "The webhook is disabled; enable it before sending a delivery again")
	}
	if e := mayResend(p, wh, found); e != nil {
		return e
	}
	d, e := s.deliverer()
	if e != nil {
		return e
	}
	queued, err := d.Redeliver(r.Context(), store.TeamID(m.Team.Object.UID), found.ID)
	if err != nil {
		return deliveryError(err, "Only a finished delivery that is not a test can be sent again")
	}
	envelope.WriteData(w, http.StatusAccepted, resources.NewDelivery(queued))
	return nil
}

package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/signing"
)

// WebhookSecretKey is the data key of a signing Secret.
const WebhookSecretKey = "secret"

// userSecretRecheck is how often a webhook stalled on a user's Secret looks for it again:
// the cache holds only the operator's own Secrets, so their changes wake nothing.
const userSecretRecheck = 30 * time.Second

// WebhookReconciler gives each Webhook a signing secret and makes sure the dispatcher
// Deployment that delivers events runs in the operator's namespace.
type WebhookReconciler struct {
	client.Client
	// APIReader reads Secrets a user names in spec.secretRef: the manager's cache only
	// holds the operator's own Secrets.
	APIReader  client.Reader
	Recorder   events.EventRecorder
	Dispatcher DispatcherConfig
	// SystemNamespace is the operator's namespace, where the dispatcher runs.
	SystemNamespace string
	// Data deletes a deleted webhook's delivery log from the store; nil (a manager without
	// a store) adds no finalizer and deletes nothing.
	Data WebhookData
	// Egress is the policy the dispatcher delivers under: a URL it refuses is reported in
	// status rather than left to fail every delivery behind a Ready webhook.
	Egress egress.Policy
}

// +kubebuilder:rbac:groups=qual.cx,resources=webhooks,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=qual.cx,resources=webhooks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=qual.cx,resources=webhooks/finalizers,verbs=update
// The dispatcher Deployment lives in the operator's namespace only, so writing Deployments is
// granted there only (a Role): whoever may create a Deployment in a namespace runs pods as any
// of its service accounts. Cluster-wide the manager may only get and delete one, to remove the
// per-namespace dispatcher an older operator ran (dropNamespaceDispatcher).
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete,namespace=qual-system
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;delete

// Reconcile converges one Webhook. Its Secret is owned by it, so Kubernetes cleans it up;
// its delivery log lives in the store, so a finalizer holds the Webhook until that is gone.
func (r *WebhookReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	wh := &qualv1alpha1.Webhook{}
	if err := r.Get(ctx, req.NamespacedName, wh); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !wh.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, wh)
	}
	// A manager without a store cannot honour the finalizer: it adds none, and takes away one
	// an earlier manager added.
	if err := setFinalizer(ctx, r.Client, wh, webhookFinalizer, r.Data != nil); err != nil {
		return ctrl.Result{}, err
	}

	before := wh.Status.DeepCopy()
	defer func() {
		retErr = errors.Join(retErr, patchStatus(ctx, r.Client, wh, before, &wh.Status))
	}()

	// Outside a team no event reaches a webhook (the dispatcher delivers teams' events only),
	// so it gets no signing secret and brings up no dispatcher.
	err := requireTeam(ctx, r.Client, wh.Namespace, "no event reaches it and no signing secret is made")
	if err == nil {
		err = r.reconcileSecret(ctx, wh)
	}
	err = reconcileReaderAfter(err, func(mayGrant bool) error { return r.reconcileReader(ctx, wh, mayGrant) })
	if err == nil {
		err = r.reconcileDispatcher(ctx, wh)
	}
	if err == nil {
		err = r.dropNamespaceDispatcher(ctx, wh)
	}
	if err == nil {
		err = r.checkURL(wh)
	}
	r.reconcileEnablement(ctx, wh)
	setDegraded(wh, err)
	warnOnNewStall(ctx, r.Recorder, wh, wh.Status.Conditions, err)
	wh.Status.ObservedGeneration = wh.Generation
	result := ctrl.Result{RequeueAfter: recheckAfter(err)}
	return result, summarize(&wh.Status.Conditions, wh.Generation, err, webhookReadiness(wh))
}

// checkURL holds spec.url to the egress policy, as REST does on create: kubectl can apply a
// URL REST would refuse (a metadata endpoint, a private address, plain http), and nothing
// would be delivered to it. It comes last, so the signing Secret is in place the moment the
// URL is fixed. The policy reads no DNS here; names are checked at dial time.
func (r *WebhookReconciler) checkURL(wh *qualv1alpha1.Webhook) error {
	if err := r.Egress.CheckURL(wh.Spec.URL); err != nil {
		// The message reaches REST users too (url_refused): the reason alone, as REST says it.
		return stalled(qualv1alpha1.ReasonURLRefused, "spec.url is refused: %s", strings.TrimPrefix(err.Error(), "egress: "))
	}
	return nil
}

// reconcileSecret checks the Secret the user named, or creates the generated one.
func (r *WebhookReconciler) reconcileSecret(ctx context.Context, wh *qualv1alpha1.Webhook) error {
	if ref := wh.Spec.SecretRef; ref != nil {
		secret := &corev1.Secret{}
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: wh.Namespace, Name: ref.Name}, secret)
		if apierrors.IsNotFound(err) {
			return stalledRecheck(userSecretRecheck, "SecretNotFound", "secret %s named by spec.secretRef does not exist", ref.Name)
		}
		if err != nil {
			return fmt.Errorf("get secret %s: %w", ref.Name, err)
		}
		// A Secret the operator made for another object (another webhook's generated signing
		// secret, a key's plaintext) is not the namer's to sign with: it would have deliveries
		// of its own choosing signed with another endpoint's secret, to replay there.
		if isManaged(secret) && !metav1.IsControlledBy(secret, wh) {
			return stalled("SecretNotOwn", "secret %s was made by the operator for another object; name a Secret of your own", ref.Name)
		}
		if !strings.HasPrefix(string(secret.Data[WebhookSecretKey]), signing.SecretPrefix) {
			return stalledRecheck(userSecretRecheck, "SecretInvalid", "secret %s needs key %q holding %s plus base64", ref.Name, WebhookSecretKey, signing.SecretPrefix)
		}
		wh.Status.SecretRef = ref.DeepCopy()
		return nil
	}
	name := signingSecretName(wh)
	secret := &corev1.Secret{}
	err := lookup(ctx, r.Client, r.APIReader, client.ObjectKey{Namespace: wh.Namespace, Name: name}, secret)
	switch {
	case err == nil && !metav1.IsControlledBy(secret, wh):
		return stalled("SecretConflict", "secret %s exists and does not belong to this webhook", name)
	case err == nil && !isManaged(secret):
		return stalled("SecretUnlabelled", "secret %s lost its %s label; put it back", name, qualv1alpha1.LabelManagedBy)
	case apierrors.IsNotFound(err):
		if err := r.createSigningSecret(ctx, wh, name); err != nil {
			return err
		}
		if wh.Status.SecretRef != nil && wh.Status.SecretRef.Name == name {
			// Its receivers still verify with the old secret: every delivery now fails there
			// until they are given the new one, so say so where the owner looks.
			announce(ctx, r.Recorder, wh, nil, corev1.EventTypeWarning, "SigningSecretReplaced", "Create",
				"signing secret %s was deleted and a new one made; receivers must be given the new one (read it from the Secret, or issue and see one with rotate-secret)", name)
		}
	case err != nil:
		return fmt.Errorf("get secret %s: %w", name, err)
	}
	wh.Status.SecretRef = &qualv1alpha1.LocalSecretReference{Name: name}
	return nil
}

// reconcileReader lets the webhook's creator, while they manage the team, read the signing
// Secret the controller generated for it, so a webhook made with kubectl can be given to its
// receiver. A Secret named by spec.secretRef is its maker's own, and gets no grant: a grant
// on it would let anyone who may write Webhooks read any Secret of the namespace, another
// key's plaintext included, by naming it. A webhook a step before failed for (mayGrant
// false: reconcileReaderAfter), such as one outside a serving team or whose Secret is not its
// own, has no reader either.
func (r *WebhookReconciler) reconcileReader(ctx context.Context, wh *qualv1alpha1.Webhook, mayGrant bool) error {
	grant := secretGrant{owner: wh, secret: signingSecretName(wh), labels: webhookLabels(wh)}
	return reconcileSecretRead(ctx, r.Client, r.APIReader, grant, mayGrant && wh.Spec.SecretRef == nil)
}

// signingSecretName is the Secret the controller generates to sign a webhook's deliveries
// when spec.secretRef names none.
func signingSecretName(wh *qualv1alpha1.Webhook) string { return wh.Name + "-signing" }

// webhookLabels are the labels of what the controller makes for a webhook.
func webhookLabels(wh *qualv1alpha1.Webhook) map[string]string {
	return managedLabels("qual.cx/webhook", wh.Name)
}

func (r *WebhookReconciler) createSigningSecret(ctx context.Context, wh *qualv1alpha1.Webhook, name string) error {
	value, err := signing.NewSecret()
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: wh.Namespace, Labels: webhookLabels(wh)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{WebhookSecretKey: []byte(value)},
	}
	if err := controllerutil.SetControllerReference(wh, secret, r.Scheme()); err != nil {
		return fmt.Errorf("own secret %s: %w", name, err)
	}
	if err := r.Create(ctx, secret); err != nil {
		return fmt.Errorf("create secret %s: %w", name, err)
	}
	announce(ctx, r.Recorder, wh, secret, corev1.EventTypeNormal, "SecretCreated", "Create", "created signing secret %s", name)
	return nil
}

// reconcileDispatcher makes sure the dispatcher Deployment exists in the operator's namespace
// and runs the configured image. It serves every team and belongs to none, so it has no
// owner: it stays when the last Webhook goes, relaying and pruning the outbox. It is
// rewritten only when the manager's dispatcher configuration changed, so a scale by hand or
// an autoscaler is left alone.
func (r *WebhookReconciler) reconcileDispatcher(ctx context.Context, wh *qualv1alpha1.Webhook) error {
	desired := r.Dispatcher.deployment(r.SystemNamespace)
	current := &appsv1.Deployment{}
	err := lookup(ctx, r.Client, r.APIReader, client.ObjectKeyFromObject(desired), current)
	if apierrors.IsNotFound(err) {
		if err := r.Create(ctx, desired); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("create dispatcher %s/%s: %w", desired.Namespace, desired.Name, err)
		}
		announce(ctx, r.Recorder, wh, desired, corev1.EventTypeNormal, "DispatcherCreated", "Create", "created dispatcher deployment %s/%s", desired.Namespace, desired.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get dispatcher: %w", err)
	}
	if !isManaged(current) {
		return stalled("DispatcherConflict", "deployment %s/%s exists and is not managed by the operator", desired.Namespace, desired.Name)
	}
	if current.Annotations[dispatcherConfigAnnotation] == desired.Annotations[dispatcherConfigAnnotation] {
		return nil
	}
	before := current.DeepCopy()
	current.Annotations = desired.Annotations
	current.Spec.Replicas = desired.Spec.Replicas
	current.Spec.Template = desired.Spec.Template
	if err := r.Patch(ctx, current, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("update dispatcher: %w", err)
	}
	announce(ctx, r.Recorder, wh, current, corev1.EventTypeNormal, "DispatcherUpdated", "Update", "dispatcher deployment %s/%s follows the new configuration", current.Namespace, current.Name)
	return nil
}

// dropNamespaceDispatcher deletes the dispatcher an older operator ran in the webhook's own
// namespace: delivery now runs in the operator's namespace only.
func (r *WebhookReconciler) dropNamespaceDispatcher(ctx context.Context, wh *qualv1alpha1.Webhook) error {
	if wh.Namespace == r.SystemNamespace {
		return nil
	}
	old := &appsv1.Deployment{}
	// Uncached: the cache holds Deployments of the operator's namespace only.
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: wh.Namespace, Name: DispatcherName}, old)
	if apierrors.IsNotFound(err) || (err == nil && !isManaged(old)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get dispatcher of namespace %s: %w", wh.Namespace, err)
	}
	if err := r.Delete(ctx, old); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete dispatcher of namespace %s: %w", wh.Namespace, err)
	}
	announce(ctx, r.Recorder, wh, old, corev1.EventTypeNormal, "DispatcherMoved", "Delete", "deleted the dispatcher of namespace %s: delivery runs in %s", wh.Namespace, r.SystemNamespace)
	return nil
}

// reconcileEnablement clears an automatic disable once the user turns the endpoint back on.
// The dispatcher disables an endpoint by setting spec.enabled to false and recording why in
// status, so enabled=true beside a disabledAt means the user re-enabled it.
func (r *WebhookReconciler) reconcileEnablement(ctx context.Context, wh *qualv1alpha1.Webhook) {
	if wh.Status.DisabledAt == nil || !isEnabled(wh) {
		return
	}
	wh.Status.DisabledAt, wh.Status.DisabledReason, wh.Status.ConsecutiveFailures = nil, "", 0
	announce(ctx, r.Recorder, wh, nil, corev1.EventTypeNormal, "Reenabled", "Enable", "delivery re-enabled")
}

// setDegraded reports the failure streak the dispatcher rolls up into status. A disabled or
// paused endpoint, or one whose URL is refused, is sent nothing, so its old streak degrades
// nothing; Ready says why. err is the reconcile's outcome: a stall is named, never called
// Delivering.
func setDegraded(wh *qualv1alpha1.Webhook, err error) {
	cond := metav1.Condition{Type: qualv1alpha1.ConditionDegraded, Status: metav1.ConditionFalse,
		Reason: "Delivering", Message: "no delivery has failed since the last success", ObservedGeneration: wh.Generation}
	st := wh.Status
	var stall *stalledError
	isStalled := errors.As(err, &stall)
	switch {
	case st.DisabledAt != nil || !isEnabled(wh):
		cond.Reason, cond.Message = "DeliveryOff", "delivery is off; Ready says why"
	case isStalled && stall.reason == qualv1alpha1.ReasonURLRefused:
		// The dispatcher sends nothing to a refused URL: none fails, and none is made.
		cond.Reason, cond.Message = "NotDelivering", "nothing is delivered while spec.url is refused; Ready says why"
	case st.ConsecutiveFailures > 0:
		cond.Status, cond.Reason = metav1.ConditionTrue, "DeliveriesFailing"
		cond.Message = fmt.Sprintf("%d deliveries in a row failed", st.ConsecutiveFailures)
		if st.LastSuccessAt != nil {
			cond.Message += " since the last success at " + st.LastSuccessAt.UTC().Format(time.RFC3339)
		} else {
			cond.Message += "; none has succeeded yet"
		}
	case isStalled:
		// Nothing has failed, but the webhook is stuck on something else (its Secret, the
		// dispatcher): "Delivering" would say all is well.
		cond.Reason, cond.Message = "Stalled", "no delivery has failed since the last success, but the webhook is stalled; Ready says why"
	}
	meta.SetStatusCondition(&wh.Status.Conditions, cond)
}

// reconcileDelete removes the webhook's delivery log from the store, then lets it go. A store
// error keeps the finalizer, and the reconcile is retried with backoff.
func (r *WebhookReconciler) reconcileDelete(ctx context.Context, wh *qualv1alpha1.Webhook) error {
	if !controllerutil.ContainsFinalizer(wh, webhookFinalizer) {
		return nil
	}
	if r.Data != nil {
		if err := r.Data.DeleteWebhookData(ctx, wh); err != nil {
			announce(ctx, r.Recorder, wh, nil, corev1.EventTypeWarning, "DataCleanupFailed", "Delete", "deleting the webhook's delivery log failed: %v", err)
			return fmt.Errorf("delete data of webhook %s: %w", client.ObjectKeyFromObject(wh), err)
		}
	}
	return setFinalizer(ctx, r.Client, wh, webhookFinalizer, false)
}

func isEnabled(wh *qualv1alpha1.Webhook) bool { return wh.Spec.Enabled == nil || *wh.Spec.Enabled }

func webhookReadiness(wh *qualv1alpha1.Webhook) readiness {
	switch {
	case wh.Status.DisabledAt != nil:
		return readiness{reason: "Disabled", message: "delivery was disabled: " + wh.Status.DisabledReason}
	case !isEnabled(wh):
		return readiness{ready: true, reason: "Paused", message: "delivery is turned off (spec.enabled is false)"}
	}
	return readiness{ready: true, reason: "Delivering", message: "signing secret and dispatcher are in place"}
}

// SetupWithManager registers the reconciler. A change to the dispatcher Deployment wakes one
// webhook, whose reconcile puts the Deployment back when it was deleted or is out of date.
func (r *WebhookReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	b := ctrl.NewControllerManagedBy(mgr).
		WithOptions(opts).
		// No event filter: the dispatcher reports failures and automatic disables in
		// status, and Ready follows them. The controller's own status writes cost one more
		// reconcile each, which writes nothing.
		For(&qualv1alpha1.Webhook{}).
		Owns(&corev1.Secret{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.anyWebhook),
			builder.WithPredicates(predicate.NewPredicateFuncs(r.isDispatcher)))
	webhooks := func() client.ObjectList { return &qualv1alpha1.WebhookList{} }
	// A webhook outside a team is looked at again when its namespace becomes one's, and who
	// may read its signing secret follows the team's managers.
	return watchTeamManagers(watchTeamHomes(b, r.Client, webhooks), r.Client, webhooks).
		Named("webhook").
		Complete(r)
}

func (r *WebhookReconciler) isDispatcher(obj client.Object) bool {
	return obj.GetNamespace() == r.SystemNamespace && obj.GetName() == DispatcherName
}

// anyWebhook is a request for one webhook of a team, or none when there is none: then the
// dispatcher is not needed. A webhook outside a team would not bring the dispatcher back.
func (r *WebhookReconciler) anyWebhook(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &qualv1alpha1.WebhookList{}
	// Only names are read, so the cache's objects need no copy.
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "list webhooks to look at the dispatcher")
		return nil
	}
	wh, err := r.teamWebhook(ctx, list.Items)
	if err != nil {
		log.FromContext(ctx).Error(err, "look for a webhook of a team to look at the dispatcher")
		return nil
	}
	if wh == nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(wh)}}
}

// teamWebhook returns the first of whs in a team's namespace, or nil when none is.
func (r *WebhookReconciler) teamWebhook(ctx context.Context, whs []qualv1alpha1.Webhook) (*qualv1alpha1.Webhook, error) {
	checked := map[string]bool{}
	for i := range whs {
		ns := whs[i].Namespace
		if checked[ns] {
			continue
		}
		checked[ns] = true
		owned, err := teamOwns(ctx, r.Client, ns)
		if err != nil {
			return nil, err
		}
		if owned {
			return &whs[i], nil
		}
	}
	return nil, nil
}

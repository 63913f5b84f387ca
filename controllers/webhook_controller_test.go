package controllers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/egress"
	"qual.cx/operator/internal/signing"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/testenv"
)

var testDispatcher = controllers.DispatcherConfig{
	Image:            "registry.example/qual:v1",
	Replicas:         2,
	EgressAllow:      []string{"10.20.0.0/16"},
	EgressAllowHosts: []string{"hooks.internal"},
	StallHold:        72 * time.Hour,
	RescueAfter:      2 * time.Minute,
	AttemptTimeout:   20 * time.Second,
	Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	},
}

func newWebhook(ns, name string) *qualv1alpha1.Webhook {
	return &qualv1alpha1.Webhook{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: qualv1alpha1.WebhookSpec{
			URL:    "https://hooks.example/" + name,
			Events: []qualv1alpha1.WebhookEvent{"finding.created"},
		},
	}
}

func waitWebhook(t *testing.T, wh *qualv1alpha1.Webhook, ready metav1.ConditionStatus, reason string) {
	t.Helper()
	eventually(t, "webhook "+reason, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(wh), wh); err != nil {
			return err
		}
		if wh.Status.ObservedGeneration != wh.Generation {
			return errors.New("generation not observed yet")
		}
		return conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionReady, ready, reason)
	})
}

// createWebhook creates wh and waits until its Ready condition has the given status and
// reason.
func createWebhook(t *testing.T, wh *qualv1alpha1.Webhook, ready metav1.ConditionStatus, reason string) *qualv1alpha1.Webhook {
	t.Helper()
	if err := k8s.Create(context.Background(), wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, ready, reason)
	return wh
}

// dispatcher is the one dispatcher Deployment, in the operator's namespace.
func dispatcher(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: qualv1alpha1.SystemNamespace, Name: controllers.DispatcherName}, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWebhookGetsSigningSecretAndDispatcher(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("hooks")
	ensureTeamNamespace(t, ns)
	first := newWebhook(ns, "first")
	if err := k8s.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, first, metav1.ConditionTrue, "Delivering")

	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: first.Status.SecretRef.Name}, secret); err != nil {
		t.Fatal(err)
	}
	if v := string(secret.Data[controllers.WebhookSecretKey]); !strings.HasPrefix(v, signing.SecretPrefix) || !metav1.IsControlledBy(secret, first) {
		t.Fatalf("signing secret %q owned=%v", v, metav1.IsControlledBy(secret, first))
	}
	if _, err := signing.Sign(string(secret.Data[controllers.WebhookSecretKey]), "evt_1", 1, nil); err != nil {
		t.Fatalf("the generated secret cannot sign: %v", err)
	}
	d := dispatcher(t)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != testDispatcher.Image || *d.Spec.Replicas != 2 || c.Resources.Requests.Cpu().String() != "50m" {
		t.Fatalf("dispatcher does not follow the configuration: %+v", d.Spec)
	}
	if d.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != controllers.DispatcherName || pod.ServiceAccountName != "qual-dispatcher" {
		t.Fatalf("selector %v, service account %q", d.Spec.Selector, pod.ServiceAccountName)
	}
	// It serves every team and belongs to none: no webhook's deletion may take it.
	if len(d.OwnerReferences) != 0 {
		t.Fatalf("dispatcher owners %+v", d.OwnerReferences)
	}
	// The store's address comes from the Secret of the operator's namespace the apiserver
	// reads, into the --store flag; the manager's dispatcher flags are passed on.
	if len(c.Env) != 1 || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.SecretKeyRef == nil ||
		c.Env[0].ValueFrom.SecretKeyRef.Name != "qual-store" || c.Env[0].ValueFrom.SecretKeyRef.Key != "dsn" ||
		!slices.Equal(c.Args, []string{"dispatcher", "--store=$(" + c.Env[0].Name + ")",
			"--egress-allow=10.20.0.0/16", "--egress-allow-hosts=hooks.internal", "--stall-hold=72h0m0s", "--rescue-after=2m0s", "--webhook-attempt-timeout=20s"}) {
		t.Fatalf("dispatcher store wiring: args %v, env %+v", c.Args, c.Env)
	}
	reconcileIsSteady(t, reconcilers.Webhook, first)

	// A webhook in another namespace is served by the same dispatcher: none appears beside it.
	other := uniqueName("hooks")
	ensureTeamNamespace(t, other)
	second := newWebhook(other, "second")
	if err := k8s.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, second, metav1.ConditionTrue, "Delivering")
	if got := dispatcher(t); got.UID != d.UID || len(got.OwnerReferences) != 0 {
		t.Fatalf("a second webhook replaced or claimed the dispatcher: %+v", got.ObjectMeta)
	}
	for _, n := range []string{ns, other} {
		list := &appsv1.DeploymentList{}
		if err := k8s.List(ctx, list, client.InNamespace(n)); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 0 {
			t.Errorf("namespace %s holds %d deployments, want none", n, len(list.Items))
		}
	}
	if first.Status.SecretRef.Name == second.Status.SecretRef.Name {
		t.Fatal("webhooks must not share a signing secret")
	}
}

// A dispatcher an older operator ran in a team namespace goes: delivery runs in the
// operator's namespace.
func TestNamespaceDispatcherOfAnOlderOperatorIsDeleted(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("legacy")
	ensureTeamNamespace(t, ns)
	old := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: controllers.DispatcherName, Namespace: ns,
			Labels: map[string]string{qualv1alpha1.LabelManagedBy: qualv1alpha1.ManagedByValue, "app": "d"}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dispatcher", Image: "qual:old"}}}},
		},
	}
	if err := k8s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	wh := newWebhook(ns, "hook")
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	eventually(t, "old dispatcher deleted", func() error { return gone(ctx, old) })
	expectEvent(t, wh, "DispatcherMoved")
}

func TestDispatcherFollowsConfigurationAndIsOtherwiseLeftAlone(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("dispatch")
	ensureTeamNamespace(t, ns)
	wh := newWebhook(ns, "hook")
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")

	// Scaled by hand: the controller leaves it.
	d := dispatcher(t)
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = ptr.To[int32](5)
	if err := k8s.Patch(ctx, d, patch); err != nil {
		t.Fatal(err)
	}
	reconcileIsSteady(t, reconcilers.Webhook, wh)
	if got := *dispatcher(t).Spec.Replicas; got != 5 {
		t.Fatalf("a manual scale was undone: replicas %d", got)
	}

	// A Deployment made under another configuration (an older manager's): the running
	// manager brings it to its own, woken by the change itself.
	d = dispatcher(t)
	patch = client.MergeFrom(d.DeepCopy())
	d.Annotations["qual.cx/dispatcher-config"] = "from-an-older-manager"
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/qual:v0"
	if err := k8s.Patch(ctx, d, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "dispatcher follows the configuration", func() error {
		d := dispatcher(t)
		if img := d.Spec.Template.Spec.Containers[0].Image; img != testDispatcher.Image || *d.Spec.Replicas != testDispatcher.Replicas {
			return fmt.Errorf("image %s, replicas %d", img, *d.Spec.Replicas)
		}
		return nil
	})

	// Deleted by hand: it comes back.
	if err := k8s.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventually(t, "dispatcher recreated", func() error {
		got := &appsv1.Deployment{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		if got.UID == d.UID {
			return errors.New("still the deleted one")
		}
		return nil
	})
}

func TestWebhookWithMissingSecretStallsThenRecovers(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("byo")
	ensureTeamNamespace(t, ns)
	wh := newWebhook(ns, "byo-secret")
	wh.Spec.SecretRef = &qualv1alpha1.LocalSecretReference{Name: "my-signing"}
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionFalse, "SecretNotFound")
	if err := conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "SecretNotFound"); err != nil {
		t.Fatal(err)
	}
	if err := conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionDegraded, metav1.ConditionFalse, "Stalled"); err != nil {
		t.Fatal(err)
	}
	secretValue, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	own := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-signing"},
		Data: map[string][]byte{controllers.WebhookSecretKey: []byte(secretValue)}}
	if err := k8s.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	// The user's Secret is not watched; a reconcile (here: the next one) picks it up.
	if _, err := reconcilers.Webhook.Reconcile(ctx, requestFor(wh)); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	if wh.Status.SecretRef.Name != "my-signing" {
		t.Fatalf("secretRef %+v", wh.Status.SecretRef)
	}
}

// A webhook may not sign with a Secret the operator generated for another webhook: its
// deliveries, to a URL of its maker's choosing, would carry the other endpoint's signature.
func TestWebhookCannotNameAnotherWebhooksSigningSecret(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("borrow")
	ensureTeamNamespace(t, ns)
	victim := newWebhook(ns, "victim")
	if err := k8s.Create(ctx, victim); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, victim, metav1.ConditionTrue, "Delivering")
	borrower := newWebhook(ns, "borrower")
	borrower.Spec.SecretRef = &qualv1alpha1.LocalSecretReference{Name: victim.Status.SecretRef.Name}
	if err := k8s.Create(ctx, borrower); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, borrower, metav1.ConditionFalse, "SecretNotOwn")
	if err := conditionIs(borrower.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "SecretNotOwn"); err != nil {
		t.Fatal(err)
	}
}

// A Secret someone else made under the name of a webhook's generated signing Secret, with
// no operator label (so the cache never shows it), stalls the webhook on the conflict.
func TestWebhookStalledOnUnlabelledForeignSecret(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("squat")
	ensureTeamNamespace(t, ns)
	squatter := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "squatted-signing"}}
	if err := k8s.Create(ctx, squatter); err != nil {
		t.Fatal(err)
	}
	wh := newWebhook(ns, "squatted")
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionFalse, "SecretConflict")
	if err := conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "SecretConflict"); err != nil {
		t.Fatal(err)
	}
}

// The dispatcher reports failures in status; Degraded follows them, and a later success
// clears it.
func TestWebhookDegradedFollowsDeliveryFailures(t *testing.T) {
	ns := uniqueName("degraded")
	ensureTeamNamespace(t, ns)
	wh := newWebhook(ns, "failing")
	if err := k8s.Create(context.Background(), wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	waitDegraded(t, wh, metav1.ConditionFalse, "Delivering")

	dispatcherReports(t, wh, func(st *qualv1alpha1.WebhookStatus) {
		st.ConsecutiveFailures, st.LastDeliveryAt = 2, ptr.To(metav1.Now())
	})
	if c := waitDegraded(t, wh, metav1.ConditionTrue, "DeliveriesFailing"); !strings.Contains(c.Message, "2 deliveries in a row failed; none has succeeded yet") {
		t.Fatalf("Degraded message %q", c.Message)
	}
	// Failing deliveries do not make the webhook unready: it is still delivering.
	if err := conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Delivering"); err != nil {
		t.Fatal(err)
	}

	dispatcherReports(t, wh, func(st *qualv1alpha1.WebhookStatus) {
		now := metav1.Now()
		st.ConsecutiveFailures, st.LastDeliveryAt, st.LastSuccessAt = 0, &now, &now
	})
	waitDegraded(t, wh, metav1.ConditionFalse, "Delivering")

	lastSuccess := metav1.NewTime(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	dispatcherReports(t, wh, func(st *qualv1alpha1.WebhookStatus) {
		st.ConsecutiveFailures, st.LastSuccessAt = 3, &lastSuccess
	})
	if c := waitDegraded(t, wh, metav1.ConditionTrue, "DeliveriesFailing"); c.Message != "3 deliveries in a row failed since the last success at 2031-05-06T07:08:09Z" {
		t.Fatalf("Degraded message %q", c.Message)
	}
	reconcileIsSteady(t, reconcilers.Webhook, wh)
}

func TestWebhookReenabledClearsAutomaticDisable(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("reenable")
	ensureTeamNamespace(t, ns)
	wh := newWebhook(ns, "flaky")
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	dispatcherReports(t, wh, func(st *qualv1alpha1.WebhookStatus) { st.ConsecutiveFailures = 42 })
	waitDegraded(t, wh, metav1.ConditionTrue, "DeliveriesFailing")

	// What the dispatcher writes when it gives up on an endpoint: spec first, then status.
	setEnabled(t, wh, false)
	dispatcherReports(t, wh, func(st *qualv1alpha1.WebhookStatus) {
		st.DisabledAt, st.DisabledReason = ptr.To(metav1.Now()), "every delivery failed for 5 days"
	})
	waitWebhook(t, wh, metav1.ConditionFalse, "Disabled")
	// A disabled endpoint is sent nothing, so its streak degrades nothing: Ready says why.
	waitDegraded(t, wh, metav1.ConditionFalse, "DeliveryOff")
	if wh.Status.ConsecutiveFailures != 42 {
		t.Fatalf("the dispatcher's failure count was changed while disabled: %d", wh.Status.ConsecutiveFailures)
	}
	reconcileIsSteady(t, reconcilers.Webhook, wh)

	setEnabled(t, wh, true)
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	if wh.Status.DisabledAt != nil || wh.Status.ConsecutiveFailures != 0 || wh.Status.DisabledReason != "" {
		t.Fatalf("re-enabling left %+v", wh.Status)
	}
	waitDegraded(t, wh, metav1.ConditionFalse, "Delivering")
	expectEvent(t, wh, "Reenabled")
	reconcileIsSteady(t, reconcilers.Webhook, wh)
}

// Deleting a Webhook deletes its deliveries, their attempts and its health from the store, and
// nothing of another webhook's.
func TestWebhookDeletionDeletesItsDeliveryLog(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("hooked"), member("o@h.example", qualv1alpha1.RoleOwner)))
	doomed, kept := newWebhook(team.Status.Namespace, "doomed"), newWebhook(team.Status.Namespace, "kept")
	for _, wh := range []*qualv1alpha1.Webhook{doomed, kept} {
		if err := k8s.Create(ctx, wh); err != nil {
			t.Fatal(err)
		}
		waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
		if !slices.Contains(wh.Finalizers, "qual.cx/webhook-deliveries") {
			t.Fatalf("finalizers %v", wh.Finalizers)
		}
	}
	rows := db.Team(store.TeamID(team.UID))
	doomedDelivery, keptDelivery := seedDelivery(t, rows, doomed), seedDelivery(t, rows, kept)

	if err := k8s.Delete(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	eventually(t, "webhook gone", func() error { return gone(ctx, doomed) })
	if _, err := rows.GetDelivery(ctx, doomedDelivery); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted webhook's delivery is still in the store: %v", err)
	}
	if h, err := rows.Health(ctx, store.WebhookID(doomed.UID)); err != nil || h.ConsecutiveFailures != 0 || h.LastDeliveryAt != nil {
		t.Fatalf("the deleted webhook's health is still in the store: %+v, %v", h, err)
	}
	if d, err := rows.GetDelivery(ctx, keptDelivery); err != nil || len(d.Attempts) != 1 {
		t.Fatalf("another webhook's delivery was touched: %+v, %v", d, err)
	}
	if h, err := rows.Health(ctx, store.WebhookID(kept.UID)); err != nil || h.ConsecutiveFailures != 1 {
		t.Fatalf("another webhook's health was touched: %+v, %v", h, err)
	}
}

// While the store fails, a deleted Webhook stays, its finalizer holding it, and goes once the
// store works again.
func TestWebhookDeletionWaitsForTheStore(t *testing.T) {
	ctx := context.Background()
	team := readyTeam(t, newTeam(uniqueName("outage"), member("o@o.example", qualv1alpha1.RoleOwner)))
	wh := newWebhook(team.Status.Namespace, "held")
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	rows := db.Team(store.TeamID(team.UID))
	delivery := seedDelivery(t, rows, wh)

	closed, closeStore, err := testenv.TempStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	webhookDB.use(mgrClient, closed)
	t.Cleanup(func() { webhookDB.use(mgrClient, db) })

	if err := k8s.Delete(ctx, wh); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, wh, "DataCleanupFailed")
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(wh), wh); err != nil {
		t.Fatalf("the webhook must stay while its delivery log cannot be deleted: %v", err)
	}
	if !slices.Contains(wh.Finalizers, "qual.cx/webhook-deliveries") || wh.DeletionTimestamp.IsZero() {
		t.Fatalf("finalizers %v, deletion %v", wh.Finalizers, wh.DeletionTimestamp)
	}
	if _, err := rows.GetDelivery(ctx, delivery); err != nil {
		t.Fatalf("the delivery went without the store: %v", err)
	}

	webhookDB.use(mgrClient, db)
	eventually(t, "webhook gone", func() error { return gone(ctx, wh) })
	if _, err := rows.GetDelivery(ctx, delivery); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted webhook's delivery is still in the store: %v", err)
	}
}

// waitDegraded waits for the webhook's Degraded condition and returns it.
func waitDegraded(t *testing.T, wh *qualv1alpha1.Webhook, status metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	eventually(t, "webhook Degraded "+string(status), func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(wh), wh); err != nil {
			return err
		}
		return conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionDegraded, status, reason)
	})
	return *meta.FindStatusCondition(wh.Status.Conditions, qualv1alpha1.ConditionDegraded)
}

// dispatcherReports patches the webhook's status as the dispatcher does when it rolls up the
// endpoint's health: a merge patch of the fields it changed.
func dispatcherReports(t *testing.T, wh *qualv1alpha1.Webhook, change func(*qualv1alpha1.WebhookStatus)) {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(wh), wh); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(wh.DeepCopy())
	change(&wh.Status)
	if err := k8s.Status().Patch(ctx, wh, patch); err != nil {
		t.Fatal(err)
	}
}

func setEnabled(t *testing.T, wh *qualv1alpha1.Webhook, enabled bool) {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(wh), wh); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(wh.DeepCopy())
	wh.Spec.Enabled = ptr.To(enabled)
	if err := k8s.Patch(ctx, wh, patch); err != nil {
		t.Fatal(err)
	}
}

// seedDelivery stores an event and a delivery of it to wh with one failed attempt, as the
// dispatcher would: the webhook then has a delivery log and a health row.
func seedDelivery(t *testing.T, rows store.TeamStore, wh *qualv1alpha1.Webhook) store.DeliveryID {
	t.Helper()
	ctx := context.Background()
	ev, err := rows.AddEvent(ctx, store.NewEvent{Type: "finding.created", Subject: "fnd_" + wh.Name,
		Payload: json.RawMessage(`{"id":"fnd_` + wh.Name + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := rows.CreateDelivery(ctx, store.NewDelivery{WebhookID: store.WebhookID(wh.UID), EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	retry := time.Now().Add(time.Hour)
	if _, err := rows.RecordAttempt(ctx, d.ID, store.AttemptResult{StatusCode: 503, Status: store.DeliveryPending, NextRetryAt: &retry}); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// swappableWebhookData is the real store cleanup of webhooks, on a store a test may swap for
// a closed one to watch the finalizer hold a webhook through a store outage.
type swappableWebhookData struct {
	current atomic.Pointer[controllers.WebhookStore]
}

func (d *swappableWebhookData) use(namespaces client.Reader, s store.Store) {
	d.current.Store(&controllers.WebhookStore{Namespaces: namespaces, Store: s})
}

func (d *swappableWebhookData) DeleteWebhookData(ctx context.Context, wh *qualv1alpha1.Webhook) error {
	return d.current.Load().DeleteWebhookData(ctx, wh)
}

// testEgress is the suite's egress policy: production's, with the operator's exceptions in
// testDispatcher.
var testEgress = egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}, AllowHosts: []string{"hooks.internal"}}

// A Webhook applied with a URL the egress policy refuses, which REST would not have
// accepted, says so in status instead of showing Ready while every delivery fails; the
// operator's exceptions hold here as in the dispatcher, and fixing the URL makes it Ready.
func TestWebhookURLRefusedByEgressPolicy(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("egress")
	ensureTeamNamespace(t, ns)
	for _, c := range []struct{ url, reason, says string }{
		{"https://169.254.169.254/latest/meta-data", "URLRefused", "metadata"},
		{"http://hooks.example/plain", "URLRefused", "https"},
		{"https://192.168.1.20/hook", "URLRefused", "192.168.1.20"},
		{"https://[::ffff:127.0.0.1]/hook", "URLRefused", "127.0.0.1"},
		{"https://10.20.3.4/hook", "Delivering", ""},
		{"http://hooks.internal/hook", "Delivering", ""},
	} {
		wh := newWebhook(ns, uniqueName("wh"))
		wh.Spec.URL = c.url
		if err := k8s.Create(ctx, wh); err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		waitWebhook(t, wh, map[bool]metav1.ConditionStatus{true: metav1.ConditionTrue, false: metav1.ConditionFalse}[c.reason == "Delivering"], c.reason)
		if c.reason == "Delivering" {
			continue
		}
		ready := meta.FindStatusCondition(wh.Status.Conditions, qualv1alpha1.ConditionReady)
		if !strings.Contains(ready.Message, c.says) {
			t.Errorf("%s: Ready says %q, want it to name %q", c.url, ready.Message, c.says)
		}
		// REST shows this message as url_refused: the reason, not the Go error's package.
		if strings.Contains(ready.Message, "egress:") || wh.URLRefused() != ready.Message {
			t.Errorf("%s: Ready says %q, URLRefused %q", c.url, ready.Message, wh.URLRefused())
		}
		if err := conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "URLRefused"); err != nil {
			t.Errorf("%s: %v", c.url, err)
		}
		// Nothing is sent to it, so it is not "Delivering" either.
		if err := conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionDegraded, metav1.ConditionFalse, "NotDelivering"); err != nil {
			t.Errorf("%s: %v", c.url, err)
		}
		// The signing Secret is in place regardless, so a fixed URL delivers at once.
		if wh.Status.SecretRef == nil {
			t.Errorf("%s: no signing secret", c.url)
		}
		wh.Spec.URL = "https://hooks.example/fixed"
		if err := k8s.Update(ctx, wh); err != nil {
			t.Fatal(err)
		}
		waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	}
}

// A Webhook stored with a URL written otherwise than it is sent (a space), as the schema
// allowed before it refused such URLs and still keeps unchanged, is refused by the
// controller as REST refuses it: Ready=False URLRefused, shown in REST as url_refused, and
// no deliveries; a fixed URL delivers.
func TestWebhookURLCharactersRefusedAsRESTDoes(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("chars")
	ensureTeamNamespace(t, ns)
	wh := newWebhook(ns, uniqueName("wh"))
	wh.Spec.URL = "https://hooks.example/a b"
	probe := newWebhook("default", "probe-url-rules")
	probe.Spec.URL = wh.Spec.URL
	restore := liftRules(t, schemaRules{crd: "webhooks.qual.cx", path: []string{"spec", "url"},
		messages: []string{"url must be an ASCII URI", "url has a % "}}, probe)
	eventually(t, "a URL with a space is stored", func() error { return k8s.Create(ctx, wh.DeepCopy()) })
	restore()
	waitWebhook(t, wh, metav1.ConditionFalse, qualv1alpha1.ReasonURLRefused)
	if want := "spec.url is refused: the URL must be an ASCII URI with no spaces"; !strings.HasPrefix(wh.URLRefused(), want) {
		t.Fatalf("Ready says %q, want %q", wh.URLRefused(), want)
	}
	wh.Spec.URL = "https://hooks.example/a%20b"
	if err := k8s.Update(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
}

// A generated signing Secret someone deleted is made again, and the webhook says so in a
// Warning: its receivers still hold the old secret, so every delivery fails there until they
// are given the new one.
func TestDeletedSigningSecretIsReplacedWithAWarning(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("resecret")
	ensureTeamNamespace(t, ns)
	wh := newWebhook(ns, "resecret")
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	old := &corev1.Secret{}
	key := client.ObjectKey{Namespace: ns, Name: wh.Status.SecretRef.Name}
	if err := k8s.Get(ctx, key, old); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new signing secret", func() error {
		now := &corev1.Secret{}
		if err := k8s.Get(ctx, key, now); err != nil {
			return err
		}
		if now.UID == old.UID {
			return errors.New("still the old secret")
		}
		return nil
	})
	expectEvent(t, wh, "SigningSecretReplaced")
}

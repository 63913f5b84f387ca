package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/controllers"
	"qual.cx/operator/internal/signing"
)

var testDispatcher = controllers.DispatcherConfig{
	Image:    "registry.example/qual:v1",
	Replicas: 2,
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
	ensureNamespace(t, ns)
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
	// reads, into the --store flag.
	if len(c.Env) != 1 || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.SecretKeyRef == nil ||
		c.Env[0].ValueFrom.SecretKeyRef.Name != "qual-store" || c.Env[0].ValueFrom.SecretKeyRef.Key != "dsn" ||
		!slices.Equal(c.Args, []string{"dispatcher", "--store=$(" + c.Env[0].Name + ")"}) {
		t.Fatalf("dispatcher store wiring: args %v, env %+v", c.Args, c.Env)
	}
	reconcileIsSteady(t, reconcilers.Webhook, first)

	// A webhook in another namespace is served by the same dispatcher: none appears beside it.
	other := uniqueName("hooks")
	ensureNamespace(t, other)
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
	ensureNamespace(t, ns)
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
	ensureNamespace(t, ns)
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
	ensureNamespace(t, ns)
	wh := newWebhook(ns, "byo-secret")
	wh.Spec.SecretRef = &qualv1alpha1.LocalSecretReference{Name: "my-signing"}
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionFalse, "SecretNotFound")
	if err := conditionIs(wh.Status.Conditions, qualv1alpha1.ConditionStalled, metav1.ConditionTrue, "SecretNotFound"); err != nil {
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

func TestWebhookReenabledClearsAutomaticDisable(t *testing.T) {
	ctx := context.Background()
	ns := uniqueName("reenable")
	ensureNamespace(t, ns)
	wh := newWebhook(ns, "flaky")
	wh.Spec.Enabled = ptr.To(false)
	if err := k8s.Create(ctx, wh); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Paused")
	// What the dispatcher writes when it gives up on an endpoint.
	statusPatch := client.MergeFrom(wh.DeepCopy())
	now := metav1.Now()
	wh.Status.DisabledAt, wh.Status.DisabledReason, wh.Status.ConsecutiveFailures = &now, "every delivery failed for 5 days", 42
	if err := k8s.Status().Patch(ctx, wh, statusPatch); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcilers.Webhook.Reconcile(ctx, requestFor(wh)); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionFalse, "Disabled")

	patch := client.MergeFrom(wh.DeepCopy())
	wh.Spec.Enabled = ptr.To(true)
	if err := k8s.Patch(ctx, wh, patch); err != nil {
		t.Fatal(err)
	}
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	if wh.Status.DisabledAt != nil || wh.Status.ConsecutiveFailures != 0 || wh.Status.DisabledReason != "" {
		t.Fatalf("re-enabling left %+v", wh.Status)
	}
	expectEvent(t, wh, "Reenabled")
}

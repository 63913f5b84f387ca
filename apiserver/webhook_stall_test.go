package apiserver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/signing"
)

// judgedHook waits until the Webhook controller has judged the object's current generation
// and the REST API at base shows its verdict, and returns the webhook as REST shows it.
func judgedHook(t *testing.T, base, token string, obj *qualv1alpha1.Webhook) webhook {
	t.Helper()
	var wh webhook
	waitFor(t, "the controller's verdict on "+obj.Name+" through REST", func() error {
		cur := &qualv1alpha1.Webhook{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), cur); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(cur.Status.Conditions, qualv1alpha1.ConditionReady)
		if ready == nil || ready.ObservedGeneration != cur.Generation || ready.Reason == "ReconcileError" {
			return fmt.Errorf("not judged yet: %+v", ready)
		}
		r := callAt(t, base, "GET", "/api/v1/webhooks/"+string(obj.UID), token, nil)
		if r.status != 200 {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		r.data(t, &wh)
		stalled := meta.IsStatusConditionTrue(cur.Status.Conditions, qualv1alpha1.ConditionStalled)
		if stalled != (wh.Stalled != nil) || stalled && wh.Stalled.Reason != ready.Reason {
			return fmt.Errorf("Ready says %s, REST says stalled %+v", ready.Reason, wh.Stalled)
		}
		return nil
	})
	return wh
}

// A Webhook applied with kubectl whose signing Secret cannot sign (the one its secretRef
// names is missing or holds no secret, or the one the operator would make is someone else's)
// shows why in stalled, as its Stalled condition does, instead of looking enabled and healthy
// while nothing is sent; a test send is 409, which waiting does not change, and says what to
// fix. Once the Secret is there, stalled is null and the test send goes out.
func TestKubectlWebhookStalledOnItsSecret(t *testing.T) {
	b := webhookStacks(t)[0]
	tn := hookTenant(t, b.url, "hooks-stalled")
	ctx := context.Background()
	ns := "team-" + tn.team.Name
	apply := func(name string, ref *qualv1alpha1.LocalSecretReference) *qualv1alpha1.Webhook {
		obj := &qualv1alpha1.Webhook{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: qualv1alpha1.WebhookSpec{URL: "https://hooks.qual.invalid/" + name, Events: []qualv1alpha1.WebhookEvent{"*"}, SecretRef: ref}}
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		return obj
	}
	secret := func(name string, data map[string][]byte) {
		if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	good, err := signing.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	secret("no-key", map[string][]byte{"other": []byte(good)})
	secret("taken-signing", map[string][]byte{"secret": []byte(good)}) // not the operator's

	for _, c := range []struct {
		name, reason, code, named string
		ref                       *qualv1alpha1.LocalSecretReference
	}{
		{"missing", "SecretNotFound", "INVALID_STATE", "does-not-exist", &qualv1alpha1.LocalSecretReference{Name: "does-not-exist"}},
		{"invalid", "SecretInvalid", "INVALID_STATE", "no-key", &qualv1alpha1.LocalSecretReference{Name: "no-key"}},
		{"taken", "SecretConflict", "CONFLICT", "taken-signing", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			wh := judgedHook(t, b.url, tn.secret, apply(c.name, c.ref))
			if wh.Stalled == nil || wh.Stalled.Reason != c.reason || !strings.Contains(wh.Stalled.Message, c.named) ||
				!wh.Enabled || wh.URLRefused != nil {
				t.Fatalf("a webhook stalled on its Secret through REST: %+v", wh)
			}
			e := callAt(t, b.url, "POST", "/api/v1/webhooks/"+wh.ID+"/test", tn.secret, nil).expectError(t, 409, c.code)
			if !strings.Contains(e.Message, c.named) {
				t.Fatalf("the test send's refusal does not name the Secret: %q", e.Message)
			}
		})
	}
	var listed []webhook
	callAt(t, b.url, "GET", "/api/v1/webhooks", tn.secret, nil).expect(t, 200).data(t, &listed)
	for _, wh := range listed {
		if wh.Stalled == nil {
			t.Fatalf("the list shows a stalled webhook as %+v", wh)
		}
	}

	// The owner makes the Secret; the controller looks again at the next change of the
	// webhook (or within its recheck), and the webhook is no longer stalled.
	secret("does-not-exist", map[string][]byte{"secret": []byte(good)})
	var missing qualv1alpha1.Webhook
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "missing"}, &missing); err != nil {
		t.Fatal(err)
	}
	callAt(t, b.url, "PATCH", "/api/v1/webhooks/"+string(missing.UID), tn.secret, map[string]any{"description": "fixed"}).expect(t, 200)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(&missing), &missing); err != nil {
		t.Fatal(err)
	}
	if fixed := judgedHook(t, b.url, tn.secret, &missing); fixed.Stalled != nil || fixed.Description != "fixed" {
		t.Fatalf("after the Secret was made: %+v", fixed)
	}
	// Sent (to a name that resolves nowhere, so the delivery fails), no longer refused.
	callAt(t, b.url, "POST", "/api/v1/webhooks/"+string(missing.UID)+"/test", tn.secret, nil).expect(t, 200)
}

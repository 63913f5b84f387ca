package controllers_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/testenv"
)

// TestSamplesConvergeInOneApply applies config/samples once, as `kubectl apply
// --server-side -k` does, into a cluster that has none of it, and expects everything
// reconciled; a second apply changes nothing and fails nothing.
func TestSamplesConvergeInOneApply(t *testing.T) {
	ctx := context.Background()
	objs, err := testenv.Samples()
	if err != nil {
		t.Fatal(err)
	}
	apply := func() {
		t.Helper()
		for _, u := range objs {
			if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
				t.Fatalf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
			}
		}
	}
	apply()

	var (
		team *qualv1alpha1.Team
		cmp  *qualv1alpha1.Campaign
		key  *qualv1alpha1.APIKey
		wh   *qualv1alpha1.Webhook
	)
	for _, u := range objs {
		meta := metav1.ObjectMeta{Namespace: u.GetNamespace(), Name: u.GetName()}
		switch u.GetKind() {
		case "Team":
			team = &qualv1alpha1.Team{ObjectMeta: meta}
		case "Campaign":
			cmp = &qualv1alpha1.Campaign{ObjectMeta: meta}
		case "APIKey":
			key = &qualv1alpha1.APIKey{ObjectMeta: meta}
		case "Webhook":
			wh = &qualv1alpha1.Webhook{ObjectMeta: meta}
		}
	}
	if team == nil || cmp == nil || key == nil || wh == nil {
		t.Fatal("the samples need a Team, a Campaign, an APIKey and a Webhook")
	}

	eventually(t, "sample team ready", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
			return err
		}
		return conditionIs(team.Status.Conditions, qualv1alpha1.ConditionReady, metav1.ConditionTrue, "Reconciled")
	})
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: team.Status.Namespace}, ns); err != nil {
		t.Fatal(err)
	}
	if !metav1.IsControlledBy(ns, team) || ns.Labels[qualv1alpha1.LabelTeamUID] != string(team.UID) {
		t.Fatalf("the sample namespace was not adopted by its team: %+v", ns.ObjectMeta)
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, string(qualv1alpha1.StateActive))
	waitKey(t, key, metav1.ConditionTrue, "Active")
	waitWebhook(t, wh, metav1.ConditionTrue, "Delivering")
	if key.Status.SecretRef == nil || key.Annotations[qualv1alpha1.AnnotationCreatedBy] == "" {
		t.Fatalf("sample key: secretRef %v, annotations %v", key.Status.SecretRef, key.Annotations)
	}

	// Applying again, as a GitOps loop does, writes nothing.
	settled := []client.Object{team, cmp, key, wh, ns}
	before := make([]string, len(settled))
	for i, obj := range settled {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		before[i] = obj.GetResourceVersion()
	}
	apply()
	for i, obj := range settled {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		if obj.GetResourceVersion() != before[i] {
			t.Errorf("%T %s was written by a second identical apply", obj, obj.GetName())
		}
	}
}

package controllers_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// A pass that read an older copy of its object than the status last written can find
// nothing to patch, leaving a wrong Ready behind (the Team once stayed Ready=False for good
// when a pass with a lagging RoleBinding cache failed after a successful one). Here a status
// write stands in for that pass: each controller must notice the changed conditions and put
// its verdict back, without a spec change to wake it.
func TestConditionsOverwrittenByAStalePassAreRepaired(t *testing.T) {
	ctx := context.Background()
	ensureTeamNamespace(t, keyNS)
	team := readyTeam(t, newTeam(uniqueName("stale"), member("o@stale.example", qualv1alpha1.RoleOwner)))
	cmp := newCampaign(uniqueName("stale"), qualv1alpha1.StateDraft)
	cmp.Namespace = team.Status.Namespace
	key := newKey(uniqueName("stale"), qualv1alpha1.KeySecret, "campaigns:read")
	for _, obj := range []client.Object{cmp, key} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	waitCampaign(t, cmp, metav1.ConditionTrue, "Draft")
	waitKey(t, key, metav1.ConditionTrue, "Active")

	for _, c := range []struct {
		obj    client.Object
		conds  *[]metav1.Condition
		reason string
	}{
		{team, &team.Status.Conditions, "Reconciled"},
		{cmp, &cmp.Status.Conditions, "Draft"},
		{key, &key.Status.Conditions, "Active"},
	} {
		patch := client.MergeFrom(c.obj.DeepCopyObject().(client.Object))
		meta.SetStatusCondition(c.conds, metav1.Condition{
			Type: qualv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "ReconcileError",
			Message: "written by a pass that read a stale copy", ObservedGeneration: c.obj.GetGeneration(),
		})
		if err := k8s.Status().Patch(ctx, c.obj, patch); err != nil {
			t.Fatal(err)
		}
		eventually(t, c.reason+" restored", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(c.obj), c.obj); err != nil {
				return err
			}
			return conditionIs(*c.conds, qualv1alpha1.ConditionReady, metav1.ConditionTrue, c.reason)
		})
	}
}

package controllers

import (
	"context"
	"testing"

	"k8s.io/client-go/tools/events"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Two legal moves that landed before the controller accepted the first (spec Completed,
// phase still Draft) are followed, with the publish time of the move it did not see: the
// schema refuses the way back, so a stall would hold the campaign for good. A move no legal
// path reaches still stalls. This is the deterministic half of
// TestCampaignFollowsMovesFasterThanItself, which races the running controller.
func TestReconcileStateFollowsSeveralMoves(t *testing.T) {
	r := &CampaignReconciler{Recorder: events.NewFakeRecorder(10)}
	cmp := &qualv1alpha1.Campaign{Spec: qualv1alpha1.CampaignSpec{State: qualv1alpha1.StateCompleted},
		Status: qualv1alpha1.CampaignStatus{Phase: qualv1alpha1.StateDraft}}
	if err := r.reconcileState(context.Background(), cmp); err != nil {
		t.Fatal(err)
	}
	if st := cmp.Status; st.Phase != qualv1alpha1.StateCompleted || st.PublishedAt == nil || st.CompletedAt == nil {
		t.Fatalf("status %+v", st)
	}

	back := &qualv1alpha1.Campaign{Spec: qualv1alpha1.CampaignSpec{State: qualv1alpha1.StateDraft},
		Status: qualv1alpha1.CampaignStatus{Phase: qualv1alpha1.StatePaused}}
	if err := r.reconcileState(context.Background(), back); err == nil || back.Status.Phase != qualv1alpha1.StatePaused {
		t.Fatalf("Paused to Draft: %v, phase %s", err, back.Status.Phase)
	}
}

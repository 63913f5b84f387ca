package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Two legal moves that landed before the controller accepted the first (spec Completed,
// phase still Draft) are followed, with the publish time of the move it did not see: the
// schema refuses the way back, so a stall would hold the campaign for good. This is the
// deterministic half of TestCampaignFollowsMovesFasterThanItself, which races the running
// controller.
func TestReconcileStateFollowsSeveralMoves(t *testing.T) {
	r := &CampaignReconciler{Recorder: events.NewFakeRecorder(10)}
	cmp := &qualv1alpha1.Campaign{Spec: qualv1alpha1.CampaignSpec{State: qualv1alpha1.StateCompleted},
		Status: qualv1alpha1.CampaignStatus{Phase: qualv1alpha1.StateDraft}}
	before := cmp.Status.DeepCopy()
	if announced := r.reconcileState(cmp, before); announced != before {
		t.Fatalf("a move announced as %+v", announced)
	}
	if st := cmp.Status; st.Phase != qualv1alpha1.StateCompleted || st.PublishedAt == nil || st.CompletedAt == nil {
		t.Fatalf("status %+v", st)
	}
}

// A phase no legal move leads from to spec.state was written by hand: it is re-derived from
// the spec, with the stamps of states not reached, instead of stalling the campaign. Unless
// the spec changed since the last pass, the correction is announced as no move.
func TestReconcileStateRederivesAHandWrittenPhase(t *testing.T) {
	r := &CampaignReconciler{Recorder: events.NewFakeRecorder(10)}
	then := metav1.NewTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))

	back := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Spec:   qualv1alpha1.CampaignSpec{State: qualv1alpha1.StateDraft},
		Status: qualv1alpha1.CampaignStatus{Phase: qualv1alpha1.StatePaused, ObservedGeneration: 2, PublishedAt: &then, PausedAt: &then}}
	before := back.Status.DeepCopy()
	announced := r.reconcileState(back, before)
	if st := back.Status; st.Phase != qualv1alpha1.StateDraft || st.PublishedAt != nil || st.PausedAt != nil {
		t.Fatalf("Paused by hand, Draft in the spec: %+v", st)
	}
	if announced.Phase != qualv1alpha1.StateDraft {
		t.Fatalf("a silent correction announced from %s", announced.Phase)
	}

	// A REST pause of an active campaign whose phase was set to Completed by hand.
	paused := &qualv1alpha1.Campaign{ObjectMeta: metav1.ObjectMeta{Generation: 3},
		Spec:   qualv1alpha1.CampaignSpec{State: qualv1alpha1.StatePaused},
		Status: qualv1alpha1.CampaignStatus{Phase: qualv1alpha1.StateCompleted, ObservedGeneration: 2, PublishedAt: &then, CompletedAt: &then}}
	before = paused.Status.DeepCopy()
	if announced := r.reconcileState(paused, before); announced != before {
		t.Fatalf("the move the spec asked for announced as %+v", announced)
	}
	if st := paused.Status; st.Phase != qualv1alpha1.StatePaused || st.CompletedAt != nil || st.PausedAt == nil || !st.PublishedAt.Equal(&then) {
		t.Fatalf("Completed by hand, Paused in the spec: %+v", st)
	}
}

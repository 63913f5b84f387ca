package campaignstate

import (
	"errors"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

func TestCheckCoversEveryPair(t *testing.T) {
	states := []qualv1alpha1.CampaignState{"", qualv1alpha1.StateDraft, qualv1alpha1.StateActive, qualv1alpha1.StatePaused, qualv1alpha1.StateCompleted}
	allowed := map[[2]qualv1alpha1.CampaignState]bool{
		{"", qualv1alpha1.StateDraft}: true, {"", qualv1alpha1.StateActive}: true,
		{qualv1alpha1.StateDraft, qualv1alpha1.StateDraft}: true, {qualv1alpha1.StateDraft, qualv1alpha1.StateActive}: true,
		{qualv1alpha1.StateActive, qualv1alpha1.StateActive}: true, {qualv1alpha1.StateActive, qualv1alpha1.StatePaused}: true,
		{qualv1alpha1.StateActive, qualv1alpha1.StateCompleted}: true, {qualv1alpha1.StatePaused, qualv1alpha1.StatePaused}: true,
		{qualv1alpha1.StatePaused, qualv1alpha1.StateActive}: true, {qualv1alpha1.StatePaused, qualv1alpha1.StateCompleted}: true,
		{qualv1alpha1.StateCompleted, qualv1alpha1.StateCompleted}: true,
	}
	for _, from := range states {
		for _, to := range states[1:] {
			err := Check(from, to)
			if want := allowed[[2]qualv1alpha1.CampaignState{from, to}]; (err == nil) != want {
				t.Errorf("Check(%q, %q) = %v, want allowed=%v", from, to, err, want)
			}
			var illegal *IllegalTransitionError
			if err != nil && (!errors.As(err, &illegal) || illegal.To != to) {
				t.Errorf("Check(%q, %q) returned %T %v, want *IllegalTransitionError", from, to, err, err)
			}
		}
	}
}

func TestActionTargets(t *testing.T) {
	for action, want := range map[Action]qualv1alpha1.CampaignState{
		Publish: qualv1alpha1.StateActive, Pause: qualv1alpha1.StatePaused, Complete: qualv1alpha1.StateCompleted,
	} {
		if got, ok := action.Target(); !ok || got != want {
			t.Errorf("%s.Target() = %q, %v; want %q", action, got, ok, want)
		}
	}
	if _, ok := Action("archive").Target(); ok {
		t.Error("an unknown action must have no target")
	}
}

func TestErrorSaysFromAndTo(t *testing.T) {
	err := Check(qualv1alpha1.StateDraft, qualv1alpha1.StatePaused)
	if err == nil || err.Error() != "a campaign cannot move from Draft to Paused" {
		t.Fatalf("got %v", err)
	}
}

// Reachable is Check taken any number of times: Draft reaches every state, nothing but
// Draft reaches Draft, Completed reaches only itself.
func TestReachable(t *testing.T) {
	d, a, p, c := qualv1alpha1.StateDraft, qualv1alpha1.StateActive, qualv1alpha1.StatePaused, qualv1alpha1.StateCompleted
	for _, from := range []qualv1alpha1.CampaignState{"", d, a, p, c} {
		for _, to := range []qualv1alpha1.CampaignState{d, a, p, c} {
			want := from == to || (from == "" && to == d) || ((from == "" || from == d) && to != d) ||
				(from == a || from == p) && (to == a || to == p || to == c)
			if got := Reachable(from, to); got != want {
				t.Errorf("Reachable(%q, %q) = %v, want %v", from, to, got, want)
			}
		}
	}
}

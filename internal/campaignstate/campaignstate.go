// Package campaignstate holds the one set of rules for moving a campaign between publish
// states. The Campaign controller and the REST apiserver both decide with it, so kubectl and
// REST can never disagree on what is legal.
package campaignstate

import (
	"fmt"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// IllegalTransitionError reports a move the rules forbid.
type IllegalTransitionError struct {
	From, To qualv1alpha1.CampaignState
}

func (e *IllegalTransitionError) Error() string {
	return fmt.Sprintf("a campaign cannot move from %s to %s", e.From, e.To)
}

// legal lists, for each state, the states it may move to.
var legal = map[qualv1alpha1.CampaignState][]qualv1alpha1.CampaignState{
	qualv1alpha1.StateDraft:  {qualv1alpha1.StateActive},
	qualv1alpha1.StateActive: {qualv1alpha1.StatePaused, qualv1alpha1.StateCompleted},
	qualv1alpha1.StatePaused: {qualv1alpha1.StateActive, qualv1alpha1.StateCompleted},
}

// Check returns nil when a campaign in state from may move to state to, and an
// *IllegalTransitionError otherwise. Staying in the same state is always allowed. An empty
// from is a campaign never reconciled, which starts as Draft.
func Check(from, to qualv1alpha1.CampaignState) error {
	if from == "" {
		from = qualv1alpha1.StateDraft
	}
	if from == to {
		return nil
	}
	for _, next := range legal[from] {
		if next == to {
			return nil
		}
	}
	return &IllegalTransitionError{From: from, To: to}
}

// Reachable reports whether a campaign in state from can come to state to by legal moves,
// one or several: the Campaign's schema lets spec.state take only legal moves, but two may
// land before the controller accepts the first (Draft to Active to Completed), and the
// controller then follows both instead of stalling on a move nobody made in one step.
func Reachable(from, to qualv1alpha1.CampaignState) bool {
	if from == "" {
		from = qualv1alpha1.StateDraft
	}
	seen := map[qualv1alpha1.CampaignState]bool{from: true}
	for frontier := []qualv1alpha1.CampaignState{from}; len(frontier) > 0; frontier = frontier[1:] {
		if frontier[0] == to {
			return true
		}
		for _, next := range legal[frontier[0]] {
			if !seen[next] {
				seen[next] = true
				frontier = append(frontier, next)
			}
		}
	}
	return false
}

// Action is a REST verb that moves a campaign.
type Action string

// The actions of POST /campaigns/{id}/{action}.
const (
	Publish  Action = "publish"
	Pause    Action = "pause"
	Complete Action = "complete"
)

// Target returns the state an action moves a campaign to, and false for an unknown action.
func (a Action) Target() (qualv1alpha1.CampaignState, bool) {
	switch a {
	case Publish:
		return qualv1alpha1.StateActive, true
	case Pause:
		return qualv1alpha1.StatePaused, true
	case Complete:
		return qualv1alpha1.StateCompleted, true
	}
	return "", false
}

// CheckAction returns nil when the action may move a campaign in state from. Unlike Check,
// an action that would leave the campaign where it is (publishing an active campaign) is
// refused: the transition table has no such edge, and a client should learn it asked for
// nothing.
func CheckAction(from qualv1alpha1.CampaignState, a Action) error {
	to, ok := a.Target()
	if from == "" {
		from = qualv1alpha1.StateDraft
	}
	if !ok || from == to {
		return &IllegalTransitionError{From: from, To: to}
	}
	return Check(from, to)
}

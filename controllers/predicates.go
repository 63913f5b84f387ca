package controllers

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// conditioned is an object that reports its state in status conditions.
type conditioned interface {
	GetConditions() []metav1.Condition
}

// specOrConditionsChanged passes a spec change (a new generation, deletion included) and a
// change of the conditions. A reconcile may read a copy of its object older than the status
// it last wrote: its verdict then equals what that old copy holds, it patches nothing, and
// the newer conditions stay wrong (Ready=False from a failed pass after a successful one).
// When the cache later delivers that newer status, the conditions differ from the verdict
// and this wakes the controller to write it. Status writes that leave the conditions alone
// (counters, last-used stamps) still cost no reconcile.
func specOrConditionsChanged() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{}, predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			older, ok1 := e.ObjectOld.(conditioned)
			newer, ok2 := e.ObjectNew.(conditioned)
			return ok1 && ok2 && !equality.Semantic.DeepEqual(older.GetConditions(), newer.GetConditions())
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	})
}

// campaignPhaseChanged passes a change of a Campaign's status.phase. The controller's own
// phase writes cost one quiet pass each; a phase written by hand is corrected from the spec
// at once (rederive) rather than at the next roll-up of counts, or never for a draft.
func campaignPhaseChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			older, ok1 := e.ObjectOld.(*qualv1alpha1.Campaign)
			newer, ok2 := e.ObjectNew.(*qualv1alpha1.Campaign)
			return ok1 && ok2 && older.Status.Phase != newer.Status.Phase
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

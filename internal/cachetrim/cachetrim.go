// Package cachetrim is the transform the informer caches apply to every object they hold:
// what no reader needs is dropped, and the strings thousands of objects repeat (their
// namespace, finalizers, condition types and reasons, enum values) share one copy. The
// controllers and the REST read model read the same cache, so a campaign costs the process
// its unique bytes and little more.
package cachetrim

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Transform trims an object on its way into the cache. It never fails.
func Transform(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		trimManagedFields(m)
		trimMeta(m)
	}
	switch o := obj.(type) {
	case *qualv1alpha1.Campaign:
		o.Spec.Mode = qualv1alpha1.CampaignMode(intern(string(o.Spec.Mode)))
		o.Spec.State = qualv1alpha1.CampaignState(intern(string(o.Spec.State)))
		o.Spec.Settings.Language = intern(o.Spec.Settings.Language)
		o.Status.Phase = qualv1alpha1.CampaignState(intern(string(o.Status.Phase)))
		trimConditions(o.Status.Conditions)
	case *qualv1alpha1.APIKey:
		trimConditions(o.Status.Conditions)
	case *qualv1alpha1.Team:
		trimConditions(o.Status.Conditions)
	case *qualv1alpha1.Webhook:
		trimConditions(o.Status.Conditions)
	}
	return obj, nil
}

// trimManagedFields keeps of an object's managed fields only what a reader uses: the time
// of its latest spec change (REST's updated_at), without the field sets, which are often the
// largest part of an object. Server-side apply is resolved by the API server, never from the
// cache.
func trimManagedFields(m metav1.Object) {
	latest := qualv1alpha1.LatestSpecChange(m.GetManagedFields())
	if latest == nil {
		m.SetManagedFields(nil)
		return
	}
	m.SetManagedFields([]metav1.ManagedFieldsEntry{{
		Manager: intern(latest.Manager), Operation: metav1.ManagedFieldsOperationType(intern(string(latest.Operation))),
		Time: latest.Time,
	}})
}

// trimMeta shares the metadata strings many objects repeat.
func trimMeta(m metav1.Object) {
	m.SetNamespace(intern(m.GetNamespace()))
	f := m.GetFinalizers()
	for i := range f {
		f[i] = intern(f[i])
	}
}

// trimConditions shares a condition's type, status, reason and message: a handful of values
// across every object of a kind.
func trimConditions(conds []metav1.Condition) {
	for i := range conds {
		c := &conds[i]
		c.Type = intern(c.Type)
		c.Status = metav1.ConditionStatus(intern(string(c.Status)))
		c.Reason = intern(c.Reason)
		c.Message = intern(c.Message)
	}
}

// intern returns the one shared copy of s; unique drops it once no object holds it.
func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

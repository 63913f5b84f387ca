// Package controllers holds one reconciler per qual.cx kind: Team, Campaign, APIKey and
// Webhook. Each gets its object, handles deletion first, converges in a few small ordered
// steps and patches status once, at the end.
package controllers

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// managedLabels are the labels of every child object, plus extra pairs.
func managedLabels(extra ...string) map[string]string {
	l := map[string]string{qualv1alpha1.LabelManagedBy: qualv1alpha1.ManagedByValue}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// isManaged reports whether the operator created obj.
func isManaged(obj client.Object) bool {
	return obj.GetLabels()[qualv1alpha1.LabelManagedBy] == qualv1alpha1.ManagedByValue
}

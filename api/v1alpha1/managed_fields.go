package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SpecChangedAt is when a person or the REST API last changed an object: the latest time its
// managed fields record a write that is neither a subresource's (status) nor the
// controllers' (finalizers, status); the creation time when there is none. REST's
// `updated_at` is this time.
func SpecChangedAt(m *metav1.ObjectMeta) time.Time {
	latest := m.CreationTimestamp.Time
	if f := LatestSpecChange(m.ManagedFields); f != nil && f.Time.After(latest) {
		latest = f.Time.Time
	}
	return latest.UTC()
}

// LatestSpecChange is the managed-fields entry of the latest spec change, or nil.
func LatestSpecChange(entries []metav1.ManagedFieldsEntry) *metav1.ManagedFieldsEntry {
	var latest *metav1.ManagedFieldsEntry
	for i := range entries {
		f := &entries[i]
		if f.Subresource != "" || f.Manager == ControllerFieldManager || f.Time == nil {
			continue
		}
		if latest == nil || f.Time.After(latest.Time.Time) {
			latest = f
		}
	}
	return latest
}

package v1alpha1

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SpecChangedAt is when a person or the REST API last changed an object's spec: the latest
// time its managed fields record a write that is neither a subresource's (status) nor the
// controllers' (finalizers, status), by a manager that owns fields of the spec (kubectl label
// and annotate own metadata only); the creation time when there is none. REST's `updated_at`
// is this time.
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
		if f.Subresource != "" || f.Manager == ControllerFieldManager || f.Time == nil || !ownsSpec(f) {
			continue
		}
		if latest == nil || f.Time.After(latest.Time.Time) {
			latest = f
		}
	}
	return latest
}

// ownsSpec reports whether an entry's field set holds fields of the spec. An entry without
// its field set is taken as one: the informer caches keep only the latest spec change, with
// its time and without its fields (internal/cachetrim).
func ownsSpec(f *metav1.ManagedFieldsEntry) bool {
	if f.FieldsV1 == nil {
		return true
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(f.FieldsV1.GetRawBytes(), &top); err != nil {
		return true // unreadable: counted, as before fields were looked at
	}
	_, ok := top["f:spec"]
	return ok
}

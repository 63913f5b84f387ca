package controllers

import (
	"context"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// goingRecorder records Events, except about objects in a namespace that is terminating or
// about to be: its Team is being deleted (or gone), and the Team's finalizer deletes the
// namespace. Kubernetes refuses anything created in a terminating namespace, and the
// recorder, which sends Events after the reconcile, logs each refusal as an error with a stack
// trace: deleting a team, which stalls everything in its namespace (NoTeam) one last time,
// logged a dozen of them. Such an Event would have no reader anyway: it goes with the
// namespace.
type goingRecorder struct {
	events.EventRecorder
	// cache reads the namespace and its Team from the cache the reconcile read, so a Team
	// the reconcile saw being deleted is seen so here too.
	cache client.Reader
	log   logr.Logger
}

// skipInGoingNamespaces wraps rec so that it records nothing in a namespace that is going.
func skipInGoingNamespaces(rec events.EventRecorder, cache client.Reader, log logr.Logger) events.EventRecorder {
	return &goingRecorder{EventRecorder: rec, cache: cache, log: log}
}

// Eventf records the Event unless regarding is in a namespace that is going.
func (r *goingRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if ns := namespaceOf(regarding); ns != "" && r.going(context.Background(), ns) {
		r.log.V(1).Info("event not recorded: its namespace is being deleted", "namespace", ns, "reason", reason)
		return
	}
	r.EventRecorder.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

// going reports whether a namespace is terminating, or is a Team's that is being deleted or
// is gone (the garbage collector deletes a namespace whose controller is gone). A namespace
// or Team that cannot be read is taken as staying: an Event is worth more than the log line
// it may cost.
func (r *goingRecorder) going(ctx context.Context, name string) bool {
	ns := &corev1.Namespace{}
	if err := r.cache.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return false
	}
	if !ns.DeletionTimestamp.IsZero() {
		return true
	}
	owner := metav1.GetControllerOf(ns)
	if owner == nil || owner.Kind != "Team" || owner.APIVersion != qualv1alpha1.GroupVersion.String() {
		return false
	}
	team := &qualv1alpha1.Team{}
	if err := r.cache.Get(ctx, client.ObjectKey{Name: owner.Name}, team); err != nil {
		return client.IgnoreNotFound(err) == nil
	}
	return team.UID != owner.UID || !team.DeletionTimestamp.IsZero()
}

// namespaceOf is the namespace of a namespaced object, "" for a cluster-scoped one.
func namespaceOf(obj runtime.Object) string {
	m, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return m.GetNamespace()
}

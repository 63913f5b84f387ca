package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// patchStatus writes the difference between two statuses as a JSON merge patch of the status
// subresource, and nothing when they are equal, so a reconcile that changes nothing writes
// nothing. The patch carries no resourceVersion: status belongs to the controller, and fields
// it did not change (those the dispatcher reports) are left as they are.
func patchStatus(ctx context.Context, c client.Client, obj client.Object, before, after any) error {
	return statusPatch(ctx, c, obj, before, after, false)
}

// patchStatusLocked is patchStatus that applies only to the object as it was read: a pass
// that read a stale copy from the cache gets a conflict (and is retried on a fresh one)
// instead of writing a change, and its Events, a second time.
func patchStatusLocked(ctx context.Context, c client.Client, obj client.Object, before, after any) error {
	return statusPatch(ctx, c, obj, before, after, true)
}

func statusPatch(ctx context.Context, c client.Client, obj client.Object, before, after any, locked bool) error {
	if equality.Semantic.DeepEqual(before, after) {
		return nil
	}
	oldJSON, err := json.Marshal(before)
	if err != nil {
		return fmt.Errorf("marshal old status: %w", err)
	}
	newJSON, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("marshal new status: %w", err)
	}
	diff, err := jsonpatch.CreateMergePatch(oldJSON, newJSON)
	if err != nil {
		return fmt.Errorf("diff status: %w", err)
	}
	body := map[string]any{"status": json.RawMessage(diff)}
	if locked {
		body["metadata"] = map[string]string{"resourceVersion": obj.GetResourceVersion()}
	}
	patch, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("marshal status patch: %w", err)
	}
	if err := c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("patch status of %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// stalledError is a step's verdict that it cannot progress until the spec or the cluster
// changes. The reconciler records it in the Stalled condition and does not retry on its own.
type stalledError struct {
	reason, message string
	// recheck, when set, is when to look again: for a stall on something the controller
	// does not watch, such as a Secret the user names.
	recheck time.Duration
}

func (e *stalledError) Error() string { return e.reason + ": " + e.message }

func stalled(reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// stalledRecheck is stalled, for a cause the controller cannot watch: it looks again after d.
func stalledRecheck(d time.Duration, reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...), recheck: d}
}

// recheckAfter is how long until a stalled object is looked at again; zero for none.
func recheckAfter(err error) time.Duration {
	var st *stalledError
	if errors.As(err, &st) {
		return st.recheck
	}
	return 0
}

// readiness is what a reconcile that ran all its steps says about the object.
type readiness struct {
	ready           bool
	reason, message string
}

// summarize sets Ready, Stalled and Reconciling from the outcome of a reconcile's steps and
// returns the error to hand back to controller-runtime: nil for a stalled object (no hot
// loop: the next spec change wakes it), the step's error otherwise (retried with backoff).
func summarize(conds *[]metav1.Condition, generation int64, err error, r readiness) error {
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{
			Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation,
		})
	}
	var st *stalledError
	switch {
	case errors.As(err, &st):
		set(qualv1alpha1.ConditionStalled, metav1.ConditionTrue, st.reason, st.message)
		set(qualv1alpha1.ConditionReady, metav1.ConditionFalse, st.reason, st.message)
		meta.RemoveStatusCondition(conds, qualv1alpha1.ConditionReconciling)
		return nil
	case err != nil:
		set(qualv1alpha1.ConditionReconciling, metav1.ConditionTrue, "RetryingAfterError", "the last attempt failed and will be retried")
		set(qualv1alpha1.ConditionReady, metav1.ConditionFalse, "ReconcileError", err.Error())
		meta.RemoveStatusCondition(conds, qualv1alpha1.ConditionStalled)
		return err
	}
	meta.RemoveStatusCondition(conds, qualv1alpha1.ConditionStalled)
	meta.RemoveStatusCondition(conds, qualv1alpha1.ConditionReconciling)
	status := metav1.ConditionFalse
	if r.ready {
		status = metav1.ConditionTrue
	}
	set(qualv1alpha1.ConditionReady, status, r.reason, r.message)
	return nil
}

// warnOnNewStall announces a stall that conds do not record yet, as a Warning Event and a
// log line, so a stall is announced once, not on every reconcile.
func warnOnNewStall(ctx context.Context, rec events.EventRecorder, obj runtime.Object, conds []metav1.Condition, err error) {
	var st *stalledError
	if !errors.As(err, &st) {
		return
	}
	c := meta.FindStatusCondition(conds, qualv1alpha1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue || c.Message != st.message {
		announce(ctx, rec, obj, nil, corev1.EventTypeWarning, st.reason, "Reconcile", "%s", st.message)
	}
}

// announce records a transition of obj as an Event, for `kubectl events`, and logs it at
// V(1) through the request's logger, which names the controller and the object.
func announce(ctx context.Context, rec events.EventRecorder, obj, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	msg := fmt.Sprintf(note, args...)
	log.FromContext(ctx).V(1).Info(msg, "reason", reason, "type", eventtype)
	rec.Eventf(obj, related, eventtype, reason, action, "%s", msg)
}

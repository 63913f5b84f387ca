package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// setFinalizer adds or removes a finalizer with an optimistic-lock patch: a concurrent
// change to the object fails the patch with a conflict, and the reconcile is retried on a
// fresh copy instead of overwriting someone else's finalizer.
func setFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string, present bool) error {
	if controllerutil.ContainsFinalizer(obj, finalizer) == present {
		return nil
	}
	before := obj.DeepCopyObject().(client.Object)
	if present {
		controllerutil.AddFinalizer(obj, finalizer)
	} else {
		controllerutil.RemoveFinalizer(obj, finalizer)
	}
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := c.Patch(ctx, obj, patch); err != nil && (present || !apierrors.IsNotFound(err)) {
		return fmt.Errorf("set finalizer %s on %s: %w", finalizer, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

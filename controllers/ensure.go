package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// ensure makes obj what mutate says, as controllerutil.CreateOrUpdate does, from the cache.
// The cache holds only objects carrying the managed-by label (CacheOptions) and may lag
// behind a create, so an object it does not show can still exist: one that lost its label,
// or one this controller made a moment ago. Then the create finds it there, and ensure reads
// the live object and updates that, instead of failing every pass until someone repairs it
// by hand.
func ensure(ctx context.Context, c client.Client, live client.Reader, obj client.Object, mutate controllerutil.MutateFn) error {
	_, err := controllerutil.CreateOrUpdate(ctx, c, obj, mutate)
	if !apierrors.IsAlreadyExists(err) || live == nil {
		return err
	}
	if err := live.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return err
	}
	if err := mutate(); err != nil {
		return err
	}
	return c.Update(ctx, obj)
}

// lookup gets the object at key into obj from the cache and, when the cache has no such
// object, from the API server: the cache holds only labelled objects, so a Secret or a
// Deployment someone else made under the name the controller wants is invisible to it, and
// creating it would fail on every pass with AlreadyExists instead of stalling on the
// conflict the caller reports for an object it does not control.
func lookup(ctx context.Context, cached client.Reader, live client.Reader, key client.ObjectKey, obj client.Object) error {
	err := cached.Get(ctx, key, obj)
	if !apierrors.IsNotFound(err) || live == nil {
		return err
	}
	return live.Get(ctx, key, obj)
}

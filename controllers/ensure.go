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

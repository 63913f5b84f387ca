// Package keyindex indexes APIKey objects by the SHA-256 of their key, so an informer cache
// finds the key behind a bearer token in one map lookup instead of a scan or an etcd read.
package keyindex

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// HashField is the name of the field index on an APIKey's `sha256:` digest.
const HashField = "qual.cx/hashRef"

// HashRef returns the digest of a key: the one its creator supplied, else the one the
// controller recorded after minting it. It is empty until either exists.
func HashRef(k *qualv1alpha1.APIKey) string {
	if k.Spec.Credential != nil {
		return k.Spec.Credential.HashRef
	}
	return k.Status.HashRef
}

// Older says a was made before b: of keys naming one hash, the oldest holds it, since a copy
// can only be made once the hash is known. Creation times are whole seconds, so keys made in
// the same second are neither older than the other: the store's record of the hash's first
// holder decides between them (the APIKey controller marks the others conflicting).
func Older(a, b *qualv1alpha1.APIKey) bool {
	return a.CreationTimestamp.Before(&b.CreationTimestamp)
}

// Conflicting says the controller found an older key holding k's credential.
func Conflicting(k *qualv1alpha1.APIKey) bool {
	return meta.IsStatusConditionTrue(k.Status.Conditions, qualv1alpha1.ConditionCredentialConflict)
}

// Register adds the hash index to a cache.
func Register(ctx context.Context, indexer client.FieldIndexer) error {
	err := indexer.IndexField(ctx, &qualv1alpha1.APIKey{}, HashField, func(obj client.Object) []string {
		if ref := HashRef(obj.(*qualv1alpha1.APIKey)); ref != "" {
			return []string{ref}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keyindex: register %s: %w", HashField, err)
	}
	return nil
}

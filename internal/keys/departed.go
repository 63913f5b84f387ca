package keys

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Identity is how a person named by a key compares (spec.owner, or the Kubernetes user in
// its qual.cx/created-by annotation): an e-mail folded as the Team schema folds it, a user
// ID as it is. Kubernetes knows a team member by either, the same two the Team's
// RoleBindings name.
func Identity(who string) string {
	if strings.Contains(who, "@") {
		return qualv1alpha1.EmailKey(who)
	}
	return who
}

// Departed returns the keys in all that people who no longer manage a team leave behind,
// not yet revoked: the keys that act for them (spec.owner); the keys they created with
// kubectl, whoever those name as owner (the created-by annotation, which the API server
// sets and no client can forge or change); and, at any depth, the keys those keys minted
// through the REST API (the minted-by annotation). Otherwise a departing admin could keep
// a key by naming someone else, or nobody, as its owner, or by minting one from it first.
// gone holds the departed people's identities (see Identity).
func Departed(all []*qualv1alpha1.APIKey, gone sets.Set[string]) []*qualv1alpha1.APIKey {
	left := func(who string) bool { return who != "" && gone.Has(Identity(who)) }
	taken := sets.New[string]() // UIDs of the keys left behind, revoked or not
	for grew := true; grew; {
		grew = false
		for _, k := range all {
			uid := string(k.UID)
			if taken.Has(uid) {
				continue
			}
			ann := k.GetAnnotations()
			if left(k.Spec.Owner) || left(ann[qualv1alpha1.AnnotationCreatedBy]) || taken.Has(ann[qualv1alpha1.AnnotationMintedBy]) {
				taken.Insert(uid)
				grew = true
			}
		}
	}
	var out []*qualv1alpha1.APIKey
	for _, k := range all {
		if taken.Has(string(k.UID)) && !k.Spec.Revoked {
			out = append(out, k)
		}
	}
	return out
}

package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// revokeLostManagers revokes the API keys of every owner or admin who no longer is one
// (removed from the team, or given a role that manages nothing), then records the managers
// now in spec. A key acts for its spec.owner and may mint keys; it must not keep that power
// for someone who left, whether the members were edited with kubectl, by GitOps or through
// REST (which revokes before it writes the change). Until every such key is revoked the
// old managers stay recorded, so a retry finds them again.
func (r *TeamReconciler) revokeLostManagers(ctx context.Context, team *qualv1alpha1.Team) error {
	current := managerIdentities(team.Spec.Members)
	lost := sets.New(team.Status.ObservedManagers...).Difference(current)
	if lost.Len() > 0 && team.Status.Namespace != "" {
		keys := &qualv1alpha1.APIKeyList{}
		if err := r.List(ctx, keys, client.InNamespace(team.Status.Namespace)); err != nil {
			return fmt.Errorf("list the API keys of team %s: %w", team.Name, err)
		}
		for i := range keys.Items {
			key := &keys.Items[i]
			if key.Spec.Revoked || !lost.Has(identity(key.Spec.Owner)) {
				continue
			}
			patch := client.MergeFrom(key.DeepCopy())
			key.Spec.Revoked = true
			if err := r.Patch(ctx, key, patch); err != nil {
				return fmt.Errorf("revoke API key %s/%s of a former manager: %w", key.Namespace, key.Name, err)
			}
			announce(ctx, r.Recorder, team, key, corev1.EventTypeNormal, "KeyRevoked", "Revoke",
				"revoked API key %s: its owner %s no longer manages the team", key.Name, key.Spec.Owner)
		}
	}
	team.Status.ObservedManagers = sets.List(current)
	return nil
}

// managerIdentities are the identities a key's owner may name for the team's owners and
// admins: their e-mails, compared as the schema does, and their user IDs.
func managerIdentities(members []qualv1alpha1.TeamMember) sets.Set[string] {
	out := sets.New[string]()
	for _, m := range members {
		if m.Role != qualv1alpha1.RoleOwner && m.Role != qualv1alpha1.RoleAdmin {
			continue
		}
		out.Insert(qualv1alpha1.EmailKey(m.Email))
		if m.UserID != "" {
			out.Insert(identity(m.UserID))
		}
	}
	return out
}

// identity is how a key's spec.owner, an e-mail or a user ID, compares: anything shaped
// like an e-mail as EmailKey folds it. An empty owner acts for nobody and is never lost.
func identity(owner string) string {
	if strings.Contains(owner, "@") {
		return qualv1alpha1.EmailKey(owner)
	}
	return owner
}

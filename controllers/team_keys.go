package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/keys"
)

// revokeLostManagers revokes the API keys every owner or admin who no longer is one
// (removed from the team, or given a role that manages nothing) leaves behind (see
// keys.Departed), then records the managers now in spec. A key may mint keys and re-add
// people; it must not keep that power for someone who left, whether the members were
// edited with kubectl, by GitOps or through REST. REST revokes them itself once its change
// has landed (never before: a change refused would have revoked the keys of someone who
// stays), so this pass is what revokes them should that revocation fail, or the apiserver
// stop between its write and it. Until every such key is revoked the old managers stay
// recorded, so a retry finds them again.
func (r *TeamReconciler) revokeLostManagers(ctx context.Context, team *qualv1alpha1.Team) error {
	current := managerIdentities(team.Spec.Members)
	lost := sets.New(team.Status.ObservedManagers...).Difference(current)
	if lost.Len() > 0 && team.Status.Namespace != "" {
		list := &qualv1alpha1.APIKeyList{}
		if err := r.List(ctx, list, client.InNamespace(team.Status.Namespace)); err != nil {
			return fmt.Errorf("list the API keys of team %s: %w", team.Name, err)
		}
		all := make([]*qualv1alpha1.APIKey, len(list.Items))
		for i := range list.Items {
			all[i] = &list.Items[i]
		}
		for _, key := range keys.Departed(all, lost) {
			patch := client.MergeFrom(key.DeepCopy())
			key.Spec.Revoked = true
			if err := r.Patch(ctx, key, patch); err != nil {
				return fmt.Errorf("revoke API key %s/%s of a former manager: %w", key.Namespace, key.Name, err)
			}
			announce(ctx, r.Recorder, team, key, corev1.EventTypeNormal, "KeyRevoked", "Revoke",
				"revoked API key %s: the person it acts for, or who made it, no longer manages the team", key.Name)
		}
	}
	team.Status.ObservedManagers = sets.List(current)
	return nil
}

// managerIdentities are the identities the team's owners and admins may have on a key (as
// its owner or its creator): their e-mails and their user IDs, as keys.Identity compares
// them.
func managerIdentities(members []qualv1alpha1.TeamMember) sets.Set[string] {
	out := sets.New[string]()
	for _, m := range members {
		if m.Role != qualv1alpha1.RoleOwner && m.Role != qualv1alpha1.RoleAdmin {
			continue
		}
		out.Insert(keys.Identity(m.Email))
		if m.UserID != "" {
			out.Insert(keys.Identity(m.UserID))
		}
	}
	return out
}

package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// ReasonNoTeam is the Ready and Stalled reason of a Campaign, Webhook or APIKey in a namespace
// no Team owns: the REST API refuses such a key and serves nothing else there, so the
// controllers do none of a team's work for it (no key minted, no signing secret, no publish).
const ReasonNoTeam = "NoTeam"

// teamNamespaceField indexes Teams by the namespace their status says they own.
const teamNamespaceField = "qual.cx/status.namespace"

// registerTeamNamespaceIndex adds the index teamOwns looks Teams up by.
func registerTeamNamespaceIndex(ctx context.Context, indexer client.FieldIndexer) error {
	err := indexer.IndexField(ctx, &qualv1alpha1.Team{}, teamNamespaceField, func(obj client.Object) []string {
		if ns := obj.(*qualv1alpha1.Team).Status.Namespace; ns != "" {
			return []string{ns}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index teams by %s: %w", teamNamespaceField, err)
	}
	return nil
}

// teamOwns reports whether a namespace is a team's by the REST API's rule
// (apiserver/directory): the namespace, not being deleted, carries the UID label of a Team,
// which only the Team controller writes, and that Team, not being deleted, names the
// namespace in its status. A Team naming a namespace in its spec proves nothing, and neither
// does a label alone, so what kubectl shows agrees with what REST serves.
func teamOwns(ctx context.Context, c client.Reader, namespace string) (bool, error) {
	team, err := owningTeam(ctx, c, namespace)
	return team != nil, err
}

// owningTeam is the Team that owns a namespace by teamOwns' rule, or nil when none does.
func owningTeam(ctx context.Context, c client.Reader, namespace string) (*qualv1alpha1.Team, error) {
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	uid := teamClaim(ns)
	if uid == "" {
		return nil, nil
	}
	teams := &qualv1alpha1.TeamList{}
	if err := c.List(ctx, teams, client.MatchingFields{teamNamespaceField: namespace}); err != nil {
		return nil, fmt.Errorf("list the teams of namespace %s: %w", namespace, err)
	}
	for i := range teams.Items {
		if t := &teams.Items[i]; string(t.UID) == uid && t.DeletionTimestamp.IsZero() {
			return t, nil
		}
	}
	return nil, nil
}

// requireTeam is nil when namespace is a team's, and otherwise the NoTeam stall, whose
// message ends with what that means for the object (consequence). The Team and Namespace
// watches (watchTeamHomes) wake the object when that changes, so nothing polls.
func requireTeam(ctx context.Context, c client.Reader, namespace, consequence string) error {
	owned, err := teamOwns(ctx, c, namespace)
	if err != nil || owned {
		return err
	}
	return stalled(ReasonNoTeam, "namespace %s belongs to no Team, so %s; this clears by itself once a Team owns the namespace", namespace, consequence)
}

// watchTeamHomes wakes every object of a namespace (listed into what newList returns) when
// the namespace becomes or stops being a team's: its team UID label or its deletion changes,
// or a Team claims it in status, or is deleted.
func watchTeamHomes(b *builder.Builder, c client.Reader, newList func() client.ObjectList) *builder.Builder {
	inNamespace := objectsIn(c, newList)
	ofNamespace := func(ctx context.Context, ns client.Object) []reconcile.Request { return inNamespace(ctx, ns.GetName()) }
	return b.
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(ofNamespace), builder.WithPredicates(claimChanged(teamClaim))).
		Watches(&qualv1alpha1.Team{}, handler.EnqueueRequestsFromMapFunc(ofTeam(inNamespace)), builder.WithPredicates(claimChanged(namespaceClaim)))
}

// watchTeamManagers wakes every object of a team's namespace when the team's owners or
// admins change: who may read the plaintext Secrets made for those objects follows them
// (secretReader).
func watchTeamManagers(b *builder.Builder, c client.Reader, newList func() client.ObjectList) *builder.Builder {
	return b.Watches(&qualv1alpha1.Team{}, handler.EnqueueRequestsFromMapFunc(ofTeam(objectsIn(c, newList))),
		builder.WithPredicates(managersChanged()))
}

// objectsIn returns a function listing the objects of a namespace (into what newList
// returns) as requests.
func objectsIn(c client.Reader, newList func() client.ObjectList) func(context.Context, string) []reconcile.Request {
	return func(ctx context.Context, namespace string) []reconcile.Request {
		if namespace == "" {
			return nil
		}
		list := newList()
		// Only the names are read, so the cache's objects need no copy.
		if err := c.List(ctx, list, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
			log.FromContext(ctx).Error(err, "list objects to look at again", "namespace", namespace)
			return nil
		}
		var reqs []reconcile.Request
		_ = meta.EachListItem(list, func(o runtime.Object) error { // the callback never fails
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o.(client.Object))})
			return nil
		})
		return reqs
	}
}

// ofTeam maps a Team to the objects of the namespace its status names.
func ofTeam(inNamespace func(context.Context, string) []reconcile.Request) handler.MapFunc {
	return func(ctx context.Context, team client.Object) []reconcile.Request {
		return inNamespace(ctx, team.(*qualv1alpha1.Team).Status.Namespace)
	}
}

// managersChanged passes an update of a Team that changes its owners' or admins' identities.
// A Team's creation or deletion changes who owns a namespace, which watchTeamHomes handles.
func managersChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			older, ok1 := e.ObjectOld.(*qualv1alpha1.Team)
			newer, ok2 := e.ObjectNew.(*qualv1alpha1.Team)
			return ok1 && ok2 && !managerIdentities(older.Spec.Members).Equal(managerIdentities(newer.Spec.Members))
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// teamClaim is the UID of the team a namespace is labelled for, or "" while it is deleted:
// v1alpha1.ServingTeam, the rule REST and the aggregated API read namespaces by, so a
// Terminating namespace is no team's here either (NoTeam, no reader grant).
func teamClaim(obj client.Object) string { return qualv1alpha1.ServingTeam(obj) }

// namespaceClaim is the namespace a Team's status names, or "" while it is deleted.
func namespaceClaim(obj client.Object) string {
	team, ok := obj.(*qualv1alpha1.Team)
	if !ok || !team.DeletionTimestamp.IsZero() {
		return ""
	}
	return team.Status.Namespace
}

// claimChanged passes an update that changes claim, and the deletion of an object that held
// one. Creations pass nothing: a new Team claims no namespace yet, a new namespace holds no
// objects yet, and at start-up every object is reconciled anyway.
func claimChanged(claim func(client.Object) string) predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc:  func(e event.UpdateEvent) bool { return claim(e.ObjectOld) != claim(e.ObjectNew) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return claim(e.Object) != "" },
		CreateFunc:  func(event.CreateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

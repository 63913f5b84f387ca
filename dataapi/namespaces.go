package dataapi

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// teamNamespace is a namespace the Team controller claimed, with its team.
type teamNamespace struct {
	name string
	team store.TeamID
	// campaigns maps the UIDs of the namespace's Campaigns to their names, read on demand.
	campaigns map[store.CampaignID]string
}

// directory answers which team a namespace belongs to, and the names of its Campaigns, from
// the process's informer cache: the namespace label the Team controller sets is the only
// link from a namespace to the store.
type directory struct {
	kube client.Reader
}

// namespace returns the team of one namespace; ok is false for a namespace no team has
// claimed or one being deleted (it serves nothing: the team is gone, or going, and so is
// whatever RBAC its members still hold there).
func (d directory) namespace(ctx context.Context, name string) (teamNamespace, bool, error) {
	var ns corev1.Namespace
	err := d.kube.Get(ctx, client.ObjectKey{Name: name}, &ns)
	if apierrors.IsNotFound(err) {
		return teamNamespace{}, false, nil
	}
	if err != nil {
		return teamNamespace{}, false, fmt.Errorf("dataapi: read namespace %s: %w", name, err)
	}
	team := qualv1alpha1.ServingTeam(&ns)
	if team == "" {
		return teamNamespace{}, false, nil
	}
	return teamNamespace{name: name, team: store.TeamID(team)}, true, nil
}

// namespaces returns every claimed namespace not being deleted from start on, by name: the
// order a list across all namespaces walks them in.
func (d directory) namespaces(ctx context.Context, start string) ([]teamNamespace, error) {
	var list corev1.NamespaceList
	if err := d.kube.List(ctx, &list, client.HasLabels{qualv1alpha1.LabelTeamUID}); err != nil {
		return nil, fmt.Errorf("dataapi: list namespaces: %w", err)
	}
	out := make([]teamNamespace, 0, len(list.Items))
	for i := range list.Items {
		ns := &list.Items[i]
		if team := qualv1alpha1.ServingTeam(ns); team != "" && ns.Name >= start {
			out = append(out, teamNamespace{name: ns.Name, team: store.TeamID(team)})
		}
	}
	slices.SortFunc(out, func(a, b teamNamespace) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// campaignNames returns the names of the namespace's Campaigns by UID. A Campaign of
// another namespace never appears, so a row is only ever named after its own team's object.
func (d directory) campaignNames(ctx context.Context, ns *teamNamespace) (map[store.CampaignID]string, error) {
	if ns.campaigns != nil {
		return ns.campaigns, nil
	}
	var list qualv1alpha1.CampaignList
	// Only names and UIDs are read, so the cache's objects are not copied (a team may have
	// thousands of Campaigns, and this runs on every page).
	if err := d.kube.List(ctx, &list, client.InNamespace(ns.name), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("dataapi: list campaigns in %s: %w", ns.name, err)
	}
	ns.campaigns = make(map[store.CampaignID]string, len(list.Items))
	for _, c := range list.Items {
		ns.campaigns[store.CampaignID(c.UID)] = c.Name
	}
	return ns.campaigns, nil
}

// campaignUID resolves a Campaign's name in the namespace; ok is false when there is none.
func (d directory) campaignUID(ctx context.Context, ns, name string) (store.CampaignID, bool, error) {
	var c qualv1alpha1.Campaign
	err := d.kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &c)
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("dataapi: read campaign %s/%s: %w", ns, name, err)
	}
	return store.CampaignID(c.UID), true, nil
}

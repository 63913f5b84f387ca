// Package campaigndata connects the Campaign controller's finalizer to the store: it finds
// the team a campaign belongs to and deletes the campaign's rows there.
package campaigndata

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/store"
)

// Cleaner deletes a deleted campaign's interviews, messages, findings, analyses and share
// links from the store.
type Cleaner struct {
	// Namespaces reads the campaign's namespace, whose label names the team.
	Namespaces client.Reader
	Store      store.Store
}

// DeleteCampaignData removes the campaign's rows in batches. A campaign outside any team
// namespace has no rows: only REST creates them, and REST works inside teams.
func (c Cleaner) DeleteCampaignData(ctx context.Context, cmp *qualv1alpha1.Campaign) error {
	ns := &corev1.Namespace{}
	if err := c.Namespaces.Get(ctx, client.ObjectKey{Name: cmp.Namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil // no namespace, no team: nothing was ever stored
		}
		return fmt.Errorf("campaigndata: namespace of campaign %s: %w", cmp.Name, err)
	}
	team := ns.Labels[qualv1alpha1.LabelTeamUID]
	if team == "" {
		return nil
	}
	if _, err := c.Store.Team(store.TeamID(team)).DeleteCampaignData(ctx, store.CampaignID(cmp.UID)); err != nil {
		return fmt.Errorf("campaigndata: delete rows of campaign %s: %w", cmp.Name, err)
	}
	return nil
}

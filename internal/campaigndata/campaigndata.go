// Package campaigndata connects the Campaign controller to the store: it finds the team a
// campaign belongs to, counts the campaign's interviews and findings there for its status,
// ends its running interviews when it is completed, and deletes its rows when it is deleted.
package campaigndata

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/interviews"
	"qual.cx/operator/internal/store"
)

// Cleaner deletes a deleted campaign's interviews, messages, findings, analyses and share
// links from the store.
type Cleaner struct {
	// Namespaces reads the campaign's namespace, whose label names the team: the manager's
	// cached client, since namespaces are in its cache anyway.
	Namespaces client.Reader
	Store      store.Store
}

// DeleteCampaignData removes the campaign's rows in batches. A campaign outside any team
// namespace has no rows: only REST creates them, and REST works inside teams.
func (c Cleaner) DeleteCampaignData(ctx context.Context, cmp *qualv1alpha1.Campaign) error {
	rows, err := c.rowsOf(ctx, cmp)
	if err != nil || rows == nil {
		return err
	}
	if _, err := rows.DeleteCampaignData(ctx, store.CampaignID(cmp.UID)); err != nil {
		return fmt.Errorf("campaigndata: delete rows of campaign %s: %w", cmp.Name, err)
	}
	return nil
}

// EndInterviews ends the running interviews of a completed campaign (interviews.EndCampaign).
func (c Cleaner) EndInterviews(ctx context.Context, cmp *qualv1alpha1.Campaign) error {
	rows, err := c.rowsOf(ctx, cmp)
	if err != nil || rows == nil {
		return err
	}
	if _, err := interviews.EndCampaign(ctx, rows, store.CampaignID(cmp.UID)); err != nil {
		return fmt.Errorf("campaigndata: %w", err)
	}
	return nil
}

// CountCampaignData returns how many interviews (all, and completed) and findings the
// campaign has. The interview counts are the store's counters, a row read each.
func (c Cleaner) CountCampaignData(ctx context.Context, cmp *qualv1alpha1.Campaign) (interviews, completed, findings int64, err error) {
	rows, err := c.rowsOf(ctx, cmp)
	if err != nil || rows == nil {
		return 0, 0, 0, err
	}
	campaign := store.CampaignID(cmp.UID)
	if interviews, err = rows.CountInterviews(ctx, store.InterviewFilter{CampaignID: campaign}); err != nil {
		return 0, 0, 0, fmt.Errorf("campaigndata: count interviews of campaign %s: %w", cmp.Name, err)
	}
	completed, err = rows.CountInterviews(ctx, store.InterviewFilter{CampaignID: campaign, Status: store.InterviewCompleted})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("campaigndata: count completed interviews of campaign %s: %w", cmp.Name, err)
	}
	fd, err := rows.ListFindings(ctx, store.FindingFilter{CampaignID: campaign}, store.PageRequest{Limit: 1})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("campaigndata: count findings of campaign %s: %w", cmp.Name, err)
	}
	return interviews, completed, fd.TotalCount, nil
}

// rowsOf returns the store handle of the campaign's team, or nil when the campaign is in no
// team namespace (then nothing was ever stored for it).
func (c Cleaner) rowsOf(ctx context.Context, cmp *qualv1alpha1.Campaign) (store.TeamStore, error) {
	ns := &corev1.Namespace{}
	if err := c.Namespaces.Get(ctx, client.ObjectKey{Name: cmp.Namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("campaigndata: namespace of campaign %s: %w", cmp.Name, err)
	}
	team := ns.Labels[qualv1alpha1.LabelTeamUID]
	if team == "" {
		return nil, nil
	}
	return c.Store.Team(store.TeamID(team)), nil
}

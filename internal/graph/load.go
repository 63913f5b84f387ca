package graph

import (
	"context"
	"fmt"

	"qual.cx/operator/internal/store"
)

// MaxRead bounds how many of a campaign's findings Load reads (oldest first); a campaign
// with more gets a graph of these, marked Truncated.
const MaxRead = 1000

// Load reads the campaign's findings from its team's store and builds the graph.
func Load(ctx context.Context, ts store.TeamStore, c Campaign) (Graph, error) {
	var all []store.Finding
	req := store.PageRequest{Sort: store.SortCreatedAt, Order: store.Asc, Limit: store.MaxPageLimit, SkipTotal: true}
	more := false
	for {
		page, err := ts.ListFindings(ctx, store.FindingFilter{CampaignID: store.CampaignID(c.ID)}, req)
		if err != nil {
			return Graph{}, fmt.Errorf("graph: findings of campaign %s: %w", c.ID, err)
		}
		all = append(all, page.Items...)
		more = page.HasMore
		if !more || len(all) >= MaxRead {
			break
		}
		req.After = page.Next
	}
	g := Build(c, all)
	g.Truncated = g.Truncated || more
	return g, nil
}

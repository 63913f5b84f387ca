package graph

import (
	"context"
	"fmt"

	"qual.cx/operator/internal/store"
)

// MaxRead bounds how many of a campaign's findings Load reads: the most frequent, which
// hold the MaxFindings the graph draws; participants are numbered over their evidence.
const MaxRead = 1000

// Load reads the campaign's most frequent findings from its team's store and builds the
// graph; the campaign node weighs every finding the campaign has.
func Load(ctx context.Context, ts store.TeamStore, c Campaign) (Graph, error) {
	top, total, err := ts.TopFindings(ctx, store.CampaignID(c.ID), MaxRead)
	if err != nil {
		return Graph{}, fmt.Errorf("graph: findings of campaign %s: %w", c.ID, err)
	}
	g := Build(c, top)
	if total > len(top) {
		g.Truncated = true
		for i := range g.Nodes {
			if g.Nodes[i].Type == NodeCampaign {
				g.Nodes[i].Weight = total
			}
		}
	}
	return g, nil
}

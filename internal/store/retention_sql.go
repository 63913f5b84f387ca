package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// campaignScopes lists, children first, each table holding a campaign's rows and how to find
// them. Evidence and tags go by cascade with their findings, messages' evidence with messages.
// A condition with two placeholders takes (team, campaign), with one just campaign.
var campaignScopes = []struct{ table, cond string }{
	{"messages", "interview_id IN (SELECT id FROM interviews WHERE team_id = ? AND campaign_id = ?)"},
	{"findings", "campaign_id = ?"},
	{"analyses", "campaign_id = ?"},
	{"share_links", "campaign_id = ?"},
	{"interviews", "campaign_id = ?"},
}

// DeleteCampaignData deletes a campaign's rows, one batch per statement. Outside InTx each batch
// commits on its own, so the SQLite writer (or PostgreSQL row locks) is held only briefly.
func (ts *teamStore) DeleteCampaignData(ctx context.Context, campaign CampaignID) (int64, error) {
	if campaign == "" {
		return 0, fmt.Errorf("store: delete campaign data: empty campaign id: %w", ErrInvalidInput)
	}
	var total int64
	for _, sc := range campaignScopes {
		n, err := ts.deleteBatches(ctx, sc.table, sc.cond, campaign)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: delete campaign %s data from %s: %w", campaign, sc.table, err)
		}
	}
	return total, nil
}

// deleteBatches repeats a bounded DELETE until a batch comes back short.
func (ts *teamStore) deleteBatches(ctx context.Context, table, cond string, campaign CampaignID) (int64, error) {
	batch := ts.s.opts.deleteBatch
	q := "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table +
		" WHERE team_id = ? AND " + cond + " LIMIT " + strconv.Itoa(batch) + ")"
	args := []any{ts.team, campaign}
	if strings.Count(cond, "?") == 2 {
		args = []any{ts.team, ts.team, campaign}
	}
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		res, err := ts.exec(ctx, q, args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}

package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// campaignScopes lists, children first, each table holding a campaign's rows and how to find
// them. Evidence and tags go by cascade with their findings, messages' evidence with messages.
// A condition with two placeholders takes (team, campaign), with one just campaign. Interviews
// are counted (interview_counts), so their batches also take their rows off the counters.
//
// Messages go before their interviews, in batches, so no one statement cascades to an
// unbounded number of rows. Until the last interview batch commits, an interview whose messages
// are gone still shows its old message_count; the deletion is retried until it completes.
//
// Interview batches lock their rows in (created_at, id) order, the order of the
// interviews_campaign_created index and of EndCampaignInterviews, so on PostgreSQL the two
// queue on a shared campaign instead of deadlocking.
var campaignScopes = []struct {
	table, cond string
	counted     bool
}{
	{"messages", "interview_id IN (SELECT id FROM interviews WHERE team_id = ? AND campaign_id = ?)", false},
	{"findings", "campaign_id = ?", false},
	{"analyses", "campaign_id = ?", false},
	{"share_links", "campaign_id = ?", false},
	// Events go with their deliveries and attempt excerpts by cascade. One about an interview
	// names its campaign too; the interview scope is there so none can be missed. The campaign
	// scope comes last, so it also takes events an interview change wrote while this ran.
	// The campaign's own lifecycle events stay: their data is the campaign as its team wrote
	// it, nobody's words, and a webhook that has not yet received them still does, in order
	// before campaign.deleted, with their delivery history kept; they age out with every
	// other event (PruneDeliveries).
	{"events", "interview_id IN (SELECT id FROM interviews WHERE team_id = ? AND campaign_id = ?)", false},
	{"interviews", "campaign_id = ? ORDER BY created_at, id", true},
	{"events", "campaign_id = ? AND type NOT LIKE 'campaign.%'", false},
}

// DeleteCampaignData deletes a campaign's rows, one batch per statement. Outside InTx each batch
// commits on its own, so the SQLite writer (or PostgreSQL row locks) is held only briefly.
// Participant data (name, e-mail, external id, metadata) lives only on interview rows and in
// the payloads of events about them, and message contents, evidence quotes and attempt excerpts
// on rows that go with those, so none of it remains.
func (ts *teamStore) DeleteCampaignData(ctx context.Context, campaign CampaignID) (int64, error) {
	if campaign == "" {
		return 0, fmt.Errorf("store: delete campaign data: empty campaign id: %w", ErrInvalidInput)
	}
	var total int64
	for _, sc := range campaignScopes {
		n, err := ts.deleteBatches(ctx, sc.table, sc.cond, sc.counted, campaign)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: delete campaign %s data from %s: %w", campaign, sc.table, err)
		}
	}
	if err := ts.eraseReplays(ctx, string(campaign), GoneCampaign); err != nil {
		return total, fmt.Errorf("store: delete campaign %s: %w", campaign, err)
	}
	// The campaign's counter rows are all zero now; a concurrent create re-inserts its row.
	if _, err := ts.exec(ctx, "DELETE FROM interview_counts WHERE team_id = ? AND campaign_id = ? AND n = 0",
		ts.team, campaign); err != nil {
		return total, fmt.Errorf("store: delete campaign %s interview counts: %w", campaign, err)
	}
	ts.forget(ctx)
	return total, nil
}

// deleteBatches deletes a campaign's rows of one scope, batch by batch.
func (ts *teamStore) deleteBatches(ctx context.Context, table, cond string, counted bool, campaign CampaignID) (int64, error) {
	if !counted {
		return ts.deleteInBatches(ctx, table, cond, campaign)
	}
	q, args := ts.batchDelete(table, cond, ts.s.d.forUpdate, campaign)
	return ts.repeatBatches(ctx, func() (int64, error) { return ts.deleteCountedBatch(ctx, campaign, q, args...) })
}

// deleteInBatches deletes the team's rows of table matching cond, batch by batch. cond has
// one placeholder, taking key, or two, taking (team, key).
func (ts *teamStore) deleteInBatches(ctx context.Context, table, cond string, key any) (int64, error) {
	q, args := ts.batchDelete(table, cond, "", key)
	return ts.repeatBatches(ctx, func() (int64, error) {
		res, err := ts.exec(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// batchDelete builds the statement deleting one batch of the team's rows matching cond, and
// its arguments. MATERIALIZED: the pick runs once, so a batch is at most batch rows even if
// the planner would re-run a subquery per row (a locking one would then pass over rows
// already deleted).
func (ts *teamStore) batchDelete(table, cond, lock string, key any) (string, []any) {
	q := "WITH picked AS MATERIALIZED (SELECT id FROM " + table + " WHERE team_id = ? AND " + cond +
		" LIMIT " + strconv.Itoa(ts.s.opts.deleteBatch) + lock + ") DELETE FROM " + table + " WHERE id IN (SELECT id FROM picked)"
	if strings.Count(cond, "?") == 2 {
		return q, []any{ts.team, ts.team, key}
	}
	return q, []any{ts.team, key}
}

// repeatBatches runs batch until one comes back short, and returns the rows deleted.
func (ts *teamStore) repeatBatches(ctx context.Context, batch func() (int64, error)) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := batch()
		total += n
		if err != nil || n < int64(ts.s.opts.deleteBatch) {
			return total, err
		}
	}
}

// deleteCountedBatch runs one batch of interviews and takes exactly the rows it deleted (with
// the status each had then, from RETURNING) off the counters, in the same transaction.
func (ts *teamStore) deleteCountedBatch(ctx context.Context, campaign CampaignID, q string, args ...any) (int64, error) {
	var n int64
	err := ts.atomically(ctx, func(tx *teamStore) error {
		rows, err := tx.writeQuery(ctx, q+" RETURNING status", args...)
		if err != nil {
			return err
		}
		statuses, err := collect(rows, func(r rowScanner) (InterviewStatus, error) {
			var st InterviewStatus
			err := r.Scan(&st)
			return st, err
		})
		if err != nil {
			return err
		}
		n = int64(len(statuses))
		d := countDeltas{}
		for _, st := range statuses {
			d.add(tx.team, campaign, st, -1)
		}
		return tx.applyCounts(ctx, d)
	})
	return n, err
}

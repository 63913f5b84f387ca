package store

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Interview counters (table interview_counts) make every interview total a read of one to three
// rows instead of a COUNT(*) over up to millions of index entries. Each (team, campaign, status)
// has a row, and each (team, status) a team-wide row with campaign_id ''. Every write that adds,
// removes or re-statuses interviews computes its changes from the rows it actually changed (the
// RETURNING of its own statement, so a row changed concurrently is counted by whichever
// transaction changed it) and applies them with countDeltas.apply in the same transaction.

// teamWide is the campaign_id of a team's aggregate counter rows. No interview has it:
// CreateInterview refuses an empty campaign.
const teamWide CampaignID = ""

// countKey names one counter row.
type countKey struct {
	team     TeamID
	campaign CampaignID
	status   InterviewStatus
}

// countDeltas collects the counter changes of one write so they are applied in one statement.
type countDeltas map[countKey]int64

// add counts n more (or, negative, fewer) interviews of a campaign in a status, in the
// campaign's row and in the team-wide row.
func (d countDeltas) add(team TeamID, campaign CampaignID, status InterviewStatus, n int64) {
	d[countKey{team, campaign, status}] += n
	d[countKey{team, teamWide, status}] += n
}

// move counts one interview leaving status from for status to.
func (d countDeltas) move(team TeamID, campaign CampaignID, from, to InterviewStatus) {
	d.add(team, campaign, from, -1)
	d.add(team, campaign, to, 1)
}

// countChunk bounds the rows of one upsert (four parameters each), well under both backends'
// parameter limits.
const countChunk = 250

// apply upserts the non-zero deltas. The rows go in one fixed order (team, campaign, status):
// PostgreSQL locks them in the order of the VALUES list, so two transactions that each make one
// counted change lock the rows they share in the same order and queue instead of deadlocking.
// The team-wide rows are shared by every write of a team, which is the price of exact totals:
// those writes commit one after another (they are short; SQLite serialises all writes anyway).
func (d countDeltas) apply(ctx context.Context, w querier, dl dialect) error {
	keys := slices.SortedFunc(maps.Keys(d), func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.team, b.team), cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.status, b.status))
	})
	keys = slices.DeleteFunc(keys, func(k countKey) bool { return d[k] == 0 })
	for chunk := range slices.Chunk(keys, countChunk) {
		args := make([]any, 0, 4*len(chunk))
		for _, k := range chunk {
			args = append(args, k.team, k.campaign, k.status, d[k])
		}
		q := "INSERT INTO interview_counts (team_id, campaign_id, status, n) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(chunk)), ", ") +
			" ON CONFLICT (team_id, campaign_id, status) DO UPDATE SET n = interview_counts.n + excluded.n"
		if _, err := w.ExecContext(ctx, dl.rebind(q), args...); err != nil {
			return fmt.Errorf("interview counts: %w", err)
		}
	}
	return nil
}

// applyCounts applies deltas in the handle's transaction; callers run it inside atomically.
func (ts *teamStore) applyCounts(ctx context.Context, d countDeltas) error {
	return d.apply(ctx, ts.writer(), ts.s.d)
}

// CountInterviews counts the team's interviews matching f from the counters.
func (ts *teamStore) CountInterviews(ctx context.Context, f InterviewFilter) (int64, error) {
	n, err := ts.countInterviews(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("store: count interviews: %w", err)
	}
	return n, nil
}

// countInterviews reads one counter row when a status is given, otherwise sums a campaign's (or,
// with no campaign, the team-wide) rows of the three statuses: a primary-key range either way.
// The counters do not count by participant: a participant filter counts its rows.
func (ts *teamStore) countInterviews(ctx context.Context, f InterviewFilter) (int64, error) {
	if f.byParticipant() {
		return ts.interviewList(ctx, f).count(ctx, ts)
	}
	q := "SELECT COALESCE(SUM(n), 0) FROM interview_counts WHERE team_id = ? AND campaign_id = ?"
	args := []any{ts.team, f.CampaignID} // the empty CampaignID is teamWide
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, f.Status)
	}
	var n int64
	err := ts.queryRow(ctx, q, []any{&n}, args...)
	return n, err
}

// InterviewCounts returns the interview total (all statuses) of each campaign in one query per
// countChunk campaigns. Every requested campaign is in the map; one without interviews has 0.
func (ts *teamStore) InterviewCounts(ctx context.Context, campaigns []CampaignID) (map[CampaignID]int64, error) {
	out := make(map[CampaignID]int64, len(campaigns))
	ids := make([]string, 0, len(campaigns))
	for _, c := range campaigns {
		if c == "" {
			return nil, fmt.Errorf("store: interview counts: empty campaign id: %w", ErrInvalidInput)
		}
		if _, dup := out[c]; !dup {
			out[c] = 0
			ids = append(ids, string(c))
		}
	}
	for chunk := range slices.Chunk(ids, countChunk) {
		if err := ts.sumCampaigns(ctx, chunk, out); err != nil {
			return nil, fmt.Errorf("store: interview counts: %w", err)
		}
	}
	return out, nil
}

// sumCampaigns adds the counter totals of the campaigns ids to out.
func (ts *teamStore) sumCampaigns(ctx context.Context, ids []string, out map[CampaignID]int64) error {
	in, args := inList(ts.team, ids)
	rows, err := ts.query(ctx, `SELECT campaign_id, SUM(n) FROM interview_counts
		WHERE team_id = ? AND campaign_id IN `+in+" GROUP BY campaign_id", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c CampaignID
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return err
		}
		out[c] = n
	}
	return rows.Err()
}

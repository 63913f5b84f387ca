package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AbandonIdleInterviews abandons up to limit idle in_progress interviews of any team.
//
// One statement picks the oldest idle rows through the interviews_idle index and changes them. On
// PostgreSQL the pick locks its rows and skips any another transaction holds: a second replica
// sweeping at the same time takes other rows, and an interview whose append is in flight is
// simply not idle. The outer WHERE repeats status and updated_at because a row the pick saw may
// have been changed and committed since (a message bumps updated_at); PostgreSQL re-evaluates it
// on the newest row version, and such a row drops out.
func (s *sqlStore) AbandonIdleInterviews(ctx context.Context, idleBefore time.Time, limit int) ([]IdleInterview, error) {
	if err := checkBatchLimit(limit); err != nil {
		return nil, fmt.Errorf("store: abandon idle interviews: %w", err)
	}
	var out []IdleInterview
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.abandonIdle(ctx, tx, idleBefore, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: abandon idle interviews: %w", err)
	}
	return out, nil
}

// abandonIdle runs the sweep's UPDATE in tx and applies its counter changes there.
func (s *sqlStore) abandonIdle(ctx context.Context, tx *sql.Tx, idleBefore time.Time, limit int) ([]IdleInterview, error) {
	t, before := s.d.timeArg(now()), s.d.timeArg(idleBefore)
	// The literal 'in_progress' (not a parameter) is what lets both planners match the partial
	// index interviews_idle. The pick is a MATERIALIZED CTE so it runs once: a LIMIT ... SKIP
	// LOCKED subquery the planner re-ran per row would pass over the rows this statement had
	// just changed and pick more than limit.
	q := s.d.rebind(`WITH picked AS MATERIALIZED (SELECT id FROM interviews
			WHERE status = 'in_progress' AND updated_at < ? ORDER BY updated_at LIMIT ?` + s.d.skipLocked + `)
		UPDATE interviews SET status = 'abandoned', updated_at = ?, ended_at = ?
		WHERE id IN (SELECT id FROM picked) AND status = 'in_progress' AND updated_at < ?
		RETURNING team_id, campaign_id, id`)
	rows, err := tx.QueryContext(ctx, q, before, limit, t, t, before)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, func(r rowScanner) (IdleInterview, error) {
		var iv IdleInterview
		err := r.Scan(&iv.TeamID, &iv.CampaignID, &iv.InterviewID)
		return iv, err
	})
	if err != nil {
		return nil, err
	}
	d := countDeltas{}
	for _, iv := range out {
		d.move(iv.TeamID, iv.CampaignID, InterviewInProgress, InterviewAbandoned)
	}
	return out, d.apply(ctx, tx, s.d)
}

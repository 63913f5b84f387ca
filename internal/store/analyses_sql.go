package store

import (
	"context"
	"fmt"
)

const analysisColumns = "id, campaign_id, status, finding_ids, error, analyzer, created_at, updated_at, started_at, finished_at"

func scanAnalysis(r rowScanner) (Analysis, error) {
	var a Analysis
	err := r.Scan(&a.ID, &a.CampaignID, &a.Status, jsonCol{&a.FindingIDs}, &a.Error, &a.Analyzer,
		timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}, nullTimeCol{&a.StartedAt}, nullTimeCol{&a.FinishedAt})
	return a, err
}

// CreateAnalysis queues a job.
func (ts *teamStore) CreateAnalysis(ctx context.Context, campaign CampaignID) (Analysis, error) {
	if campaign == "" {
		return Analysis{}, fmt.Errorf("store: create analysis: empty campaign id: %w", ErrInvalidInput)
	}
	t := now()
	a := Analysis{ID: AnalysisID(newID()), CampaignID: campaign, Status: AnalysisQueued,
		FindingIDs: []FindingID{}, CreatedAt: t, UpdatedAt: t}
	_, err := ts.exec(ctx, `INSERT INTO analyses (id, team_id, campaign_id, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, a.ID, ts.team, campaign, a.Status, ts.t(t), ts.t(t))
	if ts.s.d.isUnique(err) {
		return Analysis{}, fmt.Errorf("store: create analysis: campaign %s has one queued or running: %w", campaign, ErrConflict)
	}
	if err != nil {
		return Analysis{}, fmt.Errorf("store: create analysis: %w", err)
	}
	return a, nil
}

// GetAnalysis returns one job.
func (ts *teamStore) GetAnalysis(ctx context.Context, id AnalysisID) (Analysis, error) {
	return getOne(ctx, ts, "get analysis", id, scanAnalysis,
		"SELECT "+analysisColumns+" FROM analyses WHERE team_id = ? AND id = ?", ts.team, id)
}

// StartAnalysis moves a queued job to running.
func (ts *teamStore) StartAnalysis(ctx context.Context, id AnalysisID) (Analysis, error) {
	t := now()
	return ts.transitionAnalysis(ctx, id, "start", `UPDATE analyses SET status = 'running', started_at = ?,
		updated_at = ? WHERE team_id = ? AND id = ? AND status = 'queued'`, ts.t(t), ts.t(t), ts.team, id)
}

// FinishAnalysis records the outcome of a queued or running job.
func (ts *teamStore) FinishAnalysis(ctx context.Context, id AnalysisID, r AnalysisResult) (Analysis, error) {
	status := AnalysisSucceeded
	if r.Error != "" {
		status = AnalysisFailed
	}
	ids := r.FindingIDs
	if ids == nil {
		ids = []FindingID{}
	}
	enc, err := jsonArg(ids)
	if err != nil {
		return Analysis{}, err
	}
	t := now()
	analyzer := r.Analyzer
	if status == AnalysisFailed {
		analyzer = ""
	}
	return ts.transitionAnalysis(ctx, id, "finish", `UPDATE analyses SET status = ?, finding_ids = ?, error = ?,
		analyzer = ?, finished_at = ?, updated_at = ? WHERE team_id = ? AND id = ? AND status IN ('queued', 'running')`,
		status, enc, r.Error, analyzer, ts.t(t), ts.t(t), ts.team, id)
}

// transitionAnalysis runs a conditional status update and reads the job back.
func (ts *teamStore) transitionAnalysis(ctx context.Context, id AnalysisID, verb, q string, args ...any) (Analysis, error) {
	var out Analysis
	err := ts.atomically(ctx, func(tx *teamStore) error {
		res, err := tx.exec(ctx, q, args...)
		if err != nil {
			return err
		}
		if ok, err := affected(res); err != nil || !ok {
			return firstErr(err, tx.explainMiss(ctx, "analyses", string(id)))
		}
		out, err = tx.GetAnalysis(ctx, id)
		return err
	})
	if err != nil {
		return Analysis{}, fmt.Errorf("store: %s analysis %s: %w", verb, id, err)
	}
	return out, nil
}

// ListAnalyses lists the team's analysis jobs, from the (team, [campaign,] created_at, id)
// indexes of migration 5; a status filter is checked on the rows those indexes yield.
func (ts *teamStore) ListAnalyses(ctx context.Context, f AnalysisFilter, p PageRequest) (Page[Analysis], error) {
	l := &listSpec{what: "analyses", table: "analyses", columns: analysisColumns,
		sorts: map[SortKey]string{SortCreatedAt: "created_at"}, defSort: SortCreatedAt, defOrder: Desc}
	l.filter("team_id = ?", ts.team)
	if f.CampaignID != "" {
		l.filter("campaign_id = ?", f.CampaignID)
	}
	if f.Status != "" {
		l.filter("status = ?", f.Status)
	}
	return listPage(ctx, ts, l, p, scanAnalysis)
}

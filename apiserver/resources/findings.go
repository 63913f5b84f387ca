package resources

import (
	"time"

	"qual.cx/operator/internal/store"
)

// Evidence is a quote that supports a finding (store.EvidenceView).
type Evidence = store.EvidenceView

// Finding is the REST form of a finding. It is the store's FindingView, which the payloads of
// finding.* events carry, the store's own included, so the API and the events show one shape.
type Finding = store.FindingView

// NewFinding renders a finding.
func NewFinding(f store.Finding) Finding { return f.View() }

// AnalysisQueued is the answer to POST /campaigns/{id}/analyze: the job, before it has run.
type AnalysisQueued struct {
	ID         string    `json:"id"`
	CampaignID string    `json:"campaign_id"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
}

// Analysis is the REST form of an analysis job.
type Analysis struct {
	AnalysisQueued
	FindingIDs []string `json:"finding_ids"`
	Error      *string  `json:"error"`
	// Analyzer is the analyzer that made the findings (builtin or llm), null until the job
	// has succeeded.
	Analyzer   *string    `json:"analyzer"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// NewAnalysisQueued renders a job as POST /campaigns/{id}/analyze answers it.
func NewAnalysisQueued(a store.Analysis) AnalysisQueued {
	return AnalysisQueued{ID: string(a.ID), CampaignID: string(a.CampaignID), Status: string(a.Status), CreatedAt: a.CreatedAt.UTC()}
}

// NewAnalysis renders a job.
func NewAnalysis(a store.Analysis) Analysis {
	ids := make([]string, len(a.FindingIDs))
	for i, id := range a.FindingIDs {
		ids[i] = string(id)
	}
	return Analysis{AnalysisQueued: NewAnalysisQueued(a), FindingIDs: ids, Error: OrNil(a.Error),
		Analyzer: OrNil(a.Analyzer), StartedAt: utc(a.StartedAt), FinishedAt: utc(a.FinishedAt)}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

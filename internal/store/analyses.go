package store

import (
	"context"
	"time"
)

// AnalysisStatus is the state of an analysis job.
type AnalysisStatus string

// Analysis states: queued -> running -> succeeded | failed (a queued job may also fail).
const (
	AnalysisQueued    AnalysisStatus = "queued"
	AnalysisRunning   AnalysisStatus = "running"
	AnalysisSucceeded AnalysisStatus = "succeeded"
	AnalysisFailed    AnalysisStatus = "failed"
)

// Analysis is a job that turns a campaign's transcripts into findings.
type Analysis struct {
	ID         AnalysisID
	CampaignID CampaignID
	Status     AnalysisStatus
	FindingIDs []FindingID
	Error      string
	// Analyzer is the analyzer that made the findings of a succeeded job ("builtin" or
	// "llm"), which may not be the one the campaign asked for; "" otherwise.
	Analyzer   string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// AnalysisResult ends a job: a non-empty Error makes it failed, else succeeded.
type AnalysisResult struct {
	FindingIDs []FindingID
	Error      string
	// Analyzer names the analyzer that made the findings; a failed job keeps none.
	Analyzer string
}

// AnalysisFilter narrows ListAnalyses; zero fields match everything.
type AnalysisFilter struct {
	CampaignID CampaignID
	Status     AnalysisStatus
}

// AnalysisStore holds analysis jobs.
type AnalysisStore interface {
	// CreateAnalysis queues a job for a campaign; ErrConflict while the campaign has one
	// queued or running (see ActiveAnalysis).
	CreateAnalysis(ctx context.Context, campaign CampaignID) (Analysis, error)
	// GetAnalysis returns one job, or ErrNotFound.
	GetAnalysis(ctx context.Context, id AnalysisID) (Analysis, error)
	// StartAnalysis moves a queued job to running (ErrInvalidState otherwise).
	StartAnalysis(ctx context.Context, id AnalysisID) (Analysis, error)
	// FinishAnalysis moves a queued or running job to succeeded or failed.
	FinishAnalysis(ctx context.Context, id AnalysisID, r AnalysisResult) (Analysis, error)
	// ListAnalyses sorts by created_at, descending by default. Its TotalCount is a COUNT(*)
	// (a campaign has few analyses: one at a time, each minutes long).
	ListAnalyses(ctx context.Context, f AnalysisFilter, p PageRequest) (Page[Analysis], error)
}

// Position returns the keyset position of the analysis; created_at is its only sort key.
func (a Analysis) Position(SortKey) Position {
	return Position{ID: string(a.ID), Time: a.CreatedAt}
}

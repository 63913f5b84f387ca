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
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// AnalysisResult ends a job: a non-empty Error makes it failed, else succeeded.
type AnalysisResult struct {
	FindingIDs []FindingID
	Error      string
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
}

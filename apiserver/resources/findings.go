package resources

import (
	"time"

	"qual.cx/operator/internal/store"
)

// Evidence is a quote that supports a finding: an interview of the finding's campaign and,
// optionally, one of its messages, of which the quote is an exact substring.
type Evidence struct {
	InterviewID string  `json:"interview_id"`
	MessageID   *string `json:"message_id"`
	Quote       string  `json:"quote"`
}

// Finding is the REST form of a finding.
type Finding struct {
	ID         string     `json:"id"`
	CampaignID string     `json:"campaign_id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Summary    string     `json:"summary"`
	Evidence   []Evidence `json:"evidence"`
	Frequency  int        `json:"frequency"`
	Sentiment  string     `json:"sentiment"`
	Confidence float64    `json:"confidence"`
	Tags       []string   `json:"tags"`
	Source     string     `json:"source"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// NewFinding renders a finding.
func NewFinding(f store.Finding) Finding {
	ev := make([]Evidence, len(f.Evidence))
	for i, e := range f.Evidence {
		ev[i] = Evidence{InterviewID: string(e.InterviewID), MessageID: orNil(string(e.MessageID)), Quote: e.Quote}
	}
	tags := f.Tags
	if tags == nil {
		tags = []string{}
	}
	return Finding{ID: string(f.ID), CampaignID: string(f.CampaignID), Type: string(f.Type), Title: f.Title,
		Summary: f.Summary, Evidence: ev, Frequency: f.Frequency, Sentiment: string(f.Sentiment),
		Confidence: f.Confidence, Tags: tags, Source: string(f.Source),
		CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC()}
}

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
	return Analysis{AnalysisQueued: NewAnalysisQueued(a), FindingIDs: ids, Error: orNil(a.Error),
		Analyzer: orNil(a.Analyzer), StartedAt: utc(a.StartedAt), FinishedAt: utc(a.FinishedAt)}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

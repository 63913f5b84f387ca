package store

import (
	"context"
	"time"
)

// FindingType classifies a finding.
type FindingType string

// Finding types.
const (
	FindingTheme       FindingType = "theme"
	FindingPainPoint   FindingType = "pain_point"
	FindingOpportunity FindingType = "opportunity"
	FindingInsight     FindingType = "insight"
)

// Sentiment of a finding.
type Sentiment string

// Sentiments.
const (
	SentimentPositive Sentiment = "positive"
	SentimentNeutral  Sentiment = "neutral"
	SentimentNegative Sentiment = "negative"
	SentimentMixed    Sentiment = "mixed"
)

// FindingSource says whether analysis or a person made a finding.
type FindingSource string

// Finding sources.
const (
	SourceAnalysis FindingSource = "analysis"
	SourceManual   FindingSource = "manual"
)

// Evidence links a finding to an interview of the same campaign and, optionally, one of its
// messages.
type Evidence struct {
	InterviewID InterviewID
	MessageID   MessageID // optional
	Quote       string
}

// Finding is a theme, pain point, opportunity or insight drawn from interviews.
type Finding struct {
	ID         FindingID
	CampaignID CampaignID
	Type       FindingType
	Title      string
	Summary    string
	Evidence   []Evidence
	Frequency  int // interviews that support it
	Sentiment  Sentiment
	Confidence float64 // 0..1
	Tags       []string
	Source     FindingSource
	// Key is the analyzer's stable key of an analysis finding (unique in its campaign), by
	// which a re-analysis finds the finding it made before; empty on manual findings.
	Key       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewFinding is the input of CreateFinding. Sentiment defaults to neutral and Source to manual.
type NewFinding struct {
	CampaignID CampaignID
	Type       FindingType
	Title      string
	Summary    string
	Evidence   []Evidence
	Frequency  int
	Sentiment  Sentiment
	Confidence float64
	Tags       []string
	Source     FindingSource
	// Key is set by analysis only (see Finding.Key); a second finding with the same Key in a
	// campaign is ErrConflict.
	Key string
	// Carries, for SyncAnalysisFindings only, is the Key of a stored finding this one
	// continues under its new Key (the analyzer named the same theme differently): that
	// finding is kept and takes Key, so the next analysis finds it by Key.
	Carries string
}

// FindingPatch changes the non-nil fields of a finding.
type FindingPatch struct {
	Type       *FindingType
	Title      *string
	Summary    *string
	Evidence   *[]Evidence
	Frequency  *int
	Sentiment  *Sentiment
	Confidence *float64
	Tags       *[]string
}

// FindingFilter narrows ListFindings; zero fields match everything.
type FindingFilter struct {
	CampaignID CampaignID
	Type       FindingType
	Tag        string
}

// FindingStore holds findings with their evidence and tags.
type FindingStore interface {
	// CreateFinding stores a finding. Evidence must point at the team's interviews of the same
	// campaign (and messages of those interviews), else ErrInvalidInput.
	CreateFinding(ctx context.Context, in NewFinding) (Finding, error)
	// GetFinding returns one finding, or ErrNotFound.
	GetFinding(ctx context.Context, id FindingID) (Finding, error)
	// UpdateFinding applies a patch and bumps updated_at, and says whether it changed
	// anything: a patch that changes nothing writes nothing and returns the finding as it is.
	UpdateFinding(ctx context.Context, id FindingID, p FindingPatch) (f Finding, changed bool, err error)
	// DeleteFinding deletes a finding with its evidence and tags.
	DeleteFinding(ctx context.Context, id FindingID) error
	// ListFindings sorts by created_at (default), updated_at or title, descending by default.
	ListFindings(ctx context.Context, f FindingFilter, p PageRequest) (Page[Finding], error)
	// TopFindings returns a campaign's n most frequent findings (ties by id), with their
	// evidence and tags, and how many findings the campaign has in all.
	TopFindings(ctx context.Context, campaign CampaignID, n int) (top []Finding, total int, err error)
}

// Position returns the keyset position of the finding for the given sort key.
func (f Finding) Position(k SortKey) Position {
	p := Position{ID: string(f.ID), Time: f.CreatedAt}
	switch k {
	case SortUpdatedAt:
		p.Time = f.UpdatedAt
	case SortTitle:
		p = Position{ID: string(f.ID), Title: f.Title}
	}
	return p
}

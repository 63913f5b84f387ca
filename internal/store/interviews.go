package store

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"time"
)

// InterviewStatus is the lifecycle state of an interview.
type InterviewStatus string

// Interview states. in_progress is the only state that accepts messages or a transition.
const (
	InterviewInProgress InterviewStatus = "in_progress"
	InterviewCompleted  InterviewStatus = "completed"
	InterviewAbandoned  InterviewStatus = "abandoned"
)

// Participant describes who is interviewed; every field is optional.
type Participant struct {
	Name       string
	Email      string
	ExternalID string
	Metadata   Metadata
}

// Empty says nothing about the participant was given.
func (p Participant) Empty() bool {
	return p.Name == "" && p.Email == "" && p.ExternalID == "" && len(p.Metadata) == 0
}

// Metadata is a participant's free-form data, kept as given: a number keeps every digit
// (a CRM id of 17 digits is not rounded to the nearest float64).
type Metadata map[string]any

// UnmarshalJSON reads numbers as json.Number.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*m = v
	return nil
}

// Interview is one conversation in a campaign.
type Interview struct {
	ID            InterviewID
	CampaignID    CampaignID
	Participant   Participant
	Status        InterviewStatus
	MessageCount  int
	QuestionCount int // interviewer messages so far
	CreatedAt     time.Time
	UpdatedAt     time.Time
	EndedAt       *time.Time // set when the status leaves in_progress
	// ParticipantToken is the hash of the token that lets the participant's browser read and
	// answer this interview alone; nil for an interview started before there were any.
	ParticipantToken *TokenHash
}

// TokenMatches reports whether h is the hash of the interview's participant token. It compares
// in constant time, so how long a wrong guess takes tells nothing of the stored hash; an
// interview without a token matches nothing.
func (iv Interview) TokenMatches(h TokenHash) bool {
	return iv.ParticipantToken != nil && subtle.ConstantTimeCompare(iv.ParticipantToken[:], h[:]) == 1
}

// NewInterview is the input of CreateInterview.
type NewInterview struct {
	CampaignID  CampaignID
	Participant Participant
	// ParticipantToken is the hash of the participant token shown to the caller that starts
	// it (nil: none); the token itself is never stored.
	ParticipantToken *TokenHash
}

// InterviewFilter narrows ListInterviews; zero fields match everything.
type InterviewFilter struct {
	CampaignID CampaignID
	Status     InterviewStatus
	// ParticipantEmail finds a participant's interviews (an erasure request): their e-mail
	// address with its ASCII letters folded, as addresses compare across the project
	// (Ada@Example.com is ada@example.com; no other letter folds).
	ParticipantEmail string
	// ExternalID finds the interviews of the participant with this external id, exactly.
	ExternalID string
}

// byParticipant says the filter names a participant, which the interview counters do not
// count by.
func (f InterviewFilter) byParticipant() bool {
	return f.ParticipantEmail != "" || f.ExternalID != ""
}

// InterviewStore holds interviews.
type InterviewStore interface {
	// CreateInterview starts an interview in_progress with no messages.
	CreateInterview(ctx context.Context, in NewInterview) (Interview, error)
	// GetInterview returns one interview, or ErrNotFound.
	GetInterview(ctx context.Context, id InterviewID) (Interview, error)
	// ListInterviews sorts by created_at (default) or updated_at, descending by default. Its
	// TotalCount is CountInterviews(f): exact, and a few row reads at any size. A participant
	// filter is served by an index of (team, e-mail or external id), so the lookup reads
	// that participant's interviews of the team and nothing else.
	ListInterviews(ctx context.Context, f InterviewFilter, p PageRequest) (Page[Interview], error)
	// CountInterviews counts the interviews matching f (any combination of campaign and status)
	// from counters kept in the same transaction as every change, so it is exact and costs one
	// to three row reads however many interviews or campaigns the team has. With a participant
	// filter it counts that participant's index entries instead.
	CountInterviews(ctx context.Context, f InterviewFilter) (int64, error)
	// InterviewCounts returns the number of interviews (all statuses) of each campaign, in one
	// query for up to 250 campaigns. Every requested campaign is a key; one with no interviews
	// (or another team's) maps to 0. An empty campaign id is ErrInvalidInput.
	InterviewCounts(ctx context.Context, campaigns []CampaignID) (map[CampaignID]int64, error)
	// EndInterview moves an in_progress interview to completed or abandoned; any other
	// transition is ErrInvalidState.
	EndInterview(ctx context.Context, id InterviewID, to InterviewStatus) (Interview, error)
	// EndCampaignInterviews ends every in_progress interview of a campaign: completed when the
	// participant answered at least once (message_count > question_count), abandoned otherwise.
	// It returns the interviews it completed, so the caller can write an event for each in the
	// same InTx; a campaign with nothing in progress returns an empty slice.
	EndCampaignInterviews(ctx context.Context, campaign CampaignID) ([]Interview, error)
	// DeleteInterview deletes an interview with its messages, evidence pointing at it and the
	// events about it (with their deliveries and attempts). The participant's name, e-mail,
	// external id and metadata live only on the interview row and in those events' payloads,
	// so they go with it. What the participant said may also be in the titles, summaries and
	// tags of the campaign's analysis findings: those are replaced (RedactedTitle, an empty
	// summary, no tags) until the campaign is analysed again, and their events deleted. Every
	// finding it changes (those, and those that quoted the interview) gets a finding.updated
	// event showing it as it is after the erasure, in the same transaction; one redacted
	// already by an earlier erasure, which it does not change, gets none and keeps its events.
	DeleteInterview(ctx context.Context, id InterviewID) error
	// EraseInterview is DeleteInterview, and says what the erasure did to the campaign's
	// analysis findings. It redacts them only if an analysis whose findings were stored
	// read the interview (SyncAnalysisFindings marks the interviews it was given): one never
	// completed, or completed after the findings were made, is in none of them.
	EraseInterview(ctx context.Context, id InterviewID) (Erasure, error)
}

// Erasure is what EraseInterview did.
type Erasure struct {
	// Campaign is the erased interview's campaign.
	Campaign CampaignID
	// Redacted says the campaign's analysis findings are redacted (RedactedTitle), by this
	// erasure or an earlier one of a burst: an analysis of the interviews left must write
	// them anew.
	Redacted bool
}

// IdleInterview names one interview AbandonIdleInterviews abandoned, for logs and metrics.
type IdleInterview struct {
	TeamID      TeamID
	CampaignID  CampaignID
	InterviewID InterviewID
}

// MaxSweepLimit caps the limit of one AbandonIdleInterviews call, so one sweep transaction
// stays short.
const MaxSweepLimit = 1000

// Position returns the keyset position of the interview for the given sort key.
func (iv Interview) Position(k SortKey) Position {
	p := Position{ID: string(iv.ID), Time: iv.CreatedAt}
	if k == SortUpdatedAt {
		p.Time = iv.UpdatedAt
	}
	return p
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// The event types of changes to findings (the REST contract's names). Every change to a
// finding writes one of them in the change's transaction.
const (
	EventFindingCreated = "finding.created"
	EventFindingUpdated = "finding.updated"
)

// EvidenceView is a quote of a FindingView: an interview of the finding's campaign and,
// optionally, one of its messages, of which the quote is an exact substring.
type EvidenceView struct {
	InterviewID string  `json:"interview_id"`
	MessageID   *string `json:"message_id"`
	Quote       string  `json:"quote"`
}

// FindingView is a finding as the REST API shows it, and so as its finding.* events carry
// it. It lives beside the rows, not with the API's other representations
// (apiserver/resources renders findings with it), because the store writes some finding
// events itself: an erasure changes findings in its own transaction, and their events must
// carry what every other finding event carries.
type FindingView struct {
	ID         string         `json:"id"`
	CampaignID string         `json:"campaign_id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Summary    string         `json:"summary"`
	Evidence   []EvidenceView `json:"evidence"`
	Frequency  int            `json:"frequency"`
	Sentiment  string         `json:"sentiment"`
	Confidence float64        `json:"confidence"`
	Tags       []string       `json:"tags"`
	Source     string         `json:"source"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// View renders f as the REST API shows it: lists never null, an absent message id null.
func (f Finding) View() FindingView {
	ev := make([]EvidenceView, len(f.Evidence))
	for i, e := range f.Evidence {
		ev[i] = EvidenceView{InterviewID: string(e.InterviewID), Quote: e.Quote}
		if e.MessageID != "" {
			id := string(e.MessageID)
			ev[i].MessageID = &id
		}
	}
	tags := f.Tags
	if tags == nil {
		tags = []string{}
	}
	return FindingView{ID: string(f.ID), CampaignID: string(f.CampaignID), Type: string(f.Type), Title: f.Title,
		Summary: f.Summary, Evidence: ev, Frequency: f.Frequency, Sentiment: string(f.Sentiment),
		Confidence: f.Confidence, Tags: tags, Source: string(f.Source),
		CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC()}
}

// AnnounceFinding writes the event of a change to f (EventFindingCreated or
// EventFindingUpdated) through ts, which should be the change's transaction: its payload is
// f as the REST API shows it, its subject the finding, so that deliveries keep the finding's
// changes in order, and it names the campaign, so that it goes with the campaign's data.
func AnnounceFinding(ctx context.Context, ts TeamStore, typ string, f Finding) error {
	payload, err := json.Marshal(f.View())
	if err != nil {
		return fmt.Errorf("store: render %s of finding %s: %w", typ, f.ID, err)
	}
	_, err = ts.AddEvent(ctx, NewEvent{Type: typ, Subject: string(f.ID), CampaignID: f.CampaignID, Payload: payload})
	return err
}

// findingFacts is what erasing an interview needs to know of a finding event, read from its
// payload (a FindingView) once, when it is written, and stored as data beside it
// (event_quotes, events.analysis_words) so an erasure finds the events by index.
type findingFacts struct {
	// quotes are the interviews its evidence quotes, each once: erasing one deletes the event.
	quotes []string
	// analysisWords: it shows an analysis finding as an analysis wrote it, whose title,
	// summary and tags are made of participants' words, not as an erasure redacted it
	// (RedactedTitle and no tags), which holds only the server's words: erasing an interview
	// an analysis read deletes it.
	analysisWords bool
}

// readFindingEvent reads the findingFacts of an event of type typ: none for an event that is
// not about a finding. A finding event's payload must be a finding, or no erasure could tell
// whose words it holds.
func readFindingEvent(typ string, payload []byte) (findingFacts, error) {
	if typ != EventFindingCreated && typ != EventFindingUpdated {
		return findingFacts{}, nil
	}
	var v struct {
		Evidence []struct {
			InterviewID string `json:"interview_id"`
		} `json:"evidence"`
		Title  string   `json:"title"`
		Tags   []string `json:"tags"` // nil when absent or null: only [] shows no tags
		Source string   `json:"source"`
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		return findingFacts{}, fmt.Errorf("the payload of %s is not a finding: %w", typ, err)
	}
	var facts findingFacts
	for _, ev := range v.Evidence {
		if ev.InterviewID != "" {
			facts.quotes = append(facts.quotes, ev.InterviewID)
		}
	}
	slices.Sort(facts.quotes) // an analysis finding may quote thousands of interviews
	facts.quotes = slices.Compact(facts.quotes)
	redacted := v.Title == RedactedTitle && v.Tags != nil && len(v.Tags) == 0
	facts.analysisWords = v.Source == string(SourceAnalysis) && !redacted
	return facts, nil
}

// announceChunk is how many findings one query of announceUpdated reads.
const announceChunk = 500

// announceUpdated writes finding.updated for each of the findings ids names, as they are
// now, in id order; an id named twice is announced once. It must run in the transaction that
// changed them.
func (ts *teamStore) announceUpdated(ctx context.Context, ids []string) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, announceChunk) {
		in, args := inList(ts.team, chunk)
		rows, err := ts.query(ctx, "SELECT "+findingColumns+" FROM findings WHERE team_id = ? AND id IN "+in+" ORDER BY id", args...)
		if err != nil {
			return fmt.Errorf("read the changed findings: %w", err)
		}
		fs, err := collect(rows, scanFinding)
		if err == nil {
			err = ts.loadChildren(ctx, fs)
		}
		if err != nil {
			return fmt.Errorf("read the changed findings: %w", err)
		}
		for _, f := range fs {
			if err := AnnounceFinding(ctx, ts, EventFindingUpdated, f); err != nil {
				return err
			}
		}
	}
	return nil
}

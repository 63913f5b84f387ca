package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// validateFinding checks enums and bounds before anything is written.
func validateFinding(f Finding) error {
	switch {
	case f.CampaignID == "":
		return fmt.Errorf("empty campaign id: %w", ErrInvalidInput)
	case strings.TrimSpace(f.Title) == "":
		return fmt.Errorf("empty title: %w", ErrInvalidInput)
	case !slices.Contains([]FindingType{FindingTheme, FindingPainPoint, FindingOpportunity, FindingInsight}, f.Type):
		return fmt.Errorf("type %q: %w", f.Type, ErrInvalidInput)
	case !slices.Contains([]Sentiment{SentimentPositive, SentimentNeutral, SentimentNegative, SentimentMixed}, f.Sentiment):
		return fmt.Errorf("sentiment %q: %w", f.Sentiment, ErrInvalidInput)
	case f.Source != SourceAnalysis && f.Source != SourceManual:
		return fmt.Errorf("source %q: %w", f.Source, ErrInvalidInput)
	case f.Confidence < 0 || f.Confidence > 1:
		return fmt.Errorf("confidence %v out of 0..1: %w", f.Confidence, ErrInvalidInput)
	case f.Frequency < 0:
		return fmt.Errorf("negative frequency: %w", ErrInvalidInput)
	}
	return nil
}

// normalizeChildren makes tags a sorted set and both lists non-nil, which is how they read back.
func normalizeChildren(f *Finding) {
	tags := slices.Clone(f.Tags)
	slices.Sort(tags)
	f.Tags = slices.Compact(tags)
	if f.Tags == nil {
		f.Tags = []string{}
	}
	if f.Evidence == nil {
		f.Evidence = []Evidence{}
	}
}

// applyPatch copies the set fields of p into f.
func applyPatch(f *Finding, p FindingPatch) {
	if p.Type != nil {
		f.Type = *p.Type
	}
	if p.Title != nil {
		f.Title = *p.Title
	}
	if p.Summary != nil {
		f.Summary = *p.Summary
	}
	if p.Frequency != nil {
		f.Frequency = *p.Frequency
	}
	if p.Sentiment != nil {
		f.Sentiment = *p.Sentiment
	}
	if p.Confidence != nil {
		f.Confidence = *p.Confidence
	}
	if p.Evidence != nil {
		f.Evidence = *p.Evidence
	}
	if p.Tags != nil {
		f.Tags = *p.Tags
	}
	normalizeChildren(f)
}

// writeChildren replaces a finding's evidence and/or tags.
func (ts *teamStore) writeChildren(ctx context.Context, f Finding, evidence, tags bool) error {
	if evidence {
		if err := ts.writeEvidence(ctx, f); err != nil {
			return err
		}
	}
	if !tags {
		return nil
	}
	if _, err := ts.exec(ctx, "DELETE FROM finding_tags WHERE team_id = ? AND finding_id = ?", ts.team, f.ID); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	for _, tag := range f.Tags {
		if _, err := ts.exec(ctx, "INSERT INTO finding_tags (finding_id, team_id, tag) VALUES (?, ?, ?)",
			f.ID, ts.team, tag); err != nil {
			return fmt.Errorf("tag %q: %w", tag, err)
		}
	}
	return nil
}

// writeEvidence replaces a finding's evidence after checking every link stays inside the team
// and the finding's campaign.
func (ts *teamStore) writeEvidence(ctx context.Context, f Finding) error {
	if _, err := ts.exec(ctx, "DELETE FROM finding_evidence WHERE team_id = ? AND finding_id = ?", ts.team, f.ID); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	for i, ev := range f.Evidence {
		if err := ts.checkEvidence(ctx, f.CampaignID, ev); err != nil {
			return fmt.Errorf("evidence %d: %w", i, err)
		}
		var msg any
		if ev.MessageID != "" {
			msg = ev.MessageID
		}
		if _, err := ts.exec(ctx, `INSERT INTO finding_evidence (finding_id, position, team_id, interview_id, message_id, quote)
			VALUES (?, ?, ?, ?, ?, ?)`, f.ID, i, ts.team, ev.InterviewID, msg, ev.Quote); err != nil {
			return fmt.Errorf("evidence %d: %w", i, err)
		}
	}
	return nil
}

// checkEvidence verifies that the interview is the team's, in the campaign, and that the message
// (if any) belongs to it.
func (ts *teamStore) checkEvidence(ctx context.Context, campaign CampaignID, ev Evidence) error {
	var one int
	err := ts.writeRow(ctx, `SELECT 1 FROM interviews i
		WHERE i.team_id = ? AND i.id = ? AND i.campaign_id = ? AND (? = '' OR EXISTS (
			SELECT 1 FROM messages m WHERE m.team_id = ? AND m.id = ? AND m.interview_id = i.id))`,
		[]any{&one}, ts.team, ev.InterviewID, campaign, string(ev.MessageID), ts.team, ev.MessageID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("interview %q / message %q not in campaign %s: %w", ev.InterviewID, ev.MessageID, campaign, ErrInvalidInput)
	}
	return err
}

// loadChildren fills the evidence and tags of a page of findings with one query each.
func (ts *teamStore) loadChildren(ctx context.Context, fs []Finding) error {
	if len(fs) == 0 {
		return nil
	}
	byID := make(map[FindingID]*Finding, len(fs))
	for i := range fs {
		fs[i].Tags, fs[i].Evidence = []string{}, []Evidence{}
		byID[fs[i].ID] = &fs[i]
	}
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = string(f.ID)
	}
	in, args := inList(ts.team, ids)
	if err := ts.loadTags(ctx, byID, in, args); err != nil {
		return err
	}
	return ts.loadEvidence(ctx, byID, in, args)
}

func (ts *teamStore) loadTags(ctx context.Context, byID map[FindingID]*Finding, in string, args []any) error {
	rows, err := ts.query(ctx, "SELECT finding_id, tag FROM finding_tags WHERE team_id = ? AND finding_id IN "+in+
		" ORDER BY finding_id, tag", args...)
	if err != nil {
		return fmt.Errorf("load tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id FindingID
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return fmt.Errorf("load tags: %w", err)
		}
		byID[id].Tags = append(byID[id].Tags, tag)
	}
	return rows.Err()
}

func (ts *teamStore) loadEvidence(ctx context.Context, byID map[FindingID]*Finding, in string, args []any) error {
	rows, err := ts.query(ctx, `SELECT finding_id, interview_id, COALESCE(message_id, ''), quote
		FROM finding_evidence WHERE team_id = ? AND finding_id IN `+in+" ORDER BY finding_id, position", args...)
	if err != nil {
		return fmt.Errorf("load evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id FindingID
		var ev Evidence
		if err := rows.Scan(&id, &ev.InterviewID, &ev.MessageID, &ev.Quote); err != nil {
			return fmt.Errorf("load evidence: %w", err)
		}
		byID[id].Evidence = append(byID[id].Evidence, ev)
	}
	return rows.Err()
}

// inList builds "(?, ?, ...)" for ids, with the arguments: the team first, then the ids.
func inList(team TeamID, ids []string) (string, []any) {
	args := make([]any, 0, len(ids)+1)
	args = append(args, team)
	for _, id := range ids {
		args = append(args, id)
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", args
}

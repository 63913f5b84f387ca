package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// FindingChange says what SyncAnalysisFindings did to one finding.
type FindingChange string

// Finding changes.
const (
	FindingCreated   FindingChange = "created"
	FindingUpdated   FindingChange = "updated"
	FindingUnchanged FindingChange = "unchanged"
)

// SyncedFinding is one finding after SyncAnalysisFindings, with what happened to it.
type SyncedFinding struct {
	Finding Finding
	Change  FindingChange
}

// AnalysisSync is the outcome of SyncAnalysisFindings.
type AnalysisSync struct {
	// Findings are the campaign's analysis findings now, in the order given.
	Findings []SyncedFinding
	// Removed are the analysis findings deleted because their Key no longer appears.
	Removed []FindingID
}

// AnalysisFindingStore keeps the findings analysis makes.
type AnalysisFindingStore interface {
	// SyncAnalysisFindings makes the campaign's analysis findings exactly fs, matched by Key
	// (required, unique within fs): a Key seen before keeps its finding's id and created_at and
	// is rewritten only if its content changed; a new Key whose Carries names a stored finding
	// that no Key of fs keeps continues that finding, which takes the new Key (so keys stay
	// unique, and the next analysis matches it by Key); any other new Key creates a finding; an
	// analysis finding neither kept nor carried is deleted. Manual findings are never touched.
	// Source is analysis whatever fs says. Evidence is checked as by CreateFinding
	// (ErrInvalidInput).
	//
	// read are the interviews fs was made from. If one of them has been deleted since, it
	// writes nothing and fails with ErrConflict: fs may hold the erased participant's words
	// (a title needs no evidence to quote them), so the analysis must be made again without
	// them. On PostgreSQL the interviews stay locked against deletion until the transaction
	// ends, so an erasure waits for the sync and then redacts what it wrote. The interviews
	// read are marked analysed in the same transaction: erasing one of them redacts the
	// findings, erasing any other interview does not (EraseInterview).
	SyncAnalysisFindings(ctx context.Context, campaign CampaignID, read []InterviewID, fs []NewFinding) (AnalysisSync, error)
	// NoteRedactedFindings sets the summary of the campaign's analysis findings an erasure
	// redacted (titled RedactedTitle) to note, writes finding.updated for each in the same
	// transaction, and says how many it changed: the analysis that was to write them anew
	// failed, and they say so rather than stay as if it were still coming. note is the
	// server's text: what the findings said stays erased.
	NoteRedactedFindings(ctx context.Context, campaign CampaignID, note string) (int64, error)
	// ActiveAnalysis returns the campaign's queued or running analysis (there is at most one:
	// CreateAnalysis refuses a second with ErrConflict), or ErrNotFound.
	ActiveAnalysis(ctx context.Context, campaign CampaignID) (Analysis, error)
}

// SyncAnalysisFindings upserts the campaign's analysis findings by Key in one transaction.
func (ts *teamStore) SyncAnalysisFindings(ctx context.Context, campaign CampaignID, read []InterviewID, fs []NewFinding) (AnalysisSync, error) {
	var out AnalysisSync
	err := ts.atomically(ctx, func(tx *teamStore) error {
		// The findings are locked before the interviews, as DeleteInterview locks them, so the
		// two never wait on each other in a cycle.
		before, err := tx.analysisFindings(ctx, campaign)
		if err != nil {
			return err
		}
		if err := tx.holdInterviews(ctx, read); err != nil {
			return err
		}
		continued, kept, err := matchAnalysisFindings(before, fs)
		if err != nil {
			return err
		}
		for i, in := range fs {
			in.CampaignID, in.Source = campaign, SourceAnalysis
			old, ok := continued[i]
			if !ok {
				f, err := tx.CreateFinding(ctx, in)
				if err != nil {
					return fmt.Errorf("finding %d: %w", i, err)
				}
				out.Findings = append(out.Findings, SyncedFinding{Finding: f, Change: FindingCreated})
				continue
			}
			if old, err = tx.rekeyFinding(ctx, old, in.Key); err != nil {
				return fmt.Errorf("finding %d: %w", i, err)
			}
			f, change, err := tx.rewriteFinding(ctx, old, in)
			if err != nil {
				return fmt.Errorf("finding %d: %w", i, err)
			}
			out.Findings = append(out.Findings, SyncedFinding{Finding: f, Change: change})
		}
		for key, old := range before {
			if kept[key] {
				continue
			}
			if err := tx.DeleteFinding(ctx, old.ID); err != nil {
				return err
			}
			out.Removed = append(out.Removed, old.ID)
		}
		slices.Sort(out.Removed)
		return tx.markAnalysed(ctx, quoted(fs))
	})
	if err != nil {
		return AnalysisSync{}, fmt.Errorf("store: sync analysis findings of campaign %s: %w", campaign, err)
	}
	return out, nil
}

// matchAnalysisFindings pairs fs (by index) with the stored findings they continue: the one
// of their Key first, then, for a Key new to the campaign, the one their Carries names, if no
// other finding of fs keeps or carries it. kept holds the stored keys so continued; a key is
// carried at most once, so no two of fs continue one finding.
func matchAnalysisFindings(before map[string]Finding, fs []NewFinding) (continued map[int]Finding, kept map[string]bool, err error) {
	continued, kept = make(map[int]Finding, len(fs)), make(map[string]bool, len(fs))
	keys := make(map[string]bool, len(fs))
	for i, in := range fs {
		if in.Key == "" || keys[in.Key] {
			return nil, nil, fmt.Errorf("finding %d: empty or repeated key %q: %w", i, in.Key, ErrInvalidInput)
		}
		keys[in.Key] = true
		if old, ok := before[in.Key]; ok {
			continued[i], kept[in.Key] = old, true
		}
	}
	for i, in := range fs {
		if _, ok := continued[i]; ok || in.Carries == "" || kept[in.Carries] {
			continue
		}
		if old, ok := before[in.Carries]; ok {
			continued[i], kept[in.Carries] = old, true
		}
	}
	return continued, kept, nil
}

// rekeyFinding gives a stored analysis finding the key of the finding that continues it. The
// key is new to the campaign (matchAnalysisFindings carries only to a Key no stored finding
// has), so the unique index never sees two at once. The key is not part of what the API
// shows, so updated_at stays.
func (ts *teamStore) rekeyFinding(ctx context.Context, old Finding, key string) (Finding, error) {
	if old.Key == key {
		return old, nil
	}
	if _, err := ts.exec(ctx, "UPDATE findings SET analysis_key = ? WHERE team_id = ? AND id = ?", key, ts.team, old.ID); err != nil {
		return Finding{}, fmt.Errorf("rekey finding %s: %w", old.ID, err)
	}
	old.Key = key
	return old, nil
}

// analysisFindingsLocked selects a campaign's analysis findings in the one order both
// SyncAnalysisFindings and DeleteInterview lock them, so they never wait on each other in a
// cycle.
const analysisFindingsLocked = ` FROM findings
		WHERE team_id = ? AND campaign_id = ? AND analysis_key IS NOT NULL ORDER BY id`

// analysisFindings reads (and on PostgreSQL locks) the campaign's analysis findings by Key.
func (ts *teamStore) analysisFindings(ctx context.Context, campaign CampaignID) (map[string]Finding, error) {
	rows, err := ts.writeQuery(ctx, "SELECT "+findingColumns+analysisFindingsLocked+ts.s.d.forUpdate, ts.team, campaign)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanFinding)
	if err != nil {
		return nil, err
	}
	if err := ts.loadChildren(ctx, list); err != nil {
		return nil, err
	}
	out := make(map[string]Finding, len(list))
	for _, f := range list {
		out[f.Key] = f
	}
	return out, nil
}

// holdChunk is how many interview ids one holdInterviews query names.
const holdChunk = 500

// holdInterviews fails with ErrConflict unless every interview in ids still exists, and on
// PostgreSQL locks them (FOR SHARE) until the transaction ends, so none can be deleted first;
// it marks them analysed (see EraseInterview).
func (ts *teamStore) holdInterviews(ctx context.Context, ids []InterviewID) error {
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		want = append(want, string(id))
	}
	slices.Sort(want)
	want = slices.Compact(want)
	for chunk := range slices.Chunk(want, holdChunk) {
		in, args := inList(ts.team, chunk)
		rows, err := ts.writeQuery(ctx, "SELECT id FROM interviews WHERE team_id = ? AND id IN "+in+ts.s.d.forShare, args...)
		if err != nil {
			return fmt.Errorf("hold the interviews analysed: %w", err)
		}
		held, err := collect(rows, scanID)
		if err != nil {
			return fmt.Errorf("hold the interviews analysed: %w", err)
		}
		if len(held) != len(chunk) {
			return fmt.Errorf("%d of the interviews analysed were deleted meanwhile: %w", len(chunk)-len(held), ErrConflict)
		}
	}
	return ts.markAnalysed(ctx, want)
}

// markAnalysed marks the interviews ids (sorted, distinct) as read by an analysis whose
// findings are stored, in the transaction that stores them: an erasure after it knows the
// findings may hold their words, and one before it finds them unmarked and the sync refused.
func (ts *teamStore) markAnalysed(ctx context.Context, ids []string) error {
	for chunk := range slices.Chunk(ids, holdChunk) {
		in, args := inList(ts.team, chunk)
		if _, err := ts.exec(ctx, "UPDATE interviews SET analysed = TRUE WHERE team_id = ? AND id IN "+in+" AND NOT analysed", args...); err != nil {
			return fmt.Errorf("mark the interviews analysed: %w", err)
		}
	}
	return nil
}

// quoted are the interviews fs quote, sorted and distinct: a finding was made from what it
// quotes, whatever its caller says it read.
func quoted(fs []NewFinding) []string {
	var ids []string
	for _, f := range fs {
		for _, e := range f.Evidence {
			ids = append(ids, string(e.InterviewID))
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// lockAnalysisFindings locks the campaign's analysis findings on PostgreSQL, in the order
// analysisFindings locks them; SQLite has one writer and needs no lock.
func (ts *teamStore) lockAnalysisFindings(ctx context.Context, campaign CampaignID) error {
	if ts.s.d.forUpdate == "" {
		return nil
	}
	rows, err := ts.writeQuery(ctx, "SELECT id"+analysisFindingsLocked+ts.s.d.forUpdate, ts.team, campaign)
	if err == nil {
		_, err = collect(rows, scanID) // PostgreSQL locks the rows as they are read
	}
	if err != nil {
		return fmt.Errorf("lock the analysis findings: %w", err)
	}
	return nil
}

// scanID reads a row of one text column.
func scanID(r rowScanner) (string, error) {
	var id string
	return id, r.Scan(&id)
}

// rewriteFinding gives an existing analysis finding the content of in, if it differs.
func (ts *teamStore) rewriteFinding(ctx context.Context, old Finding, in NewFinding) (Finding, FindingChange, error) {
	f := old
	f.Type, f.Title, f.Summary, f.Evidence, f.Frequency = in.Type, in.Title, in.Summary, in.Evidence, in.Frequency
	f.Sentiment, f.Confidence, f.Tags, f.Source = in.Sentiment, in.Confidence, in.Tags, SourceAnalysis
	if f.Sentiment == "" {
		f.Sentiment = SentimentNeutral
	}
	normalizeChildren(&f)
	if err := validateFinding(f); err != nil {
		return Finding{}, "", err
	}
	evidence := !slices.Equal(f.Evidence, old.Evidence)
	tags := !slices.Equal(f.Tags, old.Tags)
	if !evidence && !tags && f.Type == old.Type && f.Title == old.Title && f.Summary == old.Summary &&
		f.Frequency == old.Frequency && f.Sentiment == old.Sentiment && f.Confidence == old.Confidence {
		return old, FindingUnchanged, nil
	}
	f.UpdatedAt = now()
	if _, err := ts.exec(ctx, `UPDATE findings SET type = ?, title = ?, summary = ?, frequency = ?,
		sentiment = ?, confidence = ?, source = ?, updated_at = ? WHERE team_id = ? AND id = ?`,
		f.Type, f.Title, f.Summary, f.Frequency, f.Sentiment, f.Confidence, f.Source, ts.t(f.UpdatedAt), ts.team, f.ID); err != nil {
		return Finding{}, "", err
	}
	if err := ts.writeChildren(ctx, f, evidence, tags); err != nil {
		return Finding{}, "", err
	}
	return f, FindingUpdated, nil
}

// ActiveAnalysis returns the campaign's queued or running analysis.
func (ts *teamStore) ActiveAnalysis(ctx context.Context, campaign CampaignID) (Analysis, error) {
	if err := ts.checkTeam(); err != nil {
		return Analysis{}, err
	}
	a, err := scanAnalysis(ts.reader().QueryRowContext(ctx, ts.s.d.rebind("SELECT "+analysisColumns+
		` FROM analyses WHERE team_id = ? AND campaign_id = ? AND status IN ('queued', 'running')`), ts.team, campaign))
	if errors.Is(err, sql.ErrNoRows) {
		return Analysis{}, fmt.Errorf("store: active analysis of campaign %s: %w", campaign, ErrNotFound)
	}
	if err != nil {
		return Analysis{}, fmt.Errorf("store: active analysis of campaign %s: %w", campaign, err)
	}
	return a, nil
}

// nullIfEmpty stores the empty string as NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

package store

import (
	"context"
	"fmt"
	"reflect"
)

const findingColumns = `id, campaign_id, type, title, summary, frequency, sentiment, confidence,
	source, COALESCE(analysis_key, ''), created_at, updated_at`

func scanFinding(r rowScanner) (Finding, error) {
	var f Finding
	err := r.Scan(&f.ID, &f.CampaignID, &f.Type, &f.Title, &f.Summary, &f.Frequency, &f.Sentiment,
		&f.Confidence, &f.Source, &f.Key, timeCol{&f.CreatedAt}, timeCol{&f.UpdatedAt})
	return f, err
}

// CreateFinding stores a finding with its evidence and tags in one transaction.
func (ts *teamStore) CreateFinding(ctx context.Context, in NewFinding) (Finding, error) {
	t := now()
	f := Finding{ID: FindingID(newID()), CampaignID: in.CampaignID, Type: in.Type, Title: in.Title,
		Summary: in.Summary, Evidence: in.Evidence, Frequency: in.Frequency, Sentiment: in.Sentiment,
		Confidence: in.Confidence, Tags: in.Tags, Source: in.Source, Key: in.Key, CreatedAt: t, UpdatedAt: t}
	if f.Sentiment == "" {
		f.Sentiment = SentimentNeutral
	}
	if f.Source == "" {
		f.Source = SourceManual
	}
	normalizeChildren(&f)
	if err := validateFinding(f); err != nil {
		return Finding{}, fmt.Errorf("store: create finding: %w", err)
	}
	err := ts.atomically(ctx, func(tx *teamStore) error {
		_, err := tx.exec(ctx, `INSERT INTO findings (id, team_id, campaign_id, type, title, summary,
			frequency, sentiment, confidence, source, analysis_key, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, tx.team, f.CampaignID, f.Type, f.Title, f.Summary, f.Frequency, f.Sentiment,
			f.Confidence, f.Source, nullIfEmpty(f.Key), tx.t(t), tx.t(t))
		if tx.s.d.isUnique(err) {
			return fmt.Errorf("analysis key %q taken in campaign %s: %w", f.Key, f.CampaignID, ErrConflict)
		}
		if err != nil {
			return err
		}
		return tx.writeChildren(ctx, f, true, true)
	})
	if err != nil {
		return Finding{}, fmt.Errorf("store: create finding: %w", err)
	}
	return f, nil
}

// GetFinding returns one finding with its evidence and tags.
func (ts *teamStore) GetFinding(ctx context.Context, id FindingID) (Finding, error) {
	f, err := getOne(ctx, ts, "get finding", id, scanFinding,
		"SELECT "+findingColumns+" FROM findings WHERE team_id = ? AND id = ?", ts.team, id)
	if err != nil {
		return Finding{}, err
	}
	fs := []Finding{f}
	if err := ts.loadChildren(ctx, fs); err != nil {
		return Finding{}, fmt.Errorf("store: get finding %s: %w", id, err)
	}
	return fs[0], nil
}

// UpdateFinding applies a patch. The row is read and written in one transaction, locked on
// PostgreSQL, so two patches of different fields do not undo each other.
func (ts *teamStore) UpdateFinding(ctx context.Context, id FindingID, p FindingPatch) (Finding, bool, error) {
	var f Finding
	changed := false
	err := ts.atomically(ctx, func(tx *teamStore) error {
		var err error
		if f, err = tx.lockFinding(ctx, id); err != nil {
			return err
		}
		before := f
		applyPatch(&f, p)
		if err := validateFinding(f); err != nil {
			return err
		}
		if reflect.DeepEqual(before, f) { // nothing to write, and updated_at stays
			return nil
		}
		changed = true
		f.UpdatedAt = now()
		_, err = tx.exec(ctx, `UPDATE findings SET type = ?, title = ?, summary = ?, frequency = ?,
			sentiment = ?, confidence = ?, updated_at = ? WHERE team_id = ? AND id = ?`,
			f.Type, f.Title, f.Summary, f.Frequency, f.Sentiment, f.Confidence, tx.t(f.UpdatedAt), tx.team, id)
		if err != nil {
			return err
		}
		return tx.writeChildren(ctx, f, p.Evidence != nil, p.Tags != nil)
	})
	if err != nil {
		return Finding{}, false, fmt.Errorf("store: update finding %s: %w", id, err)
	}
	return f, changed, nil
}

// lockFinding reads a finding for update.
func (ts *teamStore) lockFinding(ctx context.Context, id FindingID) (Finding, error) {
	f, err := getOne(ctx, ts, "finding", id, scanFinding,
		"SELECT "+findingColumns+" FROM findings WHERE team_id = ? AND id = ?"+ts.s.d.forUpdate, ts.team, id)
	if err != nil {
		return Finding{}, err
	}
	fs := []Finding{f}
	return fs[0], ts.loadChildren(ctx, fs)
}

// DeleteFinding deletes a finding; evidence and tags go by cascade.
func (ts *teamStore) DeleteFinding(ctx context.Context, id FindingID) error {
	return ts.deleteByID(ctx, "findings", string(id))
}

// TopFindings reads the campaign's most frequent findings and, in the same statement, counts
// them all: a read, so it takes no transaction (on SQLite, that would be the writer's).
func (ts *teamStore) TopFindings(ctx context.Context, campaign CampaignID, n int) ([]Finding, int, error) {
	rows, err := ts.query(ctx, "SELECT "+findingColumns+`, COUNT(*) OVER () FROM findings
		WHERE team_id = ? AND campaign_id = ? ORDER BY frequency DESC, id LIMIT ?`, ts.team, campaign, n)
	if err != nil {
		return nil, 0, fmt.Errorf("store: top findings of campaign %s: %w", campaign, err)
	}
	defer rows.Close()
	var top []Finding
	total := 0
	for rows.Next() {
		f, err := scanFinding(countedRow{rows, &total})
		if err != nil {
			return nil, 0, fmt.Errorf("store: top findings of campaign %s: %w", campaign, err)
		}
		top = append(top, f)
	}
	if err := firstErr(rows.Err(), rows.Close()); err != nil {
		return nil, 0, fmt.Errorf("store: top findings of campaign %s: %w", campaign, err)
	}
	if err := ts.loadChildren(ctx, top); err != nil {
		return nil, 0, fmt.Errorf("store: top findings of campaign %s: %w", campaign, err)
	}
	return top, total, nil
}

// countedRow scans a row that ends in a window count after the columns its scanner knows.
type countedRow struct {
	r     rowScanner
	total *int
}

// Scan implements rowScanner.
func (c countedRow) Scan(dest ...any) error { return c.r.Scan(append(dest, c.total)...) }

// ListFindings lists the team's findings.
func (ts *teamStore) ListFindings(ctx context.Context, f FindingFilter, p PageRequest) (Page[Finding], error) {
	l := &listSpec{what: "findings", table: "findings", columns: findingColumns,
		sorts:   map[SortKey]string{SortCreatedAt: "created_at", SortUpdatedAt: "updated_at", SortTitle: "title"},
		defSort: SortCreatedAt, defOrder: Desc}
	l.filter("team_id = ?", ts.team)
	if f.CampaignID != "" {
		l.filter("campaign_id = ?", f.CampaignID)
	}
	if f.Type != "" {
		l.filter("type = ?", f.Type)
	}
	if f.Tag != "" {
		l.filter(`EXISTS (SELECT 1 FROM finding_tags t
			WHERE t.team_id = ? AND t.tag = ? AND t.finding_id = findings.id)`, ts.team, f.Tag)
	}
	page, err := listPage(ctx, ts, l, p, scanFinding)
	if err != nil {
		return page, err
	}
	if err := ts.loadChildren(ctx, page.Items); err != nil {
		return Page[Finding]{}, fmt.Errorf("store: list findings: %w", err)
	}
	return page, nil
}

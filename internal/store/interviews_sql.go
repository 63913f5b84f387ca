package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const interviewColumns = `id, campaign_id, status, participant_name, participant_email,
	participant_external_id, participant_metadata, message_count, question_count,
	created_at, updated_at, ended_at, participant_token_hash`

func scanInterview(r rowScanner) (Interview, error) {
	var iv Interview
	var token []byte
	err := r.Scan(&iv.ID, &iv.CampaignID, &iv.Status, &iv.Participant.Name, &iv.Participant.Email,
		&iv.Participant.ExternalID, jsonCol{&iv.Participant.Metadata}, &iv.MessageCount,
		&iv.QuestionCount, timeCol{&iv.CreatedAt}, timeCol{&iv.UpdatedAt}, nullTimeCol{&iv.EndedAt}, &token)
	if len(token) == len(TokenHash{}) {
		h := TokenHash(token)
		iv.ParticipantToken = &h
	}
	return iv, err
}

// tokenArg is a participant token's hash as a column value: NULL for none.
func tokenArg(h *TokenHash) any {
	if h == nil {
		return nil
	}
	return h[:]
}

// CreateInterview starts an interview.
func (ts *teamStore) CreateInterview(ctx context.Context, in NewInterview) (Interview, error) {
	if in.CampaignID == "" {
		return Interview{}, fmt.Errorf("store: create interview: empty campaign id: %w", ErrInvalidInput)
	}
	meta, err := jsonArg(in.Participant.Metadata)
	if err != nil {
		return Interview{}, err
	}
	t := now()
	iv := Interview{ID: InterviewID(newID()), CampaignID: in.CampaignID, Participant: in.Participant,
		Status: InterviewInProgress, CreatedAt: t, UpdatedAt: t, ParticipantToken: in.ParticipantToken}
	err = ts.atomically(ctx, func(tx *teamStore) error {
		_, err := tx.exec(ctx, `INSERT INTO interviews (id, team_id, campaign_id, status, participant_name,
			participant_email, participant_external_id, participant_metadata, created_at, updated_at,
			participant_token_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			iv.ID, tx.team, iv.CampaignID, iv.Status, in.Participant.Name, in.Participant.Email,
			in.Participant.ExternalID, meta, tx.t(t), tx.t(t), tokenArg(in.ParticipantToken))
		if err != nil {
			return err
		}
		d := countDeltas{}
		d.add(tx.team, iv.CampaignID, iv.Status, 1)
		return tx.applyCounts(ctx, d)
	})
	if err != nil {
		return Interview{}, fmt.Errorf("store: create interview: %w", err)
	}
	return iv, nil
}

// GetInterview returns one interview.
func (ts *teamStore) GetInterview(ctx context.Context, id InterviewID) (Interview, error) {
	return getOne(ctx, ts, "get interview", id, scanInterview,
		"SELECT "+interviewColumns+" FROM interviews WHERE team_id = ? AND id = ?", ts.team, id)
}

// ListInterviews lists the team's interviews.
func (ts *teamStore) ListInterviews(ctx context.Context, f InterviewFilter, p PageRequest) (Page[Interview], error) {
	return listPage(ctx, ts, ts.interviewList(ctx, f), p, scanInterview)
}

// interviewList is the list of the team's interviews that f selects. Its total comes from the
// counters, unless f names a participant: then it is a COUNT(*) of that participant's entries
// of the participant index.
func (ts *teamStore) interviewList(ctx context.Context, f InterviewFilter) *listSpec {
	l := &listSpec{what: "interviews", table: "interviews", columns: interviewColumns,
		sorts:   map[SortKey]string{SortCreatedAt: "created_at", SortUpdatedAt: "updated_at"},
		defSort: SortCreatedAt, defOrder: Desc}
	l.filter("team_id = ?", ts.team)
	if f.CampaignID != "" {
		l.filter("campaign_id = ?", f.CampaignID)
	}
	if f.Status != "" {
		l.filter("status = ?", f.Status)
	}
	// Each "<> ''" is the WHERE of its partial index (interviews_participant_*), which the
	// planners use only for a query that states it.
	if f.ParticipantEmail != "" {
		fold := ts.s.d.foldASCII
		l.filter("participant_email <> '' AND "+fmt.Sprintf(fold, "participant_email")+" = "+fmt.Sprintf(fold, "?"), f.ParticipantEmail)
	}
	if f.ExternalID != "" {
		l.filter("participant_external_id <> '' AND participant_external_id = ?", f.ExternalID)
	}
	if !f.byParticipant() {
		l.total = func() (int64, error) { return ts.countInterviews(ctx, f) }
	}
	return l
}

// EndInterview completes or abandons an in_progress interview.
func (ts *teamStore) EndInterview(ctx context.Context, id InterviewID, to InterviewStatus) (Interview, error) {
	if to != InterviewCompleted && to != InterviewAbandoned {
		return Interview{}, fmt.Errorf("store: end interview %s: to %q: %w", id, to, ErrInvalidState)
	}
	var out Interview
	err := ts.atomically(ctx, func(tx *teamStore) error {
		t := tx.t(now())
		ended, err := tx.endInterviews(ctx, `UPDATE interviews SET status = ?, updated_at = ?, ended_at = ?
			WHERE team_id = ? AND id = ? AND status = 'in_progress' RETURNING `+interviewColumns,
			to, t, t, tx.team, id)
		if err != nil {
			return err
		}
		if len(ended) == 0 {
			return tx.explainMiss(ctx, "interviews", string(id))
		}
		out = ended[0]
		return nil
	})
	if err != nil {
		return Interview{}, fmt.Errorf("store: end interview %s: %w", id, err)
	}
	return out, nil
}

// EndCampaignInterviews ends every in_progress interview of a campaign in one statement.
func (ts *teamStore) EndCampaignInterviews(ctx context.Context, campaign CampaignID) ([]Interview, error) {
	if campaign == "" {
		return nil, fmt.Errorf("store: end campaign interviews: empty campaign id: %w", ErrInvalidInput)
	}
	completed := []Interview{}
	err := ts.atomically(ctx, func(tx *teamStore) error {
		// The rows are locked (PostgreSQL) in (created_at, id) order, as DeleteCampaignData's
		// batches lock them, so the two running at once queue instead of deadlocking. The pick
		// is a MATERIALIZED CTE so it runs once: a locking subquery that the planner re-ran per
		// row would skip the rows this statement already changed. A participant answered iff
		// some message is not the interviewer's.
		t := tx.t(now())
		ended, err := tx.endInterviews(ctx, `WITH picked AS MATERIALIZED (SELECT id FROM interviews
				WHERE team_id = ? AND campaign_id = ? AND status = 'in_progress' ORDER BY created_at, id`+tx.s.d.forUpdate+`)
			UPDATE interviews
			SET status = CASE WHEN message_count > question_count THEN 'completed' ELSE 'abandoned' END,
				updated_at = ?, ended_at = ?
			WHERE team_id = ? AND id IN (SELECT id FROM picked) AND status = 'in_progress'
			RETURNING `+interviewColumns, tx.team, campaign, t, t, tx.team)
		if err != nil {
			return err
		}
		for _, iv := range ended {
			if iv.Status == InterviewCompleted {
				completed = append(completed, iv)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: end interviews of campaign %s: %w", campaign, err)
	}
	return completed, nil
}

// endInterviews runs q, an UPDATE ... RETURNING interviewColumns that ends in_progress
// interviews, and counts the moves. Every such q re-checks status = 'in_progress' in its own
// WHERE: that is what keeps the counters exact, since on PostgreSQL a row ended concurrently is
// re-evaluated after the other transaction commits and drops out, so each end is counted once,
// by whoever made it. It must run inside atomically.
func (ts *teamStore) endInterviews(ctx context.Context, q string, args ...any) ([]Interview, error) {
	rows, err := ts.writeQuery(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	ended, err := collect(rows, scanInterview)
	if err != nil {
		return nil, err
	}
	d := countDeltas{}
	for _, iv := range ended {
		d.move(ts.team, iv.CampaignID, InterviewInProgress, iv.Status)
	}
	return ended, ts.applyCounts(ctx, d)
}

// DeleteInterview erases an interview (EraseInterview) for a caller that needs no more.
func (ts *teamStore) DeleteInterview(ctx context.Context, id InterviewID) error {
	_, err := ts.EraseInterview(ctx, id)
	return err
}

// EraseInterview deletes an interview and its events; its messages and evidence go by
// cascade. The RETURNING tells which counters lose it, as the row was at the moment it was
// deleted, and whether an analysis whose findings were stored read it (analysed).
func (ts *teamStore) EraseInterview(ctx context.Context, id InterviewID) (Erasure, error) {
	var out Erasure
	err := ts.atomically(ctx, func(tx *teamStore) error {
		var campaign CampaignID
		err := tx.writeRow(ctx, "SELECT campaign_id FROM interviews WHERE team_id = ? AND id = ?", []any{&campaign}, tx.team, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// Locked first, in the order SyncAnalysisFindings locks them: an analysis syncing its
		// findings meanwhile either commits before (marks the interview analysed, and is
		// redacted below) or sees the interview gone and is made again.
		if err := tx.lockAnalysisFindings(ctx, campaign); err != nil {
			return err
		}
		cited, err := tx.dropSupporter(ctx, id)
		if err != nil {
			return err
		}
		var status InterviewStatus
		var analysed bool
		err = tx.writeRow(ctx, "DELETE FROM interviews WHERE team_id = ? AND id = ? RETURNING campaign_id, status, analysed",
			[]any{&campaign, &status, &analysed}, tx.team, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if out.Redacted, err = tx.eraseFromFindings(ctx, id, campaign, cited, analysed); err != nil {
			return err
		}
		if err := tx.eraseReplays(ctx, string(id), GoneInterview); err != nil {
			return err
		}
		out.Campaign = campaign
		d := countDeltas{}
		d.add(tx.team, campaign, status, -1)
		return tx.applyCounts(ctx, d)
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("store: delete interview %s: %w", id, err)
	}
	ts.forget(ctx)
	return out, nil
}

// eraseFromFindings takes a deleted interview's participant's words out of the campaign's
// findings and their events, once the interview's evidence has gone by cascade; cited are the
// findings that quoted it. Its events carry its data in their payloads, and so do the
// campaign's finding events quoting it (their evidence names the interview). When a stored
// analysis read it (analysed), so do the events of the campaign's analysis findings, whose
// titles and summaries are made of what participants said, this one perhaps among them: they
// are deleted (deliveries and attempts go by cascade) and the analysis findings redacted; it
// says whether the campaign has any, so that they are analysed again. An interview no stored
// analysis read is in none of them, and they stay. The events showing a finding an earlier
// erasure redacted (redacted title, no tags) stay too, unless they quote this interview: they
// hold only the server's words and other participants' quotes, and are how their subscribers
// hear of that redaction, which this erasure does not announce again. Then every finding the
// erasure changed is announced as it is now, so its subscribers hear of the change and the
// new events hold none of those words.
func (ts *teamStore) eraseFromFindings(ctx context.Context, id InterviewID, campaign CampaignID, cited []string, analysed bool) (bool, error) {
	for _, del := range ts.eventsWithWords(id, campaign, analysed) {
		if _, err := ts.exec(ctx, "DELETE FROM events WHERE "+del.where, del.args...); err != nil {
			return false, fmt.Errorf("delete the events holding its words: %w", err)
		}
	}
	if !analysed {
		return false, ts.announceUpdated(ctx, cited)
	}
	redacted, err := ts.redactAnalysis(ctx, campaign)
	if err != nil {
		return false, err
	}
	has, err := ts.hasAnalysisFindings(ctx, campaign)
	if err != nil {
		return false, err
	}
	return has, ts.announceUpdated(ctx, append(cited, redacted...))
}

// eventFilter is a condition on events and its arguments.
type eventFilter struct {
	where string
	args  []any
}

// eventsWithWords select the events that hold the words of interview id, which an erasure
// deletes (see eraseFromFindings), each through an index of what AddEvent recorded when it
// wrote them, never by reading payloads: the interview's own events (events_interview), the
// finding events quoting it (event_quotes: a finding quotes only interviews of its campaign),
// and, when an analysis read it, the campaign's events showing an analysis finding as an
// analysis wrote it (events_analysis_words, which leaves out those showing it redacted).
func (ts *teamStore) eventsWithWords(id InterviewID, campaign CampaignID, analysed bool) []eventFilter {
	filters := []eventFilter{
		{"team_id = ? AND interview_id = ?", []any{ts.team, id}},
		{"id IN (SELECT event_id FROM event_quotes WHERE team_id = ? AND interview_id = ?)", []any{ts.team, id}},
	}
	if analysed {
		// "AND analysis_words" is the WHERE of the partial index, which the planners use only
		// for a query that states it.
		filters = append(filters, eventFilter{"team_id = ? AND campaign_id = ? AND analysis_words", []any{ts.team, campaign}})
	}
	return filters
}

// forget moves an erasure out of SQLite's write-ahead log, where the deleted rows' old pages
// would otherwise stay on disk until the next checkpoint (secure_delete zeroes them in the
// database file). It is best effort: a busy checkpoint leaves it to SQLite's own, and inside a
// caller's transaction it waits for that transaction's erasure to be the caller's business.
// PostgreSQL keeps dead rows until VACUUM, which its operator runs.
func (ts *teamStore) forget(ctx context.Context) {
	if ts.tx != nil || ts.s.d.name != sqliteDialect.name {
		return
	}
	_, _ = ts.s.wr.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
}

// RedactedTitle is the title of an analysis finding whose campaign lost an interview, until
// the campaign is analysed again: its title, summary and tags were made of participants'
// words, and nothing records whose.
const RedactedTitle = "Being analysed again after an interview was erased"

// redactAnalysis replaces the title and summary of the campaign's analysis findings (see
// RedactedTitle) and drops their tags, and returns the ids of those it changed: one an earlier
// erasure of a burst redacted already is left as it is, updated_at included, so it is not
// announced again. An analyzer's tag is a word several participants used, and nothing records
// whose, so it may be the erased participant's as much as a title is; and tags a finding's
// remaining quotes hold would still be the analyzer's reading of every answer, the erased
// ones included. The caller starts the new analysis, which writes them anew.
func (ts *teamStore) redactAnalysis(ctx context.Context, campaign CampaignID) ([]string, error) {
	ids, err := ts.changedIDs(ctx, `UPDATE findings SET title = ?, summary = '', updated_at = ?
		WHERE team_id = ? AND campaign_id = ? AND source = 'analysis' AND (title <> ? OR summary <> ''
			OR EXISTS (SELECT 1 FROM finding_tags t WHERE t.team_id = findings.team_id AND t.finding_id = findings.id))
		RETURNING id`,
		RedactedTitle, ts.t(now()), ts.team, campaign, RedactedTitle)
	if err != nil {
		return nil, fmt.Errorf("redact analysis findings: %w", err)
	}
	if _, err := ts.exec(ctx, `DELETE FROM finding_tags WHERE team_id = ? AND finding_id IN
		(SELECT id FROM findings WHERE team_id = ? AND campaign_id = ? AND source = 'analysis')`,
		ts.team, ts.team, campaign); err != nil {
		return nil, fmt.Errorf("redact analysis findings' tags: %w", err)
	}
	return ids, nil
}

// hasAnalysisFindings says whether the campaign has analysis findings: after an erasure
// redacted them (now or earlier in a burst), an analysis must write them anew.
func (ts *teamStore) hasAnalysisFindings(ctx context.Context, campaign CampaignID) (bool, error) {
	var has bool
	if err := ts.writeRow(ctx, "SELECT EXISTS (SELECT 1 FROM findings WHERE team_id = ? AND campaign_id = ? AND source = 'analysis')",
		[]any{&has}, ts.team, campaign); err != nil {
		return false, fmt.Errorf("look for analysis findings: %w", err)
	}
	return has, nil
}

// NoteRedactedFindings writes note into the summary of the campaign's redacted analysis
// findings, and finding.updated for each. They are locked first, in the order an erasure and
// a sync lock them, so that none of the three waits on another in a cycle.
func (ts *teamStore) NoteRedactedFindings(ctx context.Context, campaign CampaignID, note string) (int64, error) {
	var n int64
	err := ts.atomically(ctx, func(tx *teamStore) error {
		if err := tx.lockAnalysisFindings(ctx, campaign); err != nil {
			return err
		}
		noted, err := tx.changedIDs(ctx, `UPDATE findings SET summary = ?, updated_at = ?
			WHERE team_id = ? AND campaign_id = ? AND source = 'analysis' AND title = ? RETURNING id`,
			note, tx.t(now()), tx.team, campaign, RedactedTitle)
		if err != nil {
			return err
		}
		n = int64(len(noted))
		return tx.announceUpdated(ctx, noted)
	})
	if err != nil {
		return 0, fmt.Errorf("store: note redacted findings of campaign %s: %w", campaign, err)
	}
	return n, nil
}

// dropSupporter takes the interview id out of the frequency of every finding that cites it,
// before its evidence goes by cascade, and returns their ids: a manual finding counts the
// interviews its remaining evidence cites, as on create; an analysis finding counts one
// fewer, since it also counts interviews it does not quote. The findings show the change as
// updated.
func (ts *teamStore) dropSupporter(ctx context.Context, id InterviewID) ([]string, error) {
	ids, err := ts.changedIDs(ctx, `UPDATE findings SET updated_at = ?, frequency = CASE
			WHEN source = 'manual' THEN (SELECT COUNT(DISTINCT e.interview_id) FROM finding_evidence e
				WHERE e.finding_id = findings.id AND e.interview_id <> ?)
			WHEN frequency > 0 THEN frequency - 1 ELSE 0 END
		WHERE team_id = ? AND id IN (SELECT finding_id FROM finding_evidence WHERE team_id = ? AND interview_id = ?)
		RETURNING id`,
		ts.t(now()), id, ts.team, ts.team, id)
	if err != nil {
		return nil, fmt.Errorf("finding frequencies: %w", err)
	}
	return ids, nil
}

// changedIDs runs q, an UPDATE ... RETURNING id, and returns the ids of the rows it changed.
func (ts *teamStore) changedIDs(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := ts.writeQuery(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanID)
}

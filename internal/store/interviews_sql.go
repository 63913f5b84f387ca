package store

import (
	"context"
	"fmt"
)

const interviewColumns = `id, campaign_id, status, participant_name, participant_email,
	participant_external_id, participant_metadata, message_count, question_count,
	created_at, updated_at, ended_at`

func scanInterview(r rowScanner) (Interview, error) {
	var iv Interview
	err := r.Scan(&iv.ID, &iv.CampaignID, &iv.Status, &iv.Participant.Name, &iv.Participant.Email,
		&iv.Participant.ExternalID, jsonCol{&iv.Participant.Metadata}, &iv.MessageCount,
		&iv.QuestionCount, timeCol{&iv.CreatedAt}, timeCol{&iv.UpdatedAt}, nullTimeCol{&iv.EndedAt})
	return iv, err
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
		Status: InterviewInProgress, CreatedAt: t, UpdatedAt: t}
	_, err = ts.exec(ctx, `INSERT INTO interviews (id, team_id, campaign_id, status, participant_name,
		participant_email, participant_external_id, participant_metadata, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		iv.ID, ts.team, iv.CampaignID, iv.Status, in.Participant.Name, in.Participant.Email,
		in.Participant.ExternalID, meta, ts.t(t), ts.t(t))
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
	return listPage(ctx, ts, l, p, scanInterview)
}

// EndInterview completes or abandons an in_progress interview.
func (ts *teamStore) EndInterview(ctx context.Context, id InterviewID, to InterviewStatus) (Interview, error) {
	if to != InterviewCompleted && to != InterviewAbandoned {
		return Interview{}, fmt.Errorf("store: end interview %s: to %q: %w", id, to, ErrInvalidState)
	}
	var out Interview
	err := ts.atomically(ctx, func(tx *teamStore) error {
		t := now()
		res, err := tx.exec(ctx, `UPDATE interviews SET status = ?, updated_at = ?, ended_at = ?
			WHERE team_id = ? AND id = ? AND status = 'in_progress'`, to, tx.t(t), tx.t(t), tx.team, id)
		if err != nil {
			return err
		}
		if ok, err := affected(res); err != nil || !ok {
			return firstErr(err, tx.explainMiss(ctx, "interviews", string(id)))
		}
		out, err = tx.GetInterview(ctx, id)
		return err
	})
	if err != nil {
		return Interview{}, fmt.Errorf("store: end interview %s: %w", id, err)
	}
	return out, nil
}

// DeleteInterview deletes an interview; its messages and evidence go by cascade.
func (ts *teamStore) DeleteInterview(ctx context.Context, id InterviewID) error {
	return ts.deleteByID(ctx, "interviews", string(id))
}

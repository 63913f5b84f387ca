package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const messageColumns = "id, interview_id, role, content, sequence, created_at"

func scanMessage(r rowScanner) (Message, error) {
	var m Message
	err := r.Scan(&m.ID, &m.InterviewID, &m.Role, &m.Content, &m.Sequence, timeCol{&m.CreatedAt})
	return m, err
}

// AppendMessage adds a message at the end of an interview. The sequence comes from bumping the
// interview's message_count in the same transaction: on PostgreSQL the UPDATE row-locks the
// interview so concurrent appends queue on it; on SQLite the single writer serialises them.
// Either way sequences are 1..N with no gap and no duplicate.
func (ts *teamStore) AppendMessage(ctx context.Context, interview InterviewID, in NewMessage) (Message, error) {
	if in.Role != RoleInterviewer && in.Role != RoleParticipant {
		return Message{}, fmt.Errorf("store: append message: role %q: %w", in.Role, ErrInvalidInput)
	}
	m := Message{ID: MessageID(newID()), InterviewID: interview, Role: in.Role, Content: in.Content, CreatedAt: now()}
	questions := 0
	if in.Role == RoleInterviewer {
		questions = 1
	}
	err := ts.atomically(ctx, func(tx *teamStore) error {
		err := tx.writeRow(ctx, `UPDATE interviews
			SET message_count = message_count + 1, question_count = question_count + ?, updated_at = ?
			WHERE team_id = ? AND id = ? AND status = 'in_progress' RETURNING message_count`,
			[]any{&m.Sequence}, questions, tx.t(m.CreatedAt), tx.team, interview)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.explainMiss(ctx, "interviews", string(interview))
		}
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO messages (id, team_id, interview_id, role, content, sequence, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, m.ID, tx.team, interview, m.Role, m.Content, m.Sequence, tx.t(m.CreatedAt))
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("store: append message to interview %s: %w", interview, err)
	}
	return m, nil
}

// ListMessages lists an interview's messages by sequence.
func (ts *teamStore) ListMessages(ctx context.Context, interview InterviewID, p PageRequest) (Page[Message], error) {
	// An empty page must still tell "no messages" from "not your interview".
	if _, err := ts.GetInterview(ctx, interview); err != nil {
		return Page[Message]{}, fmt.Errorf("store: list messages: %w", err)
	}
	l := &listSpec{what: "messages", table: "messages", columns: messageColumns,
		sorts:  map[SortKey]string{SortSequence: "sequence"},
		unique: SortSequence, defSort: SortSequence, defOrder: Asc}
	l.filter("team_id = ?", ts.team)
	l.filter("interview_id = ?", interview)
	return listPage(ctx, ts, l, p, scanMessage)
}

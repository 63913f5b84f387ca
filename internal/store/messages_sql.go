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
// Either way sequences are 1..N with no gap and no duplicate. An expected Sequence is one more
// condition of the same UPDATE, so it is checked against the count the append would bump (on
// PostgreSQL re-read after any append queued before it commits), never a stale one.
func (ts *teamStore) AppendMessage(ctx context.Context, interview InterviewID, in NewMessage) (Message, error) {
	if in.Role != RoleInterviewer && in.Role != RoleParticipant {
		return Message{}, fmt.Errorf("store: append message: role %q: %w", in.Role, ErrInvalidInput)
	}
	if in.Sequence < 0 {
		return Message{}, fmt.Errorf("store: append message: sequence %d: %w", in.Sequence, ErrInvalidInput)
	}
	m := Message{ID: MessageID(newID()), InterviewID: interview, Role: in.Role, Content: in.Content, CreatedAt: now()}
	questions := 0
	if in.Role == RoleInterviewer {
		questions = 1
	}
	q := `UPDATE interviews SET message_count = message_count + 1, question_count = question_count + ?, updated_at = ?
		WHERE team_id = ? AND id = ? AND status = 'in_progress'`
	args := []any{questions, ts.t(m.CreatedAt), ts.team, interview}
	if in.Sequence != 0 {
		q += " AND message_count = ?"
		args = append(args, in.Sequence-1)
	}
	err := ts.atomically(ctx, func(tx *teamStore) error {
		err := tx.writeRow(ctx, q+" RETURNING message_count", []any{&m.Sequence}, args...)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.explainAppendMiss(ctx, interview, in.Sequence)
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

// explainAppendMiss tells why an append changed no interview: not the team's (ErrNotFound),
// not in progress (ErrInvalidState), or, in progress, its count was not the one the expected
// sequence needs (ErrConflict).
func (ts *teamStore) explainAppendMiss(ctx context.Context, interview InterviewID, want int64) error {
	var status InterviewStatus
	var count int64
	err := ts.writeRow(ctx, "SELECT status, message_count FROM interviews WHERE team_id = ? AND id = ?",
		[]any{&status, &count}, ts.team, interview)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case status != InterviewInProgress:
		return fmt.Errorf("interview is %s: %w", status, ErrInvalidState)
	}
	return fmt.Errorf("expected sequence %d, next is %d: %w", want, count+1, ErrConflict)
}

// ListMessages lists an interview's messages by sequence.
func (ts *teamStore) ListMessages(ctx context.Context, interview InterviewID, p PageRequest) (Page[Message], error) {
	// An empty page must still tell "no messages" from "not your interview", and the interview
	// carries the total: message_count counts its messages exactly, bumped with each insert.
	iv, err := ts.GetInterview(ctx, interview)
	if err != nil {
		return Page[Message]{}, fmt.Errorf("store: list messages: %w", err)
	}
	l := &listSpec{what: "messages", table: "messages", columns: messageColumns,
		sorts:  map[SortKey]string{SortSequence: "sequence"},
		unique: SortSequence, defSort: SortSequence, defOrder: Asc}
	l.filter("team_id = ?", ts.team)
	l.filter("interview_id = ?", interview)
	l.total = func() (int64, error) { return int64(iv.MessageCount), nil }
	return listPage(ctx, ts, l, p, scanMessage)
}

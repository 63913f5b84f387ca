package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// sqlStore implements Store over database/sql for both backends. On SQLite wr is the single
// writer connection and rd a read-only pool; on PostgreSQL both are the same pool.
type sqlStore struct {
	d    dialect
	wr   *sql.DB
	rd   *sql.DB
	opts options
	dsn  string // PostgreSQL only, for Backing
}

// Team returns the team-scoped handle.
func (s *sqlStore) Team(id TeamID) TeamStore {
	return &teamStore{s: s, team: id}
}

// Backend names the backend.
func (s *sqlStore) Backend() string { return s.d.name }

// Ping checks that the database answers, for readiness probes.
func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.rd.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the pools.
func (s *sqlStore) Close() error {
	err := s.wr.Close()
	if s.rd != s.wr {
		err = errors.Join(err, s.rd.Close())
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// now is the store's clock: UTC, truncated to microseconds because that is what both backends
// keep, so a time read back equals the time written and cursors compare exactly.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// teamStore implements TeamStore. Inside InTx, tx is set and carries every statement.
type teamStore struct {
	s    *sqlStore
	team TeamID
	tx   *sql.Tx
}

// Team returns the team of the handle.
func (ts *teamStore) Team() TeamID { return ts.team }

func (ts *teamStore) reader() querier {
	if ts.tx != nil {
		return ts.tx
	}
	return ts.s.rd
}

func (ts *teamStore) writer() querier {
	if ts.tx != nil {
		return ts.tx
	}
	return ts.s.wr
}

// checkTeam refuses the empty team, so no statement can run unscoped.
func (ts *teamStore) checkTeam() error {
	if ts.team == "" {
		return fmt.Errorf("store: empty team id: %w", ErrInvalidInput)
	}
	return nil
}

// exec runs a write statement.
func (ts *teamStore) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := ts.checkTeam(); err != nil {
		return nil, err
	}
	return ts.writer().ExecContext(ctx, ts.s.d.rebind(q), args...)
}

// query runs a read statement.
func (ts *teamStore) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := ts.checkTeam(); err != nil {
		return nil, err
	}
	return ts.reader().QueryContext(ctx, ts.s.d.rebind(q), args...)
}

// queryRow runs a read statement that returns one row. Writes with RETURNING use writeRow.
func (ts *teamStore) queryRow(ctx context.Context, q string, dest []any, args ...any) error {
	if err := ts.checkTeam(); err != nil {
		return err
	}
	return ts.reader().QueryRowContext(ctx, ts.s.d.rebind(q), args...).Scan(dest...)
}

// writeQuery runs a write statement with RETURNING that may return many rows.
func (ts *teamStore) writeQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := ts.checkTeam(); err != nil {
		return nil, err
	}
	return ts.writer().QueryContext(ctx, ts.s.d.rebind(q), args...)
}

// writeRow runs a write statement with RETURNING, or a read that must see the transaction's own
// locks (SELECT ... FOR UPDATE).
func (ts *teamStore) writeRow(ctx context.Context, q string, dest []any, args ...any) error {
	if err := ts.checkTeam(); err != nil {
		return err
	}
	return ts.writer().QueryRowContext(ctx, ts.s.d.rebind(q), args...).Scan(dest...)
}

// insertChunk is how many rows one statement of insertRows writes: well within both
// backends' bound on a statement's parameters, whatever the row.
const insertChunk = 500

// insertRows inserts rows into into ("table (a, b)"), each row the values of those columns, in
// one multi-row INSERT per insertChunk rows.
func (ts *teamStore) insertRows(ctx context.Context, into string, rows [][]any) error {
	for chunk := range slices.Chunk(rows, insertChunk) {
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(chunk[0])), ", ") + ")"
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := ts.exec(ctx, "INSERT INTO "+into+" VALUES "+row+strings.Repeat(", "+row, len(chunk)-1), args...); err != nil {
			return err
		}
	}
	return nil
}

// t encodes a time for the backend.
func (ts *teamStore) t(v time.Time) any { return ts.s.d.timeArg(v) }

// notFound wraps ErrNotFound, turning sql.ErrNoRows into it.
func notFound(what string, id any, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s %v: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("store: %s %v: %w", what, id, err)
}

// affected reports whether a statement changed a row.
func affected(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}

// explainMiss tells why a conditional update changed nothing: the row is missing (or another
// team's), or it exists in the wrong state.
func (ts *teamStore) explainMiss(ctx context.Context, table, id string) error {
	var one int
	err := ts.writeRow(ctx, "SELECT 1 FROM "+table+" WHERE team_id = ? AND id = ?",
		[]any{&one}, ts.team, id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	}
	return ErrInvalidState
}

// getOne reads one row with scan; no row is ErrNotFound.
func getOne[T any](ctx context.Context, ts *teamStore, what string, id any,
	scan func(rowScanner) (T, error), q string, args ...any) (T, error) {
	var zero T
	if err := ts.checkTeam(); err != nil {
		return zero, err
	}
	v, err := scan(ts.reader().QueryRowContext(ctx, ts.s.d.rebind(q), args...))
	if err != nil {
		return zero, notFound(what, id, err)
	}
	return v, nil
}

// deleteByID deletes one of the team's rows, or returns ErrNotFound.
func (ts *teamStore) deleteByID(ctx context.Context, table, id string) error {
	res, err := ts.exec(ctx, "DELETE FROM "+table+" WHERE team_id = ? AND id = ?", ts.team, id)
	if err != nil {
		return fmt.Errorf("store: delete %s %s: %w", table, id, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("store: delete %s %s: %w", table, id, firstErr(err, ErrNotFound))
	}
	return nil
}

// firstErr returns a when it is set, else b.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

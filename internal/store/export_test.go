package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MigrateTo applies the migrations of the DSN's backend up to version and no further, so a test
// can write rows as an older release did and then check what a later migration makes of them.
func MigrateTo(ctx context.Context, dsn string, version int64) (err error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return err
	}
	d, driver, source := sqliteDialect, "sqlite", sqliteDSN(t.addr, false)
	if t.kind == kindPostgres {
		d, driver, source = postgresDialect, "pgx", t.addr // open.go's pgx/stdlib import registers "pgx"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	p, err := migrator(db, d)
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	return nil
}

// ExplainInterviews returns the query plans of one page of ListInterviews(f) of team, and of
// its total, one line a step.
func ExplainInterviews(ctx context.Context, s Store, team TeamID, f InterviewFilter) (string, error) {
	ss, ok := s.(*sqlStore)
	if !ok {
		return "", fmt.Errorf("explain: %T is not the SQL store", s)
	}
	ts := &teamStore{s: ss, team: team}
	l := ts.interviewList(ctx, f)
	p, err := l.normalize(PageRequest{})
	if err != nil {
		return "", err
	}
	page, pageArgs := l.pageSQL(ss.d, p)
	count, countArgs := l.countSQL()
	return explain(ctx, ss, []explained{{page, pageArgs}, {count, countArgs}})
}

// ExplainErasure returns the query plans of the deletions of events by which erasing interview
// iv of campaign (analysed: an analysis read it) takes its words out of team's events, one line
// a step, each statement's plan after a line "-- " and its WHERE.
func ExplainErasure(ctx context.Context, s Store, team TeamID, iv InterviewID, campaign CampaignID, analysed bool) (string, error) {
	ss, ok := s.(*sqlStore)
	if !ok {
		return "", fmt.Errorf("explain: %T is not the SQL store", s)
	}
	ts := &teamStore{s: ss, team: team}
	var out string
	for _, del := range ts.eventsWithWords(iv, campaign, analysed) {
		plan, err := explain(ctx, ss, []explained{{"DELETE FROM events WHERE " + del.where, del.args}})
		if err != nil {
			return "", err
		}
		out += "-- " + del.where + "\n" + plan
	}
	return out, nil
}

// explained is a statement to explain and its arguments.
type explained struct {
	sql  string
	args []any
}

// explain returns the plans of qs, one line a step, in a transaction it rolls back. PostgreSQL
// is told to avoid sequential scans, which it prefers on a table as small as a test's whatever
// the indexes.
func explain(ctx context.Context, ss *sqlStore, qs []explained) (string, error) {
	tx, err := ss.rd.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback() }()
	explain := "EXPLAIN QUERY PLAN "
	if ss.d.numbered {
		explain = "EXPLAIN "
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return "", err
		}
	}
	var out string
	for _, q := range qs {
		rows, err := tx.QueryContext(ctx, ss.d.rebind(explain+q.sql), q.args...)
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			cells := make([]any, len(cols))
			for i := range cells {
				cells[i] = new(any)
			}
			if err := rows.Scan(cells...); err != nil {
				return "", errors.Join(err, rows.Close())
			}
			out += fmt.Sprintln(*cells[len(cells)-1].(*any)) // SQLite's detail, PostgreSQL's only column
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return "", err
		}
	}
	return out, nil
}

package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// listSpec describes one keyset-paginated list: the table, its filters (team first), and the
// sort keys it allows. Every list is served by an index on (team_id, [filter,] sort column, id),
// so a page costs the same at any depth.
type listSpec struct {
	what     string // for error messages
	table    string
	columns  string
	where    []string
	args     []any
	sorts    map[SortKey]string // sort key -> column
	unique   SortKey            // a sort whose column is unique under the filters: no tie-breaker
	defSort  SortKey
	defOrder Order
	// total, when set, supplies total_count from data the store keeps exact (counters) instead
	// of a COUNT(*) over every match, whose cost grows with the matches.
	total func() (int64, error)
}

// filter adds a condition and its arguments.
func (l *listSpec) filter(cond string, args ...any) {
	l.where = append(l.where, cond)
	l.args = append(l.args, args...)
}

// normalize fills defaults and validates a request against the spec.
func (l *listSpec) normalize(p PageRequest) (PageRequest, error) {
	if p.Sort == "" {
		p.Sort = l.defSort
	}
	if p.Order == "" {
		p.Order = l.defOrder
	}
	if p.Limit == 0 {
		p.Limit = DefaultPageLimit
	}
	if _, ok := l.sorts[p.Sort]; !ok {
		return p, fmt.Errorf("store: list %s: unknown sort %q: %w", l.what, p.Sort, ErrInvalidInput)
	}
	if p.Order != Asc && p.Order != Desc {
		return p, fmt.Errorf("store: list %s: unknown order %q: %w", l.what, p.Order, ErrInvalidInput)
	}
	if p.Limit < 1 || p.Limit > MaxPageLimit {
		return p, fmt.Errorf("store: list %s: limit %d out of 1..%d: %w", l.what, p.Limit, MaxPageLimit, ErrInvalidInput)
	}
	return p, nil
}

// pageSQL builds the page query. It fetches one row more than the limit to learn has_more.
func (l *listSpec) pageSQL(d dialect, p PageRequest) (string, []any) {
	col := l.sorts[p.Sort]
	where, args := append([]string(nil), l.where...), append([]any(nil), l.args...)
	cmp, dir := ">", "ASC"
	if p.Order == Desc {
		cmp, dir = "<", "DESC"
	}
	order := col + " " + dir + ", id " + dir
	if p.Sort == l.unique {
		order = col + " " + dir
	}
	if p.After != nil {
		if p.Sort == l.unique {
			where = append(where, col+" "+cmp+" ?")
			args = append(args, positionArg(d, p.Sort, *p.After))
		} else {
			// A row-value comparison is one index range in both SQLite and PostgreSQL.
			where = append(where, "("+col+", id) "+cmp+" (?, ?)")
			args = append(args, positionArg(d, p.Sort, *p.After), p.After.ID)
		}
	}
	q := "SELECT " + l.columns + " FROM " + l.table + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + order + " LIMIT " + strconv.Itoa(p.Limit+1)
	return q, args
}

// countSQL builds the total_count query.
func (l *listSpec) countSQL() (string, []any) {
	return "SELECT COUNT(*) FROM " + l.table + " WHERE " + strings.Join(l.where, " AND "), l.args
}

// positionArg encodes the sort value of a position.
func positionArg(d dialect, k SortKey, p Position) any {
	switch k {
	case SortTitle:
		return p.Title
	case SortSequence:
		return p.Sequence
	default:
		return d.timeArg(p.Time)
	}
}

// positioned is a row that knows its keyset position.
type positioned interface {
	Position(SortKey) Position
}

// listPage runs a list: the page query, then the total unless skipped.
func listPage[T positioned](ctx context.Context, ts *teamStore, l *listSpec, p PageRequest,
	scan func(rowScanner) (T, error)) (Page[T], error) {
	p, err := l.normalize(p)
	if err != nil {
		return Page[T]{}, err
	}
	q, args := l.pageSQL(ts.s.d, p)
	rows, err := ts.query(ctx, q, args...)
	if err != nil {
		return Page[T]{}, fmt.Errorf("store: list %s: %w", l.what, err)
	}
	items, err := collect(rows, scan)
	if err != nil {
		return Page[T]{}, fmt.Errorf("store: list %s: %w", l.what, err)
	}
	page := Page[T]{Items: items, TotalCount: -1}
	if len(items) > p.Limit {
		page.Items, page.HasMore = items[:p.Limit], true
		next := page.Items[p.Limit-1].Position(p.Sort)
		page.Next = &next
	}
	if !p.SkipTotal {
		if page.TotalCount, err = l.count(ctx, ts); err != nil {
			return Page[T]{}, fmt.Errorf("store: count %s: %w", l.what, err)
		}
	}
	return page, nil
}

// count returns the list's total: from l.total when set, else by COUNT(*).
func (l *listSpec) count(ctx context.Context, ts *teamStore) (int64, error) {
	if l.total != nil {
		return l.total()
	}
	var n int64
	cq, cargs := l.countSQL()
	err := ts.queryRow(ctx, cq, []any{&n}, cargs...)
	return n, err
}

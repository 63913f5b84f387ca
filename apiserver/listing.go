package apiserver

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"qual.cx/operator/apiserver/cursor"
	"qual.cx/operator/apiserver/envelope"
)

// listParams are a list request's pagination parameters, checked.
type listParams struct {
	limit   int
	sortBy  string
	desc    bool
	binding string
	after   *cursor.Position
}

// parseList reads limit, sort_by, order and cursor; sorts[0] is the default sort, and the
// default order is descending. The cursor must come from the same endpoint, sort, order and
// filters.
func (s *Server) parseList(r *http.Request, sorts []string, filters map[string]string) (listParams, *envelope.Error) {
	return s.parseListFrom(r, listParams{limit: 20, sortBy: sorts[0], desc: true}, sorts, filters)
}

// parseListFrom is parseList with other defaults (messages list oldest first).
func (s *Server) parseListFrom(r *http.Request, lp listParams, sorts []string, filters map[string]string) (listParams, *envelope.Error) {
	q := r.URL.Query()
	var bad []envelope.FieldError
	// An empty value reads as absent, as most clients send an unset one ("cursor=" on the
	// first page); a value that is there must be digits only.
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 || strings.Trim(v, "0123456789") != "" {
			bad = append(bad, envelope.FieldError{Field: "limit", Message: "must be an integer from 1 to 100"})
		}
		lp.limit = n
	}
	if v := q.Get("sort_by"); v != "" {
		if !slices.Contains(sorts, v) {
			bad = append(bad, envelope.FieldError{Field: "sort_by", Message: "must be one of " + strings.Join(sorts, ", ")})
		}
		lp.sortBy = v
	}
	switch q.Get("order") {
	case "":
	case "desc":
		lp.desc = true
	case "asc":
		lp.desc = false
	default:
		bad = append(bad, envelope.FieldError{Field: "order", Message: "must be asc or desc"})
	}
	if len(bad) > 0 {
		return lp, envelope.Validation(bad...)
	}
	order := "desc"
	if !lp.desc {
		order = "asc"
	}
	// A cursor is bound to its query and to who asked it: another caller, who may see other
	// teams, gets INVALID_CURSOR rather than a position in a list it never read.
	lp.binding = cursor.Binding(endpoint(r)+" "+strconv.Quote(callerOf(r.Context())), order, filters)
	if token := q.Get("cursor"); token != "" {
		pos, err := s.cursors.Decode(token, lp.sortBy, lp.binding)
		if err != nil {
			return lp, envelope.New(envelope.CodeInvalidCursor, "The cursor is invalid or belongs to another query")
		}
		lp.after = &pos
	}
	return lp, nil
}

// listFilters reads a list's filters from q: each of names, "" when it is not given. One given
// with nothing in it ("?participant_email=", or white space only) is refused, naming it,
// rather than read as absent, as the pagination parameters are: a list filtered by nothing
// answers for everything, and a script that erases what a lookup lists, run with a variable
// left unset, would erase every participant's interviews.
func listFilters(q url.Values, names ...string) (map[string]string, *envelope.Error) {
	f := make(map[string]string, len(names))
	var bad []envelope.FieldError
	for _, name := range names {
		v := q.Get(name)
		if q.Has(name) && strings.TrimSpace(v) == "" {
			bad = append(bad, envelope.FieldError{Field: name, Message: "must not be empty: leave it out to list without this filter"})
		}
		f[name] = v
	}
	if len(bad) > 0 {
		return nil, envelope.Validation(bad...)
	}
	return f, nil
}

// endpoint names the route that matched r, the same under every base path: "GET /campaigns"
// for both "GET /api/v1/campaigns" and "GET /v1/campaigns", so a cursor works under either
// but never on another list endpoint.
func endpoint(r *http.Request) string {
	method, path := splitPattern(r.Pattern)
	if rest := apiPath(path); rest != path {
		return method + " " + rest
	}
	return r.Pattern
}

// apiPath is path with its base path (/api/v1 or /v1) cut off, so that both bases name one
// route; a path under neither is returned as it is.
func apiPath(path string) string {
	for _, base := range basePaths {
		if rest, ok := strings.CutPrefix(path, base); ok && strings.HasPrefix(rest, "/") {
			return rest
		}
	}
	return path
}

// pagination builds the page block: a cursor after the last item when there is more.
func (s *Server) pagination(lp listParams, hasMore bool, total int, lastValue, lastID string) envelope.Pagination {
	p := envelope.Pagination{HasMore: hasMore, TotalCount: total}
	if hasMore {
		next := s.cursors.Encode(cursor.Position{SortBy: lp.sortBy, Value: lastValue, ID: lastID}, lp.binding)
		p.NextCursor = &next
	}
	return p
}

// row is one item of a small in-memory list (teams, keys), with its sort value and id.
type row[T any] struct {
	value, id string
	item      T
}

// pageRows pages a small list by keyset: it sorts, seeks past the cursor and cuts a page.
// Teams and keys are few per caller, so sorting per request is cheap and keeps one code path.
func pageRows[T any](rows []row[T], lp listParams) (items []T, hasMore bool, last row[T]) {
	slices.SortFunc(rows, func(a, b row[T]) int {
		c := cmp.Or(strings.Compare(a.value, b.value), strings.Compare(a.id, b.id))
		if lp.desc {
			return -c
		}
		return c
	})
	start := 0
	if a := lp.after; a != nil {
		start = len(rows)
		for i, r := range rows {
			c := cmp.Or(strings.Compare(r.value, a.Value), strings.Compare(r.id, a.ID))
			if (lp.desc && c < 0) || (!lp.desc && c > 0) {
				start = i
				break
			}
		}
	}
	end := min(start+lp.limit, len(rows))
	for _, r := range rows[start:end] {
		items = append(items, r.item)
	}
	if end > start {
		last = rows[end-1]
	}
	return items, end < len(rows), last
}

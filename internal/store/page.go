package store

import "time"

// Page limits, as in the API contract.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// SortKey names the column a list is ordered by; id always breaks ties.
type SortKey string

// Sort keys. Each list accepts a subset (see its List method).
const (
	SortCreatedAt SortKey = "created_at"
	SortUpdatedAt SortKey = "updated_at"
	SortTitle     SortKey = "title"
	SortSequence  SortKey = "sequence"
)

// Order is the direction of a list.
type Order string

// Orders.
const (
	Asc  Order = "asc"
	Desc Order = "desc"
)

// Position is a place in a sorted list: the sort value of a row plus its id. Only the field that
// matches the page's SortKey is used. The HTTP layer signs and encodes it into a cursor.
type Position struct {
	Time     time.Time // created_at or updated_at
	Title    string    // title
	Sequence int64     // sequence
	ID       string    // tie-breaker
}

// PageRequest asks for one page of a list.
type PageRequest struct {
	Sort  SortKey // zero: the list's default
	Order Order   // zero: the list's default
	Limit int     // 1..MaxPageLimit; zero means DefaultPageLimit
	// After is the position of the last row of the previous page; nil starts at the beginning.
	After *Position
	// SkipTotal leaves Page.TotalCount at -1. Where a list counts by COUNT(*) (findings,
	// deliveries), counting visits every match, so a caller that already knows the total (e.g.
	// from page 1) can avoid it; interviews and messages read their totals from counters.
	SkipTotal bool
}

// Page is one page of a list.
type Page[T any] struct {
	Items   []T
	HasMore bool
	// TotalCount counts every row matching the filters, across all pages (-1 when skipped).
	TotalCount int64
	// Next is the position to pass as After for the next page; nil when HasMore is false.
	Next *Position
}

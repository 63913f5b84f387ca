package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"qual.cx/operator/internal/store"
)

// lister fetches one page.
type lister[T any] func(store.PageRequest) (store.Page[T], error)

// positioned is a listed row that knows its keyset position.
type positioned interface {
	Position(store.SortKey) store.Position
}

// walk reads every page of a list, calling between (if set) after each page.
func walk[T positioned](t *testing.T, list lister[T],
	req store.PageRequest, between func()) []T {
	t.Helper()
	var all []T
	for pages := 0; ; pages++ {
		page := must(list(req))(t)
		all = append(all, page.Items...)
		if !page.HasMore {
			return all
		}
		if pages > 1000 || page.Next == nil {
			t.Fatalf("runaway pagination: %+v", page)
		}
		req.After = page.Next
		if between != nil {
			between()
		}
	}
}

// comparePos orders positions by the sort key, then id.
func comparePos(k store.SortKey, a, b store.Position) int {
	var c int
	switch k {
	case store.SortTitle:
		c = strings.Compare(a.Title, b.Title)
	case store.SortSequence:
		c = int(a.Sequence - b.Sequence)
	default:
		c = a.Time.Compare(b.Time)
	}
	if c == 0 {
		c = strings.Compare(a.ID, b.ID)
	}
	return c
}

// checkOrder walks a list in both orders with small pages and compares with a sort in Go.
func checkOrder[T positioned](t *testing.T, list lister[T], k store.SortKey, want []T) {
	t.Helper()
	for _, o := range []store.Order{store.Asc, store.Desc} {
		t.Run(fmt.Sprintf("%s_%s", k, o), func(t *testing.T) {
			exp := slices.Clone(want)
			slices.SortFunc(exp, func(a, b T) int {
				c := comparePos(k, a.Position(k), b.Position(k))
				if o == store.Desc {
					return -c
				}
				return c
			})
			got := walk(t, list, store.PageRequest{Sort: k, Order: o, Limit: 4}, nil)
			same(t, ids(got, k), ids(exp, k))
		})
	}
}

// ids lists the positions' ids, for readable failures.
func ids[T positioned](items []T, k store.SortKey) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Position(k).ID
	}
	return out
}

func testPaginationSorts(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	for i, title := range []string{"beta", "alpha", "gamma", "alpha", "beta", "Zulu", "delta", "alpha", "eps", "beta", "omega"} {
		fd := finding(t, f.a, f.campA, title, store.FindingTheme)
		if i%3 == 0 { // reorder updated_at against created_at
			s := "summary"
			updated(f.a.UpdateFinding(f.ctx, fd.ID, store.FindingPatch{Summary: &s}))(t)
		}
	}
	ivs := make([]store.Interview, 0, 10)
	for range 10 {
		ivs = append(ivs, interview(t, f.a, f.campA))
	}
	for i := 0; i < len(ivs); i += 3 {
		must(f.a.EndInterview(f.ctx, ivs[i].ID, store.InterviewCompleted))(t)
	}
	for i := range 9 {
		say(t, f.a, ivs[1].ID, store.RoleParticipant, fmt.Sprint(i))
	}
	ev := must(f.a.AddEvent(f.ctx, store.NewEvent{Type: "webhook.test", Payload: []byte(`{}`)}))(t)
	for range 7 {
		must(f.a.CreateDelivery(f.ctx, store.NewDelivery{WebhookID: "wh", EventID: ev.ID}))(t)
	}

	all := store.PageRequest{Limit: store.MaxPageLimit}
	listF := func(p store.PageRequest) (store.Page[store.Finding], error) {
		return f.a.ListFindings(f.ctx, store.FindingFilter{}, p)
	}
	listI := func(p store.PageRequest) (store.Page[store.Interview], error) {
		return f.a.ListInterviews(f.ctx, store.InterviewFilter{}, p)
	}
	listM := func(p store.PageRequest) (store.Page[store.Message], error) {
		return f.a.ListMessages(f.ctx, ivs[1].ID, p)
	}
	listD := func(p store.PageRequest) (store.Page[store.Delivery], error) {
		return f.a.ListDeliveries(f.ctx, "wh", p)
	}
	for _, k := range []store.SortKey{store.SortCreatedAt, store.SortUpdatedAt, store.SortTitle} {
		checkOrder(t, listF, k, must(listF(all))(t).Items)
	}
	for _, k := range []store.SortKey{store.SortCreatedAt, store.SortUpdatedAt} {
		checkOrder(t, listI, k, must(listI(all))(t).Items)
	}
	checkOrder(t, listM, store.SortSequence, must(listM(all))(t).Items)
	checkOrder(t, listD, store.SortCreatedAt, must(listD(all))(t).Items)
}

// testPaginationInserts: rows inserted between pages cause neither duplicates nor gaps.
func testPaginationInserts(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	for range 10 {
		interview(t, f.a, f.campA)
	}
	list := func(p store.PageRequest) (store.Page[store.Interview], error) {
		return f.a.ListInterviews(f.ctx, store.InterviewFilter{}, p)
	}
	insert := func() { interview(t, f.a, f.campA); interview(t, f.a, f.campA) }
	before := must(list(store.PageRequest{Order: store.Desc, Limit: store.MaxPageLimit}))(t).Items

	// Descending: new rows sort before the cursor, so the walk sees exactly the original rows.
	got := walk(t, list, store.PageRequest{Order: store.Desc, Limit: 3}, insert)
	same(t, ids(got, store.SortCreatedAt), ids(before, store.SortCreatedAt))

	// Ascending: new rows sort after the cursor, so the walk sees every row, each once.
	got = walk(t, list, store.PageRequest{Order: store.Asc, Limit: 3}, insert)
	final := must(list(store.PageRequest{Order: store.Asc, Limit: store.MaxPageLimit}))(t).Items
	same(t, ids(got, store.SortCreatedAt), ids(final, store.SortCreatedAt))
}

func testPaginationFilters(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	for i := range 8 {
		iv := interview(t, f.a, f.campA)
		if i < 3 {
			must(f.a.EndInterview(f.ctx, iv.ID, store.InterviewCompleted))(t)
		}
	}
	for range 4 {
		interview(t, f.a, f.campB)
	}
	countI := func(flt store.InterviewFilter) int64 {
		page := must(f.a.ListInterviews(f.ctx, flt, store.PageRequest{Limit: 2}))(t)
		got := walk(t, func(p store.PageRequest) (store.Page[store.Interview], error) {
			return f.a.ListInterviews(f.ctx, flt, p)
		}, store.PageRequest{Limit: 2}, nil)
		if int64(len(got)) != page.TotalCount {
			t.Fatalf("filter %+v: walked %d rows, total_count %d", flt, len(got), page.TotalCount)
		}
		return page.TotalCount
	}
	same(t, []int64{countI(store.InterviewFilter{}), countI(store.InterviewFilter{CampaignID: f.campA}),
		countI(store.InterviewFilter{CampaignID: f.campA, Status: store.InterviewCompleted}),
		countI(store.InterviewFilter{Status: store.InterviewInProgress})}, []int64{12, 8, 3, 9})

	finding(t, f.a, f.campA, "a", store.FindingTheme, "ux", "speed")
	finding(t, f.a, f.campA, "b", store.FindingPainPoint, "ux")
	finding(t, f.a, f.campA, "c", store.FindingPainPoint, "price")
	finding(t, f.a, f.campB, "d", store.FindingPainPoint, "ux")
	countF := func(flt store.FindingFilter) int64 {
		page := must(f.a.ListFindings(f.ctx, flt, store.PageRequest{Limit: 1}))(t)
		got := walk(t, func(p store.PageRequest) (store.Page[store.Finding], error) {
			return f.a.ListFindings(f.ctx, flt, p)
		}, store.PageRequest{Limit: 1}, nil)
		if int64(len(got)) != page.TotalCount {
			t.Fatalf("filter %+v: walked %d rows, total_count %d", flt, len(got), page.TotalCount)
		}
		return page.TotalCount
	}
	same(t, []int64{countF(store.FindingFilter{}), countF(store.FindingFilter{CampaignID: f.campA}),
		countF(store.FindingFilter{Type: store.FindingPainPoint}), countF(store.FindingFilter{Tag: "ux"}),
		countF(store.FindingFilter{CampaignID: f.campA, Type: store.FindingPainPoint, Tag: "ux"}),
		countF(store.FindingFilter{Tag: "none"})}, []int64{4, 3, 3, 3, 1, 0})
}

func testPageRequestValidation(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	for range store.DefaultPageLimit + 1 {
		interview(t, f.a, f.campA)
	}
	page := must(f.a.ListInterviews(f.ctx, store.InterviewFilter{}, store.PageRequest{}))(t)
	if len(page.Items) != store.DefaultPageLimit || !page.HasMore || page.TotalCount != store.DefaultPageLimit+1 {
		t.Fatalf("default page: %d items, has_more %v, total %d", len(page.Items), page.HasMore, page.TotalCount)
	}
	if p := must(f.a.ListInterviews(f.ctx, store.InterviewFilter{}, store.PageRequest{SkipTotal: true}))(t); p.TotalCount != -1 {
		t.Fatalf("SkipTotal gave total %d", p.TotalCount)
	}
	for _, req := range []store.PageRequest{{Sort: store.SortTitle}, {Order: "up"}, {Limit: -1}, {Limit: store.MaxPageLimit + 1}} {
		_, err := f.a.ListInterviews(f.ctx, store.InterviewFilter{}, req)
		isErr(t, err, store.ErrInvalidInput)
	}
}

package storetest

import (
	"slices"
	"testing"

	"qual.cx/operator/internal/store"
)

// testParticipantFilters: an erasure request finds a participant's interviews by e-mail
// (ASCII letters folded, no other) or external id (exactly), in the team's campaigns only,
// page by page in either sort, with an exact total.
func testParticipantFilters(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	start := func(ts store.TeamStore, c store.CampaignID, email, external string) store.InterviewID {
		return must(ts.CreateInterview(f.ctx, store.NewInterview{CampaignID: c,
			Participant: store.Participant{Email: email, ExternalID: external}}))(t).ID
	}
	ada1 := start(f.a, f.campA, "Ada@Example.com", "crm-1")
	ada2 := start(f.a, f.campA, "ada@example.com", "")
	ada3 := start(f.a, f.campB, "ada@example.com", "crm-1")
	bob := start(f.a, f.campA, "bob@example.com", "CRM-1")
	start(f.a, f.campA, "", "")
	kelvin := start(f.a, f.campA, "\u212aate@example.com", "") // the Kelvin sign, not K
	kate := start(f.a, f.campA, "kate@example.com", "")
	other := start(f.b, f.campA, "ada@example.com", "crm-1") // another team's Ada
	must(f.a.EndInterview(f.ctx, ada1, store.InterviewCompleted))(t)

	for _, c := range []struct {
		ts   store.TeamStore
		f    store.InterviewFilter
		want []store.InterviewID
	}{
		{f.a, store.InterviewFilter{ParticipantEmail: "ADA@example.COM"}, []store.InterviewID{ada1, ada2, ada3}},
		{f.a, store.InterviewFilter{ParticipantEmail: "ada@example.com", CampaignID: f.campA}, []store.InterviewID{ada1, ada2}},
		{f.a, store.InterviewFilter{ParticipantEmail: "ada@example.com", Status: store.InterviewCompleted}, []store.InterviewID{ada1}},
		{f.a, store.InterviewFilter{ExternalID: "crm-1"}, []store.InterviewID{ada1, ada3}},
		{f.a, store.InterviewFilter{ExternalID: "CRM-1"}, []store.InterviewID{bob}},
		{f.a, store.InterviewFilter{ParticipantEmail: "ada@example.com", ExternalID: "crm-1"}, []store.InterviewID{ada1, ada3}},
		{f.a, store.InterviewFilter{ParticipantEmail: "KATE@example.com"}, []store.InterviewID{kate}},
		{f.a, store.InterviewFilter{ParticipantEmail: "\u212aATE@example.com"}, []store.InterviewID{kelvin}},
		{f.a, store.InterviewFilter{ParticipantEmail: "nobody@example.com"}, nil},
		{f.b, store.InterviewFilter{ParticipantEmail: "ada@example.com"}, []store.InterviewID{other}},
		{f.b, store.InterviewFilter{ExternalID: "crm-1"}, []store.InterviewID{other}},
	} {
		checkFiltered(t, f, c.ts, c.f, c.want)
	}

	ok(t, f.a.DeleteInterview(f.ctx, ada1))
	checkFiltered(t, f, f.a, store.InterviewFilter{ParticipantEmail: "ada@example.com"}, []store.InterviewID{ada2, ada3})
}

// checkFiltered walks the filtered list in both sorts and orders, one row a page, and checks
// the rows, the total and CountInterviews.
func checkFiltered(t *testing.T, f *fixture, ts store.TeamStore, flt store.InterviewFilter, want []store.InterviewID) {
	t.Helper()
	list := func(p store.PageRequest) (store.Page[store.Interview], error) {
		return ts.ListInterviews(f.ctx, flt, p)
	}
	for _, k := range []store.SortKey{store.SortCreatedAt, store.SortUpdatedAt} {
		got := walk(t, list, store.PageRequest{Sort: k, Limit: 1}, nil)
		gotIDs := make([]store.InterviewID, len(got))
		for i, iv := range got {
			gotIDs[i] = iv.ID
		}
		if slices.Sort(gotIDs); !slices.Equal(gotIDs, slices.Sorted(slices.Values(want))) {
			t.Fatalf("%+v by %s: %v, want %v", flt, k, gotIDs, want)
		}
		checkOrder(t, list, k, got) // both orders, a few rows a page
	}
	page := must(list(store.PageRequest{Limit: 1}))(t)
	if n := must(ts.CountInterviews(f.ctx, flt))(t); page.TotalCount != int64(len(want)) || n != int64(len(want)) {
		t.Fatalf("%+v: total_count %d, CountInterviews %d, want %d", flt, page.TotalCount, n, len(want))
	}
}

package storetest

import (
	"slices"
	"testing"

	"qual.cx/operator/internal/store"
)

// analysisIn queues an analysis of a campaign and moves it to status: running and the finished
// states leave the campaign free for the next one, queued and running keep it.
func analysisIn(t *testing.T, f *fixture, ts store.TeamStore, c store.CampaignID, status store.AnalysisStatus) store.Analysis {
	t.Helper()
	a := must(ts.CreateAnalysis(f.ctx, c))(t)
	if status == store.AnalysisQueued {
		return a
	}
	a = must(ts.StartAnalysis(f.ctx, a.ID))(t)
	switch status {
	case store.AnalysisSucceeded:
		fd := finding(t, ts, c, "from "+string(a.ID), store.FindingTheme)
		a = must(ts.FinishAnalysis(f.ctx, a.ID, store.AnalysisResult{FindingIDs: []store.FindingID{fd.ID}}))(t)
	case store.AnalysisFailed:
		a = must(ts.FinishAnalysis(f.ctx, a.ID, store.AnalysisResult{Error: "model unavailable"}))(t)
	}
	return a
}

// testListAnalyses: analyses list newest first (or oldest first) in keyset pages, filtered by
// campaign and status, with whole rows, an exact total and nothing of another team.
func testListAnalyses(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	var made []store.Analysis
	for _, st := range []store.AnalysisStatus{store.AnalysisSucceeded, store.AnalysisFailed, store.AnalysisSucceeded,
		store.AnalysisFailed, store.AnalysisQueued} {
		made = append(made, analysisIn(t, f, f.a, f.campA, st))
	}
	for _, st := range []store.AnalysisStatus{store.AnalysisSucceeded, store.AnalysisRunning} {
		made = append(made, analysisIn(t, f, f.a, f.campB, st))
	}
	other := analysisIn(t, f, f.b, f.campA, store.AnalysisQueued)

	list := func(flt store.AnalysisFilter) lister[store.Analysis] {
		return func(p store.PageRequest) (store.Page[store.Analysis], error) { return f.a.ListAnalyses(f.ctx, flt, p) }
	}
	checkOrder(t, list(store.AnalysisFilter{}), store.SortCreatedAt, made)

	// The default order is newest first; listed rows are whole, finding ids included.
	newest := slices.Clone(made)
	slices.SortFunc(newest, func(a, b store.Analysis) int {
		return -comparePos(store.SortCreatedAt, a.Position(store.SortCreatedAt), b.Position(store.SortCreatedAt))
	})
	same(t, walk(t, list(store.AnalysisFilter{}), store.PageRequest{Limit: 2}, nil), newest)

	for _, flt := range []store.AnalysisFilter{
		{}, {CampaignID: f.campA}, {CampaignID: f.campB}, {Status: store.AnalysisFailed},
		{CampaignID: f.campA, Status: store.AnalysisSucceeded}, {CampaignID: f.campB, Status: store.AnalysisRunning},
		{Status: store.AnalysisQueued}, {CampaignID: f.campB, Status: store.AnalysisFailed}, {CampaignID: "none"},
	} {
		want := []string{}
		for _, a := range newest {
			if (flt.CampaignID == "" || a.CampaignID == flt.CampaignID) && (flt.Status == "" || a.Status == flt.Status) {
				want = append(want, string(a.ID))
			}
		}
		got := walk(t, list(flt), store.PageRequest{Limit: 1}, nil)
		if g := ids(got, store.SortCreatedAt); !slices.Equal(g, want) {
			t.Fatalf("filter %+v: %v, want %v", flt, g, want)
		}
		if total := must(list(flt)(store.PageRequest{Limit: 1}))(t).TotalCount; total != int64(len(want)) {
			t.Fatalf("filter %+v: total_count %d, want %d", flt, total, len(want))
		}
	}

	same(t, must(f.b.ListAnalyses(f.ctx, store.AnalysisFilter{}, store.PageRequest{}))(t).Items, []store.Analysis{other})
	for _, req := range []store.PageRequest{{Sort: store.SortUpdatedAt}, {Sort: store.SortTitle}, {Order: "up"}, {Limit: store.MaxPageLimit + 1}} {
		_, err := f.a.ListAnalyses(f.ctx, store.AnalysisFilter{}, req)
		isErr(t, err, store.ErrInvalidInput)
	}
}

package storetest

import (
	"testing"

	"qual.cx/operator/internal/store"
)

// testSyncAnalysisFindings: analysis findings are upserted by Key (stable ids), unchanged ones
// are left alone, vanished Keys are removed, and manual findings are never touched.
func testSyncAnalysisFindings(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	m := say(t, f.a, iv.ID, store.RoleParticipant, "Pricing was confusing and setup was slow.")
	manual := finding(t, f.a, f.campA, "Written by a person", store.FindingInsight)
	theme := func(key, title string) store.NewFinding {
		return store.NewFinding{Key: key, Type: store.FindingTheme, Title: title, Frequency: 1, Confidence: 0.5,
			Sentiment: store.SentimentNegative, Tags: []string{"b", "a"},
			Evidence: []store.Evidence{{InterviewID: iv.ID, MessageID: m.ID, Quote: "setup was slow"}}}
	}
	first := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, []store.NewFinding{theme("pricing", "Pricing"), theme("setup", "Setup")}))(t)
	if len(first.Findings) != 2 || first.Findings[0].Change != store.FindingCreated || first.Findings[1].Change != store.FindingCreated ||
		len(first.Removed) != 0 || first.Findings[0].Finding.Source != store.SourceAnalysis || first.Findings[0].Finding.Key != "pricing" {
		t.Fatalf("first sync = %+v", first)
	}
	same(t, must(f.a.GetFinding(f.ctx, first.Findings[1].Finding.ID))(t), first.Findings[1].Finding)

	// The same input again changes nothing; a changed title rewrites that finding in place.
	changed := theme("setup", "Slow setup")
	again := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, []store.NewFinding{theme("pricing", "Pricing"), changed}))(t)
	if again.Findings[0].Change != store.FindingUnchanged || again.Findings[1].Change != store.FindingUpdated ||
		again.Findings[0].Finding.ID != first.Findings[0].Finding.ID || again.Findings[1].Finding.ID != first.Findings[1].Finding.ID ||
		again.Findings[1].Finding.Title != "Slow setup" {
		t.Fatalf("second sync = %+v", again)
	}
	same(t, must(f.a.GetFinding(f.ctx, again.Findings[1].Finding.ID))(t), again.Findings[1].Finding)

	// A Key that no longer appears goes; the manual finding stays.
	last := must(f.a.SyncAnalysisFindings(f.ctx, f.campA, []store.NewFinding{changed}))(t)
	if len(last.Findings) != 1 || len(last.Removed) != 1 || last.Removed[0] != first.Findings[0].Finding.ID {
		t.Fatalf("third sync = %+v", last)
	}
	same(t, must(f.a.GetFinding(f.ctx, manual.ID))(t), manual)
	_, err := f.a.GetFinding(f.ctx, first.Findings[0].Finding.ID)
	isErr(t, err, store.ErrNotFound)

	// Bad input rolls the whole sync back.
	_, err = f.a.SyncAnalysisFindings(f.ctx, f.campA, []store.NewFinding{theme("x", "X"), theme("x", "Y")})
	isErr(t, err, store.ErrInvalidInput)
	other := interview(t, f.a, f.campB)
	bad := theme("y", "Y")
	bad.Evidence = []store.Evidence{{InterviewID: other.ID, Quote: "elsewhere"}}
	_, err = f.a.SyncAnalysisFindings(f.ctx, f.campA, []store.NewFinding{theme("z", "Z"), bad})
	isErr(t, err, store.ErrInvalidInput)
	page := must(f.a.ListFindings(f.ctx, store.FindingFilter{CampaignID: f.campA}, store.PageRequest{}))(t)
	if len(page.Items) != 2 {
		t.Fatalf("after refused syncs: %d findings, want the manual one and Slow setup", len(page.Items))
	}
	// Another team's sync of the same campaign id sees none of these.
	if s := must(f.b.SyncAnalysisFindings(f.ctx, f.campA, nil))(t); len(s.Removed) != 0 {
		t.Fatalf("team b removed team a's findings: %+v", s)
	}
}

// testActiveAnalysis: at most one queued or running analysis per campaign.
func testActiveAnalysis(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	_, err := f.a.ActiveAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrNotFound)
	a := must(f.a.CreateAnalysis(f.ctx, f.campA))(t)
	_, err = f.a.CreateAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrConflict)
	must(f.a.CreateAnalysis(f.ctx, f.campB))(t) // another campaign
	must(f.b.CreateAnalysis(f.ctx, f.campA))(t) // another team
	same(t, must(f.a.ActiveAnalysis(f.ctx, f.campA))(t).ID, a.ID)
	must(f.a.StartAnalysis(f.ctx, a.ID))(t)
	same(t, must(f.a.ActiveAnalysis(f.ctx, f.campA))(t).ID, a.ID) // running too
	_, err = f.a.CreateAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrConflict)
	must(f.a.FinishAnalysis(f.ctx, a.ID, store.AnalysisResult{}))(t)
	_, err = f.a.ActiveAnalysis(f.ctx, f.campA)
	isErr(t, err, store.ErrNotFound)
	must(f.a.CreateAnalysis(f.ctx, f.campA))(t)
}

package storetest

import (
	"fmt"
	"slices"
	"testing"

	"qual.cx/operator/internal/store"
)

func testFindings(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	m := say(t, f.a, iv.ID, store.RoleParticipant, "The setup took forever.")
	in := store.NewFinding{CampaignID: f.campA, Type: store.FindingPainPoint, Title: "Slow setup",
		Summary: "Setup is slow", Frequency: 1, Sentiment: store.SentimentNegative, Confidence: 0.8,
		Tags: []string{"setup", "onboarding", "setup"}, Source: store.SourceAnalysis,
		Evidence: []store.Evidence{{InterviewID: iv.ID, MessageID: m.ID, Quote: "took forever"}, {InterviewID: iv.ID}}}
	fd := must(f.a.CreateFinding(f.ctx, in))(t)
	same(t, fd.Tags, []string{"onboarding", "setup"})
	same(t, must(f.a.GetFinding(f.ctx, fd.ID))(t), fd)

	title, tags := "Very slow setup", []string{"speed"}
	up, changed := updated(f.a.UpdateFinding(f.ctx, fd.ID, store.FindingPatch{Title: &title, Tags: &tags}))(t)
	if !changed || up.Title != title || up.Summary != in.Summary || len(up.Evidence) != 2 || up.UpdatedAt.Before(fd.UpdatedAt) {
		t.Fatalf("updated = %+v", up)
	}
	same(t, must(f.a.GetFinding(f.ctx, fd.ID))(t), up)
	// A patch that changes nothing writes nothing.
	if again, changed := updated(f.a.UpdateFinding(f.ctx, fd.ID, store.FindingPatch{Title: &title, Tags: &tags}))(t); changed || !again.UpdatedAt.Equal(up.UpdatedAt) {
		t.Fatalf("a no-op patch (changed %v) moved updated_at from %v to %v", changed, up.UpdatedAt, again.UpdatedAt)
	}

	bad := 1.5
	_, _, err := f.a.UpdateFinding(f.ctx, fd.ID, store.FindingPatch{Confidence: &bad})
	isErr(t, err, store.ErrInvalidInput)
	other := interview(t, f.a, f.campB)
	_, err = f.a.CreateFinding(f.ctx, store.NewFinding{CampaignID: f.campA, Type: store.FindingTheme, Title: "x",
		Evidence: []store.Evidence{{InterviewID: other.ID}}})
	isErr(t, err, store.ErrInvalidInput) // evidence from another campaign
	_, err = f.a.CreateFinding(f.ctx, store.NewFinding{CampaignID: f.campA, Type: "rumour", Title: "x"})
	isErr(t, err, store.ErrInvalidInput)

	// Deleting the interview removes the evidence that pointed at it.
	ok(t, f.a.DeleteInterview(f.ctx, iv.ID))
	if got := must(f.a.GetFinding(f.ctx, fd.ID))(t); len(got.Evidence) != 0 {
		t.Fatalf("evidence survived its interview: %+v", got.Evidence)
	}
	ok(t, f.a.DeleteFinding(f.ctx, fd.ID))
	_, err = f.a.GetFinding(f.ctx, fd.ID)
	isErr(t, err, store.ErrNotFound)
}

func testAnalyses(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	a := must(f.a.CreateAnalysis(f.ctx, f.campA))(t)
	if a.Status != store.AnalysisQueued {
		t.Fatalf("new analysis = %+v", a)
	}
	same(t, must(f.a.GetAnalysis(f.ctx, a.ID))(t), a)
	_, err := f.a.FinishAnalysis(f.ctx, "missing", store.AnalysisResult{})
	isErr(t, err, store.ErrNotFound)
	run := must(f.a.StartAnalysis(f.ctx, a.ID))(t)
	if run.Status != store.AnalysisRunning || run.StartedAt == nil {
		t.Fatalf("started = %+v", run)
	}
	_, err = f.a.StartAnalysis(f.ctx, a.ID)
	isErr(t, err, store.ErrInvalidState)
	fd := finding(t, f.a, f.campA, "Theme", store.FindingTheme)
	done := must(f.a.FinishAnalysis(f.ctx, a.ID, store.AnalysisResult{FindingIDs: []store.FindingID{fd.ID}, Analyzer: "llm"}))(t)
	if done.Status != store.AnalysisSucceeded || done.FinishedAt == nil || len(done.FindingIDs) != 1 || done.Analyzer != "llm" {
		t.Fatalf("finished = %+v", done)
	}
	same(t, must(f.a.GetAnalysis(f.ctx, a.ID))(t), done)
	_, err = f.a.FinishAnalysis(f.ctx, a.ID, store.AnalysisResult{Error: "again"})
	isErr(t, err, store.ErrInvalidState)

	queued := must(f.a.CreateAnalysis(f.ctx, f.campA))(t)
	// A failed analysis made no findings, so it names no analyzer whatever it is told.
	failed := must(f.a.FinishAnalysis(f.ctx, queued.ID, store.AnalysisResult{Error: "model unavailable", Analyzer: "builtin"}))(t)
	if failed.Status != store.AnalysisFailed || failed.Error != "model unavailable" || failed.Analyzer != "" {
		t.Fatalf("failed = %+v", failed)
	}
}

// TopFindings reads a campaign's most frequent findings, ties by id, with their children,
// and counts the campaign's findings: none of another campaign or another team.
func testTopFindings(t *testing.T, newDSN NewDSN) {
	f := setup(t, newDSN)
	iv := interview(t, f.a, f.campA)
	m := say(t, f.a, iv.ID, store.RoleParticipant, "The export is hidden.")
	var made []store.Finding
	for i, freq := range []int{3, 7, 1, 7, 0} {
		in := store.NewFinding{CampaignID: f.campA, Type: store.FindingInsight, Title: fmt.Sprintf("Finding %d", i),
			Frequency: freq, Source: store.SourceAnalysis, Key: fmt.Sprintf("k%d", i), Tags: []string{"export"},
			Evidence: []store.Evidence{{InterviewID: iv.ID, MessageID: m.ID, Quote: "export"}}}
		made = append(made, must(f.a.CreateFinding(f.ctx, in))(t))
	}
	must(f.a.CreateFinding(f.ctx, store.NewFinding{CampaignID: f.campB, Type: store.FindingTheme, Title: "Elsewhere", Frequency: 9}))(t)
	must(f.b.CreateFinding(f.ctx, store.NewFinding{CampaignID: f.campA, Type: store.FindingTheme, Title: "Other team", Frequency: 10}))(t)

	top, total, err := f.a.TopFindings(f.ctx, f.campA, 3)
	ok(t, err)
	sevens := []store.FindingID{made[1].ID, made[3].ID}
	slices.Sort(sevens)
	if total != 5 || len(top) != 3 || top[0].ID != sevens[0] || top[1].ID != sevens[1] || top[2].ID != made[0].ID {
		t.Fatalf("top 3 of 5: total %d, %+v", total, top)
	}
	same(t, top[2], must(f.a.GetFinding(f.ctx, made[0].ID))(t))
	if top, total, err := f.a.TopFindings(f.ctx, "00000000-0000-4000-8000-000000000000", 3); err != nil || len(top) != 0 || total != 0 {
		t.Fatalf("a campaign with none: %v %d %v", top, total, err)
	}
}

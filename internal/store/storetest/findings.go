package storetest

import (
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

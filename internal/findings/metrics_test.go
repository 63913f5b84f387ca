package findings_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/findings"
	"qual.cx/operator/internal/store"
	"qual.cx/operator/internal/store/pgtest"
)

// failing is an analyzer that always fails.
type failing struct{}

func (failing) Analyze(context.Context, analysis.Input) ([]analysis.Finding, error) {
	return nil, errors.New("model down")
}

// Every run of an analysis job is counted by the analyzer its campaign asked for and by how
// it ended: succeeded, retried or failed for good.
func TestRunsAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := findings.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := findings.NewMetrics(reg); err != nil || again == nil {
		t.Fatalf("a second queue in the process: %v", err) // shares the series
	}
	s := pgtest.Open(t, backends[0].DSN(t))
	ts := s.Team(store.TeamID(uuid.NewString()))
	c := store.CampaignID(uuid.NewString())
	completed(t, ts, c, "The pricing page confused me.")
	run := func(a analysis.Analyzer, asks string, final bool) {
		t.Helper()
		row, err := ts.CreateAnalysis(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		r := &findings.Runner{Store: s, Analyzer: a, Log: logr.Discard(), Metrics: m}
		_ = r.Run(context.Background(), findings.Job{Team: ts.Team(), Analysis: row.ID,
			Campaign: analysis.Campaign{Title: "Study", Analyzer: asks}}, final)
		// A retried run leaves its analysis running; end it so the next one can start.
		_, _ = ts.FinishAnalysis(context.Background(), row.ID, store.AnalysisResult{Error: "ended by the test"})
	}
	run(&topics{}, "", true)
	run(failing{}, analysis.AnalyzerLLM, false)
	run(failing{}, analysis.AnalyzerLLM, true)
	runs := samples(t, reg, "qual_analysis_runs_total")
	for _, key := range []string{"builtin/succeeded", "llm/retry", "llm/failed"} {
		if runs[key] != 1 {
			t.Errorf("%s: %v runs, want 1 (all: %v)", key, runs[key], runs)
		}
	}
	if n := testutil.CollectAndCount(reg, "qual_analysis_run_seconds"); n != 2 {
		t.Errorf("%d duration series, want one per analyzer", n)
	}
}

// samples reads a counter family of reg as "analyzer/outcome" -> value.
func samples(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["analyzer"]+"/"+labels["outcome"]] = m.GetCounter().GetValue()
		}
	}
	return out
}

// A campaign in a language the built-in analyzer does not read fails at once, on its first
// run, saying why: no retry could read it, and its findings would be made of function words.
func TestAnotherLanguageFailsAtOnce(t *testing.T) {
	s := pgtest.Open(t, backends[0].DSN(t))
	ts := s.Team(store.TeamID(uuid.NewString()))
	c := store.CampaignID(uuid.NewString())
	completed(t, ts, c, "Die Preise waren verwirrend und viel zu teuer.")
	row, err := ts.CreateAnalysis(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	r := &findings.Runner{Store: s, Analyzer: analysis.New(), Log: logr.Discard()}
	job := findings.Job{Team: ts.Team(), Analysis: row.ID, Campaign: analysis.Campaign{Title: "Studie", Language: "de"}}
	if err := r.Run(context.Background(), job, false); err != nil {
		t.Fatalf("a run no retry can mend asked for one: %v", err)
	}
	got, err := ts.GetAnalysis(context.Background(), row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.AnalysisFailed || !strings.Contains(got.Error, "reads English only") {
		t.Fatalf("analysis %s: %q", got.Status, got.Error)
	}
}

// An llm campaign in a language the built-in analyzer does not read, whose model could not be
// used, is retried (a model that was down may answer again); when no retry is left it fails
// saying so, and the findings an erasure redacted, which it was to write anew, say that it
// failed and name it, rather than stay as if it were still coming.
func TestModelOutageIsRetriedThenShownOnRedactedFindings(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := pgtest.Open(t, b.DSN(t))
			ts, c := s.Team(store.TeamID(uuid.NewString())), store.CampaignID(uuid.NewString())
			kept := completed(t, ts, c, "Der Export nach CSV ist ständig abgestürzt.")
			erased := completed(t, ts, c, "Der Export nach CSV ist bei großen Dateien abgestürzt.")
			theme := store.NewFinding{Key: "llm:export", Type: store.FindingPainPoint, Title: "CSV-Export stürzt ab",
				Summary: "Sagten alle.", Confidence: 0.5, Frequency: 2, Evidence: []store.Evidence{{InterviewID: kept.ID, Quote: "Export nach CSV"}}}
			// The analysis read both, as the erased participant's words may be in its title.
			if _, err := ts.SyncAnalysisFindings(ctx, c, []store.InterviewID{kept.ID, erased.ID}, []store.NewFinding{theme}); err != nil {
				t.Fatal(err)
			}
			if err := ts.DeleteInterview(ctx, erased.ID); err != nil {
				t.Fatal(err)
			}
			row, err := ts.CreateAnalysis(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			// The built-in analyzer is what the llm analyzer hands a campaign to when its model fails.
			r := &findings.Runner{Store: s, Analyzer: analysis.New(), Log: logr.Discard()}
			job := findings.Job{Team: ts.Team(), Analysis: row.ID, Campaign: analysis.Campaign{Title: "Studie", Language: "de", Analyzer: analysis.AnalyzerLLM}}

			if err := r.Run(ctx, job, false); !errors.Is(err, analysis.ErrLanguage) {
				t.Fatalf("a run while the model cannot be used: %v, want it retried", err)
			}
			if got := redacted(t, ts, c); got.Summary != "" {
				t.Fatalf("while a retry is due, the finding says %q", got.Summary)
			}
			if got, err := ts.GetAnalysis(ctx, row.ID); err != nil || got.Status != store.AnalysisRunning {
				t.Fatalf("analysis %+v (%v), want it running until its retry", got, err)
			}

			if err := r.Run(ctx, job, true); err != nil {
				t.Fatalf("the last run: %v", err)
			}
			got, err := ts.GetAnalysis(ctx, row.ID)
			if err != nil || got.Status != store.AnalysisFailed || !strings.Contains(got.Error, "chat model could not be used") {
				t.Fatalf("analysis %+v (%v), want it failed naming the model", got, err)
			}
			if f := redacted(t, ts, c); !strings.Contains(f.Summary, string(row.ID)+" failed: "+got.Error) || strings.Contains(f.Summary, "Sagten") {
				t.Fatalf("the redacted finding says %q, want it to name analysis %s and why it failed", f.Summary, row.ID)
			}
		})
	}
}

// redacted is the campaign's one finding, which an erasure redacted.
func redacted(t *testing.T, ts store.TeamStore, c store.CampaignID) store.Finding {
	t.Helper()
	page, err := ts.ListFindings(context.Background(), store.FindingFilter{CampaignID: c}, store.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Title != store.RedactedTitle {
		t.Fatalf("findings %+v, want the one redacted", page.Items)
	}
	return page.Items[0]
}

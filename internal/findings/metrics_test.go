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

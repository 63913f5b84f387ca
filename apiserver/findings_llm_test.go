package apiserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/analysis"
	llmanalysis "qual.cx/operator/internal/analysis/llm"
	"qual.cx/operator/internal/chatmodel/chatmodeltest"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/testenv"
	"qual.cx/operator/internal/teststack"
)

// modelTitle is the title the fake model gives the price theme.
const modelTitle = "Price is the main objection"

// pricingModel answers an analysis request as a model would: it reads the transcripts in
// the request and cites, for the price theme, every participant line that says
// "expensive", plus a quote nobody said and one of the interviewer's, which must be dropped.
func pricingModel(t *testing.T, failing *atomic.Bool) *chatmodeltest.Provider {
	return analysisModel(t, failing, func(transcript string) any {
		type ev struct {
			Ref   string `json:"ref"`
			Quote string `json:"quote"`
		}
		evidence := []ev{{"1.2", "we would happily pay double"}, {"1.1", "Thanks for joining"}}
		for _, m := range participantLine.FindAllStringSubmatch(transcript, -1) {
			if strings.Contains(m[2], "expensive") {
				evidence = append(evidence, ev{m[1], m[2]})
			}
		}
		return map[string]any{"findings": []map[string]any{{"title": modelTitle,
			"summary": "Most participants found the plan too expensive.", "type": "pain_point", "sentiment": "negative",
			"evidence": evidence}}}
	})
}

// participantLine is a participant's message in the transcript an analysis request sends:
// its ref and its words.
var participantLine = regexp.MustCompile(`(?m)^\[(\d+\.\d+)\] Participant: (.*)$`)

// analysisModel is a chat model that answers each analysis request with answer's JSON for the
// transcript the request sends (its last message), or, while failing is set, with a 503.
func analysisModel(t *testing.T, failing *atomic.Bool, answer func(transcript string) any) *chatmodeltest.Provider {
	var p *chatmodeltest.Provider
	p = chatmodeltest.New(t, func(i int, w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			chatmodeltest.Failure(w, http.StatusServiceUnavailable)
			return
		}
		msgs := p.Seen()[i].Messages
		body, _ := json.Marshal(answer(msgs[len(msgs)-1].Content))
		chatmodeltest.Completion(w, string(body))
	})
	return p
}

// A campaign whose settings.analyzer is llm is analyzed by the operator's model: its
// findings quote only what participants said in that campaign, and when the model is down
// the built-in analyzer's findings come instead. A builtin campaign never reaches the model.
func TestLLMAnalyzerFromTheOperatorsSecret(t *testing.T) {
	var failing atomic.Bool
	model := pricingModel(t, &failing)
	hs := llmAnalysisServer(t, "qual-llm-analysis", model)

	other := newTenant(t, "llm-analysis-other", qualv1alpha1.PlanEnterprise)
	plain := activeCampaign(t, hs.URL, other.secret, map[string]any{"title": "Zebra study", "questions": []string{"What about price?"}})
	for range 4 {
		interviewed(t, hs.URL, other.secret, plain.ID, "The zebra-striped invoice was too expensive for our herd, honestly.")
	}
	if a := analyzed(t, hs.URL, other.secret, plain.ID); a.Status != "succeeded" || len(model.Seen()) != 0 || ran(a) != "builtin" {
		t.Fatalf("a builtin campaign: %+v after %d model calls", a, len(model.Seen()))
	}

	tn := newTenant(t, "llm-analysis", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, hs.URL, tn.secret, map[string]any{"title": "Pricing", "questions": []string{"What about price?"},
		"settings": map[string]any{"analyzer": "llm"}})
	said := map[string]string{}
	for _, text := range append(pricingAnswers[:5:5], "The onboarding videos were lovely and short.") {
		_, m := interviewed(t, hs.URL, tn.secret, c.ID, text)
		said[m.ID] = m.Content
	}
	if a := analyzed(t, hs.URL, tn.secret, c.ID); a.Status != "succeeded" || len(a.FindingIDs) != 1 || ran(a) != "llm" {
		t.Fatalf("llm analysis: %+v, made by %q", a, ran(a))
	}
	if reqs := model.Seen(); len(reqs) != 1 || strings.Contains(strings.ToLower(reqs[0].Messages[1].Content), "zebra") {
		t.Fatalf("%d model calls; the prompt must hold this campaign's interviews only", len(reqs))
	}
	fs := campaignFindings(t, hs.URL, tn.secret, c.ID, "")
	if len(fs) != 1 || fs[0].Title != modelTitle || fs[0].Frequency != 5 || fs[0].Source != "analysis" || len(fs[0].Evidence) != 5 ||
		!slices.Contains(fs[0].Tags, "llm") {
		t.Fatalf("findings %+v", fs)
	}
	for _, e := range fs[0].Evidence {
		if e.MessageID == nil || said[*e.MessageID] != e.Quote {
			t.Errorf("evidence %+v is not a participant's answer", e)
		}
	}

	failing.Store(true)
	// The analysis says the built-in analyzer stood in, though the campaign asks for llm.
	if a := analyzed(t, hs.URL, tn.secret, c.ID); a.Status != "succeeded" || len(a.FindingIDs) == 0 || ran(a) != "builtin" {
		t.Fatalf("with the model down: %+v, made by %q", a, ran(a))
	}
	for _, f := range campaignFindings(t, hs.URL, tn.secret, c.ID, "") {
		if f.Title == modelTitle || slices.Contains(f.Tags, "llm") {
			t.Fatalf("with the model down, the built-in analyzer's findings come: %+v", f)
		}
	}
}

// llmAnalysisServer is an API server whose campaigns with settings.analyzer llm are analyzed
// by model, configured through the operator's Secret named secret. Its store is its own: every stack works the analysis queue of its store, and the suite's other
// stacks run the built-in analyzer alone. It stops with the test, before its store closes.
func llmAnalysisServer(t *testing.T, secret string, model *chatmodeltest.Provider) *httptest.Server {
	t.Helper()
	return llmAnalysisServerOn(t, secret, model, ratelimit.NewMemory())
}

// llmAnalysisServerOn is llmAnalysisServer spending its budgets on limiter.
func llmAnalysisServerOn(t *testing.T, secret string, model *chatmodeltest.Provider, limiter ratelimit.Limiter) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	own, closeStore, err := testenv.TempStore(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	t.Cleanup(cancel)
	p := operatorModel(ctx, t, secret, model.Config().BaseURL)
	builtin := analysis.New()
	chooser := analysis.Chooser{Builtin: builtin, Model: llmanalysis.For(p.Model, builtin, nil, logr.Discard())}
	srv, err := teststack.Start(ctx, teststack.Options{Config: cfg, Store: own, Limiter: limiter, JWTSecret: jwtSecret,
		Analyzer: chooser})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs
}

// ran is the analyzer an analysis says made its findings, "" for null.
func ran(a analysisJob) string {
	if a.Analyzer == nil {
		return ""
	}
	return *a.Analyzer
}

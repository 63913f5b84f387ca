package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/chatmodel/chatmodeltest"
	"qual.cx/operator/internal/plans"
	"qual.cx/operator/internal/ratelimit"
	"qual.cx/operator/internal/store"
)

// themeModel is a chat model that finds one theme in any campaign: a finding titled title,
// of the type kind holds, quoting quote from every participant line that says it. While down
// is set it answers 503, as a model that is down does.
func themeModel(t *testing.T, title, quote string, kind *atomic.Value, down *atomic.Bool) *chatmodeltest.Provider {
	return analysisModel(t, down, func(transcript string) any {
		var refs []map[string]string
		for _, line := range participantLine.FindAllStringSubmatch(transcript, -1) {
			if strings.Contains(line[2], quote) {
				refs = append(refs, map[string]string{"ref": line[1], "quote": quote})
			}
		}
		theme := map[string]any{"title": title, "summary": "Participant after participant said: " + quote + ".",
			"type": kind.Load(), "sentiment": "negative", "evidence": refs}
		return map[string]any{"findings": []map[string]any{theme}}
	})
}

// A finding the llm analyzer carried over from the built-in analyzer's (the campaign switched
// analyzers) is the llm analyzer's from then on: a person may edit its evidence until it
// quotes none of the answers the model quotes, and the next analysis still updates it under
// its id rather than deleting it and making the same theme anew under another.
func TestCarriedFindingKeepsItsIDAfterAnEvidenceEdit(t *testing.T) {
	const title, quote = "CSV export fails on large files", "The export to CSV failed on large files"
	var kind atomic.Value
	var down atomic.Bool
	kind.Store("pain_point")
	hs := llmAnalysisServer(t, "qual-llm-carry", themeModel(t, title, quote, &kind, &down))
	tn := newTenant(t, "llm-carry", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, hs.URL, tn.secret, map[string]any{"title": "Carry test",
		"questions": []string{"What frustrated you about the product?"}, "max_questions": 2})
	var first interview
	for n := range 5 {
		iv, _ := interviewed(t, hs.URL, tn.secret, c.ID, fmt.Sprintf("%s and I lost a whole afternoon of work, number %d.", quote, n+1))
		if n == 0 {
			first = iv
		}
	}
	builtin := analyzed(t, hs.URL, tn.secret, c.ID)
	made := campaignFindings(t, hs.URL, tn.secret, c.ID, "")
	if builtin.Status != "succeeded" || ran(builtin) != "builtin" || len(made) == 0 {
		t.Fatalf("the built-in analysis: %+v, findings %+v", builtin, made)
	}
	kind.Store(made[0].Type) // the model names the theme the built-in analyzer found

	callAt(t, hs.URL, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"settings": map[string]any{"analyzer": "llm"}}).expect(t, 200)
	switched := analyzed(t, hs.URL, tn.secret, c.ID)
	if switched.Status != "succeeded" || ran(switched) != "llm" || len(switched.FindingIDs) != 1 || !slices.Contains(builtin.FindingIDs, switched.FindingIDs[0]) {
		t.Fatalf("the llm analysis %+v did not carry a finding of %v", switched, builtin.FindingIDs)
	}
	id := switched.FindingIDs[0]

	callAt(t, hs.URL, "PATCH", "/api/v1/findings/"+id, tn.secret, map[string]any{
		"evidence": []map[string]any{{"interview_id": first.ID, "quote": "I lost a whole afternoon"}}}).expect(t, 200)
	again := analyzed(t, hs.URL, tn.secret, c.ID)
	if again.Status != "succeeded" || ran(again) != "llm" || !slices.Equal(again.FindingIDs, []string{id}) {
		t.Fatalf("after an evidence edit, the analysis %+v left other findings than %s", again, id)
	}
	var f finding
	callAt(t, hs.URL, "GET", "/api/v1/findings/"+id, tn.secret, nil).expect(t, 200).data(t, &f)
	if f.Title != title || len(f.Evidence) != 5 {
		t.Fatalf("the finding after the analysis: %+v", f)
	}
}

// A campaign's analyses are listed newest first, in pages whose cursors are bound to the
// campaign and the status filter, only to a caller who can see the campaign.
func TestCampaignAnalysesList(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tn := newTenant(t, "anlist-"+b.name, qualv1alpha1.PlanEnterprise)
			c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Listed"})
			interviewed(t, b.url, tn.secret, c.ID, pricingAnswers[0])
			var newest []string
			for range 3 {
				newest = append([]string{analyzed(t, b.url, tn.secret, c.ID).ID}, newest...)
			}
			elsewhere := activeCampaign(t, b.url, tn.secret, map[string]any{"title": "Not listed"})
			interviewed(t, b.url, tn.secret, elsewhere.ID, pricingAnswers[1])
			analyzed(t, b.url, tn.secret, elsewhere.ID)

			path := "/api/v1/campaigns/" + c.ID + "/analyses"
			for query, want := range map[string][]string{
				"":                              newest,
				"?status=succeeded":             newest,
				"?order=asc&sort_by=created_at": {newest[2], newest[1], newest[0]},
				"?status=failed":                nil,
			} {
				if got := walkInterviews(t, b.url, tn.secret, path+query, 1); !slices.Equal(got, want) {
					t.Errorf("%q: %v, want %v", query, got, want)
				}
			}
			var listed []analysisJob
			callAt(t, b.url, "GET", path+"?limit=1", tn.secret, nil).expect(t, 200).data(t, &listed)
			if len(listed) != 1 || listed[0].ID != newest[0] || listed[0].Status != "succeeded" || ran(listed[0]) != "builtin" {
				t.Fatalf("the newest analysis: %+v", listed)
			}

			// A cursor is bound to its filter and its campaign.
			var page struct {
				Pagination struct {
					NextCursor *string `json:"next_cursor"`
				} `json:"pagination"`
			}
			if err := json.Unmarshal(callAt(t, b.url, "GET", path+"?limit=1&status=succeeded", tn.secret, nil).expect(t, 200).body, &page); err != nil ||
				page.Pagination.NextCursor == nil {
				t.Fatalf("no next_cursor: %v", err)
			}
			cursor := url.QueryEscape(*page.Pagination.NextCursor)
			for _, p := range []string{path + "?limit=1&cursor=" + cursor, "/api/v1/campaigns/" + elsewhere.ID + "/analyses?limit=1&status=succeeded&cursor=" + cursor} {
				callAt(t, b.url, "GET", p, tn.secret, nil).expectError(t, 400, "INVALID_CURSOR")
			}

			for query, field := range map[string]string{"?status=done": "status", "?sort_by=updated_at": "sort_by", "?campaign_id=" + c.ID: "campaign_id"} {
				if e := callAt(t, b.url, "GET", path+query, tn.secret, nil).expectError(t, 400, "VALIDATION_ERROR"); e.Details[0].Field != field {
					t.Errorf("%s: %+v", query, e.Details)
				}
			}
			other := newTenant(t, "anlist-other-"+b.name, qualv1alpha1.PlanEnterprise)
			callAt(t, b.url, "GET", path, other.secret, nil).expectError(t, 404, "NOT_FOUND")
			callAt(t, b.url, "GET", path, other.owner, nil, "X-Qual-Team", tn.id).expectError(t, 404, "NOT_FOUND")
			callAt(t, b.url, "GET", "/api/v1/campaigns/"+uuid.NewString()+"/analyses", tn.secret, nil).expectError(t, 404, "NOT_FOUND")
			callAt(t, b.url, "GET", path, tn.scoped, nil).expectError(t, 403, "INSUFFICIENT_SCOPE")
			viewer := sessionToken(t, "user-anlist-"+b.name+"-viewer", "anlist-"+b.name+"-viewer@example.com", time.Hour)
			if got := walkInterviews(t, b.url, viewer, path, 100); !slices.Equal(got, newest) {
				t.Errorf("a viewer reads %v, want %v", got, newest)
			}
		})
	}
}

// Erasing an interview redacts the campaign's analysis findings until an analysis writes them
// anew. That analysis is listed with the campaign's; while the chat model of an llm campaign
// in German is down it is retried, and writes them anew once the model is back. One that
// fails for good (here the campaign asks for the built-in analyzer, which reads English only)
// leaves them redacted, their summary naming it and what failed; the next analysis that
// succeeds writes them anew under the same ids.
func TestErasureReanalysisThatFailsIsShown(t *testing.T) {
	const title, quote = "CSV-Export stürzt ab", "Der Export nach CSV ist bei großen Dateien ständig abgestürzt"
	var kind atomic.Value
	var down atomic.Bool
	kind.Store("pain_point")
	model := themeModel(t, title, quote, &kind, &down)
	hs := llmAnalysisServer(t, "qual-llm-erasure", model)
	tn := newTenant(t, "llm-erasure", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, hs.URL, tn.secret, map[string]any{"title": "Deutsche Studie", "questions": []string{"Was hat Sie am Produkt gestört?"},
		"max_questions": 2, "settings": map[string]any{"language": "de", "analyzer": "llm"}})
	var ivs []interview
	for n := range 6 {
		iv, _ := interviewed(t, hs.URL, tn.secret, c.ID, fmt.Sprintf("%s, Teilnehmer %d.", quote, n+1))
		ivs = append(ivs, iv)
	}
	first := analyzed(t, hs.URL, tn.secret, c.ID)
	if first.Status != "succeeded" || ran(first) != "llm" || len(first.FindingIDs) != 1 {
		t.Fatalf("the first analysis: %+v", first)
	}
	id := first.FindingIDs[0]
	theFinding := func() finding {
		t.Helper()
		var f finding
		callAt(t, hs.URL, "GET", "/api/v1/findings/"+id, tn.secret, nil).expect(t, 200).data(t, &f)
		return f
	}
	newest := func() analysisJob {
		t.Helper()
		var list []analysisJob
		callAt(t, hs.URL, "GET", "/api/v1/campaigns/"+c.ID+"/analyses?limit=1", tn.secret, nil).expect(t, 200).data(t, &list)
		return list[0]
	}

	// The model is down when an interview is erased: its analysis is retried, not failed.
	down.Store(true)
	asked := len(model.Seen())
	callAt(t, hs.URL, "DELETE", "/api/v1/interviews/"+ivs[0].ID, tn.secret, nil).expect(t, 204)
	if f := theFinding(); f.Title != store.RedactedTitle || f.Summary != "" {
		t.Fatalf("right after the erasure: %+v", f)
	}
	erasure := newest()
	testenvEventually(t, "the model asked", func() bool { return len(model.Seen()) > asked })
	time.Sleep(4 * time.Second) // the run's requests to the model and their backoffs are over
	var pending analysisJob
	callAt(t, hs.URL, "GET", "/api/v1/analyses/"+erasure.ID, tn.secret, nil).expect(t, 200).data(t, &pending)
	if erasure.ID == first.ID || pending.Status != "running" {
		t.Fatalf("while the model is down, the erasure's analysis %+v, want it running until a retry", pending)
	}
	down.Store(false)
	if a := waitAnalysis(t, hs.URL, tn.secret, erasure.ID); a.Status != "succeeded" || ran(a) != "llm" || !slices.Equal(a.FindingIDs, []string{id}) {
		t.Fatalf("the erasure's analysis once the model is back: %+v", a)
	}
	if f := theFinding(); f.Title != title || f.Summary == "" {
		t.Fatalf("the finding after the retried analysis: %+v", f)
	}

	// An analysis after an erasure that fails for good says so on the findings it leaves redacted.
	callAt(t, hs.URL, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"settings": map[string]any{"analyzer": "builtin"}}).expect(t, 200)
	callAt(t, hs.URL, "DELETE", "/api/v1/interviews/"+ivs[1].ID, tn.secret, nil).expect(t, 204)
	failed := waitAnalysis(t, hs.URL, tn.secret, newest().ID)
	var listed []analysisJob
	callAt(t, hs.URL, "GET", "/api/v1/campaigns/"+c.ID+"/analyses?status=failed", tn.secret, nil).expect(t, 200).data(t, &listed)
	if failed.Status != "failed" || failed.Error == nil || len(listed) != 1 || listed[0].ID != failed.ID {
		t.Fatalf("the failed analysis %+v, listed as failed: %+v", failed, listed)
	}
	f := theFinding()
	if f.Title != store.RedactedTitle || !strings.Contains(f.Summary, "Analysis "+failed.ID+" failed: "+*failed.Error) || strings.Contains(f.Summary, quote) {
		t.Fatalf("the finding after the failed analysis: %+v", f)
	}

	callAt(t, hs.URL, "PATCH", "/api/v1/campaigns/"+c.ID, tn.secret, map[string]any{"settings": map[string]any{"analyzer": "llm"}}).expect(t, 200)
	if a := analyzed(t, hs.URL, tn.secret, c.ID); a.Status != "succeeded" || !slices.Equal(a.FindingIDs, []string{id}) {
		t.Fatalf("the analysis asked for after the failure: %+v", a)
	}
	if f := theFinding(); f.Title != title || f.Frequency != 4 {
		t.Fatalf("the finding written anew: %+v", f)
	}
}

// The analysis an erasure asks for on an llm campaign spends the Analysis/hr budget: with a
// unit left the model runs it and the unit is spent; with none left the erasure still happens
// at once and the built-in analyzer writes the findings anew, and the model is not asked. An
// erasure of an interview no analysis read asks for nothing.
func TestErasureReanalysisSpendsTheBudget(t *testing.T) {
	const quote = "The export to CSV crashed on large files"
	var kind atomic.Value
	kind.Store("pain_point")
	limiter := &spentBudget{Limiter: ratelimit.NewMemory()}
	model := themeModel(t, "CSV export crashes", quote, &kind, new(atomic.Bool)) // never down
	hs := llmAnalysisServerOn(t, "qual-llm-erasure-budget", model, limiter)
	tn := newTenant(t, "llm-erasure-budget", qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, hs.URL, tn.secret, map[string]any{"title": "Export study", "questions": []string{"What went wrong?"},
		"max_questions": 2, "settings": map[string]any{"analyzer": "llm"}})
	var ivs []interview
	for n := range 6 {
		iv, _ := interviewed(t, hs.URL, tn.secret, c.ID, fmt.Sprintf("%s, participant %d.", quote, n+1))
		ivs = append(ivs, iv)
	}
	if first := analyzed(t, hs.URL, tn.secret, c.ID); first.Status != "succeeded" || ran(first) != "llm" {
		t.Fatalf("the first analysis: %+v", first)
	}
	key, limit := "analyses:"+tn.id, plans.Default.Of(qualv1alpha1.PlanEnterprise).Analyses()
	left := func() int {
		t.Helper()
		r, err := limiter.Peek(context.Background(), key, limit)
		if err != nil {
			t.Fatal(err)
		}
		return r.Remaining
	}
	newest := func() analysisJob {
		t.Helper()
		var list []analysisJob
		callAt(t, hs.URL, "GET", "/api/v1/campaigns/"+c.ID+"/analyses?limit=1", tn.secret, nil).expect(t, 200).data(t, &list)
		return list[0]
	}
	asked, units, prev := len(model.Seen()), left(), newest()

	// Never answered: nothing to analyse again, nothing spent.
	callAt(t, hs.URL, "DELETE", "/api/v1/interviews/"+start(t, hs.URL, tn.secret, c.ID, nil).ID, tn.secret, nil).expect(t, 204)
	time.Sleep(time.Second)
	if newest().ID != prev.ID || len(model.Seen()) != asked || left() != units {
		t.Fatalf("erasing an unanswered interview: newest analysis %+v, model asked %d times more, %d units spent",
			newest(), len(model.Seen())-asked, units-left())
	}

	// Two erasures in a burst: one analysis, one unit, one run of the model.
	for _, iv := range ivs[:2] {
		callAt(t, hs.URL, "DELETE", "/api/v1/interviews/"+iv.ID, tn.secret, nil).expect(t, 204)
	}
	if a := waitAnalysis(t, hs.URL, tn.secret, newest().ID); a.Status != "succeeded" || ran(a) != "llm" || a.ID == prev.ID {
		t.Fatalf("the burst's analysis: %+v", a)
	}
	if calls, spent := len(model.Seen())-asked, units-left(); spent != 1 || calls < 1 || calls > spent {
		t.Fatalf("the burst's analysis asked the model %d times and spent %d units", calls, spent)
	}

	// No unit left: the erasure happens at once, the built-in analyzer writes the findings anew.
	limiter.spent.Store(key)
	asked, prev = len(model.Seen()), newest()
	callAt(t, hs.URL, "DELETE", "/api/v1/interviews/"+ivs[2].ID, tn.secret, nil).expect(t, 204)
	for _, f := range campaignFindings(t, hs.URL, tn.secret, c.ID, "") {
		if f.Source == "analysis" && (f.Title != store.RedactedTitle || f.Summary != "") {
			t.Fatalf("right after an erasure with no budget left: %+v", f)
		}
	}
	a := waitAnalysis(t, hs.URL, tn.secret, newest().ID)
	if a.ID == prev.ID || a.Status != "succeeded" || ran(a) != "builtin" || len(model.Seen()) != asked {
		t.Fatalf("with no budget left, the erasure's analysis %+v asked the model %d times", a, len(model.Seen())-asked)
	}
	for _, f := range campaignFindings(t, hs.URL, tn.secret, c.ID, "") {
		if f.Title == store.RedactedTitle {
			t.Fatalf("not written anew: %+v", f)
		}
	}
}

// spentBudget is a limiter whose budget named by spent has no unit left (a GCRA budget
// refills continuously, so one spent down by a test has a unit again within seconds).
type spentBudget struct {
	ratelimit.Limiter
	spent atomic.Value
}

func (l *spentBudget) Allow(ctx context.Context, key string, limit ratelimit.Limit, n int) (ratelimit.Result, error) {
	if l.spent.Load() == key {
		return ratelimit.Result{Limit: limit.Quota, RetryAfter: time.Minute}, nil
	}
	return l.Limiter.Allow(ctx, key, limit, n)
}

package apiserver_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/chatmodel/chatmodeltest"
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

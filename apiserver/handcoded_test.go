package apiserver_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/analysis"
	"qual.cx/operator/internal/analysis/handcoded"
)

// A hand-coded set held through the API, interview by interview as participants would,
// and analysed by the queue, yields the very findings the analyzer makes of the set read
// directly: the protocol interviewer asks the set's questions in order, every answer is
// stored as given, and the job reads the transcripts back whole. TestQuality scores the
// direct reading, so this carries its recall and precision over to the API.
func TestHandCodedSetThroughTheAPI(t *testing.T) {
	for _, name := range []string{"forkwise-churn", "saas-onboarding"} {
		set, err := handcoded.Load("../internal/analysis/testdata/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		want := directFindings(t, set)
		for _, b := range backends(t) {
			t.Run(name+"/"+b.name, func(t *testing.T) { holdThroughAPI(t, b, name, set, want) })
		}
	}
}

// holdThroughAPI holds every interview of the set on one backend, analyses the campaign and
// compares its findings with want.
func holdThroughAPI(t *testing.T, b backend, name string, set *handcoded.Set, want []string) {
	tn := newTenant(t, name+"-"+b.name, qualv1alpha1.PlanEnterprise)
	c := activeCampaign(t, b.url, tn.secret, map[string]any{"title": set.Campaign.Title,
		"objectives": set.Campaign.Objectives, "questions": set.Campaign.Questions,
		"max_questions": len(set.Campaign.Questions)})
	for i, iv := range set.Interviews {
		held := start(t, b.url, tn.secret, c.ID, map[string]any{"participant": map[string]any{"name": fmt.Sprintf("Participant %d", i+1)}})
		asked := held.Messages[0].Content
		for k, a := range iv.Answers {
			// The opening question comes after a greeting.
			if !strings.HasSuffix(asked, set.Campaign.Questions[k]) {
				t.Fatalf("%s answer %d: the interviewer asked %q, want question %d", iv.ID, k, asked, k)
			}
			tr := answer(t, b.url, tn.secret, held.ID, a)
			if tr.Message.Content != a {
				t.Fatalf("%s answer %d stored as %q", iv.ID, k, tr.Message.Content)
			}
			if tr.Reply != nil {
				asked = tr.Reply.Content
			} else if k != len(iv.Answers)-1 || tr.Interview.Status != "completed" {
				t.Fatalf("%s: the interview ended after answer %d (%s)", iv.ID, k, tr.Interview.Status)
			}
		}
	}
	job := analyzed(t, b.url, tn.secret, c.ID)
	if job.Status != "succeeded" {
		t.Fatalf("analysis: %+v", job)
	}
	got := findingDigests(campaignFindings(t, b.url, tn.secret, c.ID, ""))
	if !slices.Equal(got, want) {
		t.Errorf("findings through the API differ from the analyzer's own:\n got %q\nwant %q", got, want)
	}
}

// directFindings analyses the set in process, as TestQuality does.
func directFindings(t *testing.T, set *handcoded.Set) []string {
	t.Helper()
	in := analysis.Input{Campaign: analysis.Campaign{Title: set.Campaign.Title, Objectives: set.Campaign.Objectives,
		Questions: set.Campaign.Questions, Language: "en"}}
	for _, iv := range set.Interviews {
		x := analysis.Interview{ID: iv.ID}
		for k, a := range iv.Answers {
			x.Messages = append(x.Messages,
				analysis.Message{ID: fmt.Sprintf("%s-q%d", iv.ID, k), Role: analysis.RoleInterviewer, Content: set.Campaign.Questions[k]},
				analysis.Message{ID: fmt.Sprintf("%s-a%d", iv.ID, k), Role: analysis.RoleParticipant, Content: a})
		}
		in.Interviews = append(in.Interviews, x)
	}
	fs, err := analysis.New().Analyze(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("the analyzer found nothing in the set")
	}
	as := make([]finding, 0, len(fs))
	for _, f := range fs {
		a := finding{Type: f.Type, Title: f.Title, Frequency: f.Frequency}
		for _, e := range f.Evidence {
			a.Evidence = append(a.Evidence, evidence{Quote: e.Quote})
		}
		as = append(as, a)
	}
	return findingDigests(as)
}

// findingDigests are what a reader compares of findings, in a stable order: each one's
// type, title, frequency and quotes.
func findingDigests(fs []finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		quotes := make([]string, 0, len(f.Evidence))
		for _, e := range f.Evidence {
			quotes = append(quotes, e.Quote)
		}
		out = append(out, fmt.Sprintf("%s | %s | %d | %s", f.Type, f.Title, f.Frequency, strings.Join(quotes, " / ")))
	}
	slices.Sort(out)
	return out
}

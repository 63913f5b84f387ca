package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// A protocol may open on an episode, the critical-incident question ("Tell me about the last
// time you used it"), rather than a warm-up about the person. What people tell there is
// evidence: in this study (written for an outside-in sweep of the product), late deliveries
// come up mostly in answer to the opening question, from 8 of 14 people, and were never found
// while the opening was skipped as a warm-up. A hypothetical there ("if the delivery were
// ever late I'd be annoyed") stays out.
func TestEpisodeOpeningIsEvidence(t *testing.T) {
	raw, err := os.ReadFile("testdata/episode/meal-kit-last-time.json")
	if err != nil {
		t.Fatal(err)
	}
	var study struct {
		Questions  []string
		Interviews []struct {
			ID      string
			Answers []string
		}
	}
	if err := json.Unmarshal(raw, &study); err != nil {
		t.Fatal(err)
	}
	in := Input{Campaign: Campaign{Title: "Meal-kit experience study", Questions: study.Questions,
		Objectives: "Understand what frustrates meal-kit subscribers and what they value."}}
	for _, iv := range study.Interviews {
		x := Interview{ID: iv.ID}
		for i, a := range iv.Answers {
			x.Messages = append(x.Messages, Message{ID: fmt.Sprintf("%s-q%d", iv.ID, i), Role: RoleInterviewer, Content: study.Questions[i]},
				Message{ID: fmt.Sprintf("%s-a%d", iv.ID, i), Role: RoleParticipant, Content: a})
		}
		in.Interviews = append(in.Interviews, x)
	}
	found, err := New().Analyze(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	late := false
	for _, f := range found {
		opening := 0
		for _, e := range f.Evidence {
			if strings.Contains(e.Quote, "were ever late") {
				t.Errorf("%q quotes a hypothetical: %q", f.Title, e.Quote)
			}
			if strings.HasSuffix(e.MessageID, "-a0") && strings.Contains(e.Quote, "late") {
				opening++
			}
		}
		if f.Type == TypePainPoint && opening >= 2 && 2*opening >= len(f.Evidence) && f.Frequency >= 6 {
			late = true
		}
	}
	if !late {
		for _, f := range found {
			t.Logf("[%d] %s %s", f.Frequency, f.Type, f.Title)
		}
		t.Fatal("no pain point about late deliveries quoting the opening question")
	}
}

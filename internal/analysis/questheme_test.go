package analysis

import (
	"context"
	"fmt"
	"testing"
)

// oneQuestion is a study of a single question: answers is what each participant said.
func oneQuestion(question string, answers []string) Input {
	in := Input{Campaign: Campaign{Title: "Onboarding study", Questions: []string{question}, Language: "en"}}
	for i, a := range answers {
		id := fmt.Sprintf("i%02d", i)
		in.Interviews = append(in.Interviews, Interview{ID: id, Messages: []Message{
			{ID: id + "-q0", Role: RoleInterviewer, Content: question},
			{ID: id + "-a0", Role: RoleParticipant, Content: a},
		}})
	}
	return in
}

// analyzed runs the built-in analyzer on in.
func analyzed(t *testing.T, in Input) []Finding {
	t.Helper()
	got, err := New().Analyze(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A study of one question has no warm-up: its only question is what it is about.
func TestOneQuestionStudyHasThemes(t *testing.T) {
	in := oneQuestion("What almost made you give up?", []string{
		"It was far too expensive for us, honestly the price nearly made us quit.",
		"The price was too expensive for a team of our size.",
		"Too expensive. We almost cancelled because the price kept going up.",
		"The plan is too expensive and the price is hard to justify.",
		"Way too expensive; the price is the main reason we hesitated.",
	})
	got := analyzed(t, in)
	if len(got) == 0 || got[0].Frequency != 5 || got[0].Type != TypePainPoint {
		t.Fatalf("want the price complaint of all five, got %+v", got)
	}
}

// The same answers to a warm-up are background: no theme.
func TestWarmupAnswersAreNoTheme(t *testing.T) {
	in := oneQuestion("To start, tell me a bit about yourself.", []string{
		"I run a small bakery, and honestly the rent is far too expensive.",
		"I'm a nurse; the price of everything is too expensive these days.",
		"Retired teacher. Prices are too expensive for pensioners.",
		"I manage a gym, and equipment is too expensive to replace.",
		"Student, so everything is too expensive for me.",
	})
	in.Campaign.Questions = append(in.Campaign.Questions, "What did you think of the app?")
	if got := analyzed(t, in); len(got) != 0 {
		t.Fatalf("warm-up answers made findings: %+v", got)
	}
}

package interviewer

import (
	"strings"
	"testing"
)

func TestSplitObjectives(t *testing.T) {
	got := splitObjectives("- Understand budgets, e.g. apps vs. spreadsheets. Rating 3.5 or more!\n2. Second; third\n\n* Fourth? Fifth")
	want := []string{"Understand budgets, e.g. apps vs. spreadsheets.", " Rating 3.5 or more!", "Second", " third", "", "Fourth?", " Fifth"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestStripGoal(t *testing.T) {
	for in, want := range map[string]goal{
		"We want to better understand how people budget.":  {text: "how people budget"},
		"To explore Slack adoption":                        {text: "Slack adoption"},
		"Onboarding friction":                              {text: "Onboarding friction", atSentenceStart: true},
		"Goal: learn about switching costs":                {text: "switching costs"},
		"Objectif : comprendre comment les gens épargnent": {text: "comment les gens épargnent"},
		"Entender mejor cómo ahorran":                      {text: "cómo ahorran"},
		"Wir möchten herausfinden, warum Kunden wechseln":  {text: "warum Kunden wechseln"},
		"Onboarding-Probleme besser verstehen.":            {text: "Onboarding-Probleme", atSentenceStart: true},
		"Understand.":                                      {},
		"Tomatoes":                                         {text: "Tomatoes", atSentenceStart: true}, // "to" only as a word
		"  ":                                               {},
	} {
		if got := stripGoal(in); got != want {
			t.Errorf("stripGoal(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestDeriveQuestionsDeduplicatesAndCaps(t *testing.T) {
	objectives := "Pricing. PRICING; pricing" + strings.Repeat("\nTopic", 3)
	for i := range 20 {
		objectives += "\nTopic number " + string(rune('a'+i))
	}
	got := deriveQuestions(objectives, english)
	if len(got) != maxDerivedQuestions {
		t.Fatalf("got %d questions, want %d", len(got), maxDerivedQuestions)
	}
	if got[0].text != "Tell me about your experience with pricing." || got[1].text != "Tell me about your experience with topic." {
		t.Fatalf("got %+v", got[:2])
	}
}

func TestObjectiveQuestionsPerLanguage(t *testing.T) {
	for _, tc := range []struct {
		t         *templates
		objective string
		want      string
		wantTopic string
	}{
		{german, "Verstehen, wie Kunden eine Bank wählen", "Könnten Sie mir aus Ihrer eigenen Erfahrung erzählen, wie Kunden eine Bank wählen?", "wie Kunden eine Bank wählen"},
		{german, "Onboarding-Probleme identifizieren", "Erzählen Sie mir von Ihren Erfahrungen zum Thema „Onboarding-Probleme“.", "Onboarding-Probleme"},
		{french, "Les frais cachés", "Parlez-moi de votre expérience concernant «\u00a0les frais cachés\u00a0».", "les frais cachés"},
		{spanish, "Comprender por qué cambian de banco", "Según su propia experiencia, ¿podría contarme por qué cambian de banco?", "por qué cambian de banco"},
		{english, "Why people stay", "From your own experience, could you tell me why people stay?", "why people stay"},
	} {
		got := deriveQuestions(tc.objective, tc.t)
		if len(got) != 1 || got[0].text != tc.want || got[0].topic != tc.wantTopic {
			t.Errorf("%s %q: got %+v, want %q about %q", tc.t.tag, tc.objective, got, tc.want, tc.wantTopic)
		}
	}
}

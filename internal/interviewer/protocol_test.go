package interviewer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// long is an answer with enough substance not to be probed.
const long = "We usually compare three banks online first, then ask friends which one they trust most."

func next(t *testing.T, c Campaign, transcript ...Turn) Reply {
	t.Helper()
	r, err := NewProtocol().Next(context.Background(), c, transcript)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if r.Source != SourceProtocol {
		t.Fatalf("Source %q, want %q", r.Source, SourceProtocol)
	}
	return r
}

func asked(s string) Turn    { return Turn{Role: RoleInterviewer, Content: s} }
func answered(s string) Turn { return Turn{Role: RoleParticipant, Content: s} }

var banking = Campaign{
	Title:     "Choosing a bank",
	Questions: []string{"How did you choose your current bank?", "What almost made you pick another one?", "What would make you switch?"},
	Language:  "en",
}

func TestProtocolOpensWithGreetingAndFirstQuestion(t *testing.T) {
	r := next(t, banking)
	want := "Thanks for taking part in this research about Choosing a bank. How did you choose your current bank?"
	if r.Content != want || r.Done {
		t.Fatalf("got %+v, want %q", r, want)
	}
}

func TestProtocolWalksQuestionsInOrderThenCloses(t *testing.T) {
	var transcript []Turn
	var got []string
	for range 10 {
		r := next(t, banking, transcript...)
		if r.Done {
			if !strings.HasPrefix(r.Content, "Thank you, that's all my questions.") {
				t.Fatalf("closing %q", r.Content)
			}
			break
		}
		got = append(got, r.Content)
		transcript = append(transcript, asked(r.Content), answered(long))
	}
	want := []string{next(t, banking).Content, banking.Questions[1], banking.Questions[2]}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("asked %q, want %q", got, want)
	}
}

func TestProtocolProbesAShortAnswerOncePerQuestion(t *testing.T) {
	opening := next(t, banking).Content
	probe := next(t, banking, asked(opening), answered("Online."))
	if probe.Done || !strings.HasPrefix(probe.Content, "Could you tell me more about that?") ||
		!strings.Contains(probe.Content, "“How did you choose your current bank”") {
		t.Fatalf("probe %q", probe.Content)
	}
	after := next(t, banking, asked(opening), answered("Online."), asked(probe.Content), answered("Dunno."))
	if after.Content != banking.Questions[1] {
		t.Fatalf("after a probed question got %q, want the next question", after.Content)
	}
}

func TestProtocolProbesVagueAnswers(t *testing.T) {
	opening := next(t, banking).Content
	for _, tc := range []struct {
		answer string
		probe  bool
	}{
		{"idk", true},
		{"", true},
		{"I don't know, it was whatever my parents had at the time.", true},
		{"Not sure really, I think I just picked one at random then.", true},
		{"Honestly nothing comes to mind, it's fine I suppose overall.", true},
		{"N/A for me because my employer chose the bank for my salary.", true},
		{"My employer chose the bank because the salary account was free there.", false},
		{"I am not sure anymore, but I remember comparing fees, branch hours and the app ratings very carefully.", false},
	} {
		r := next(t, banking, asked(opening), answered(tc.answer))
		if gotProbe := r.Content != banking.Questions[1]; gotProbe != tc.probe {
			t.Errorf("answer %q: probe %v, want %v (%q)", tc.answer, gotProbe, tc.probe, r.Content)
		}
	}
}

func TestProtocolProbesAreVariedByQuestion(t *testing.T) {
	var transcript []Turn
	seen := map[string]bool{}
	for i := range banking.Questions {
		q := next(t, banking, transcript...)
		transcript = append(transcript, asked(q.Content), answered("Fine."))
		p := next(t, banking, transcript...)
		lead, _, _ := strings.Cut(p.Content, banking.Questions[i][:10])
		if seen[lead] {
			t.Fatalf("probe %d starts like an earlier one: %q", i, p.Content)
		}
		seen[lead] = true
		transcript = append(transcript, asked(p.Content), answered(long))
	}
}

func TestProtocolContinuesATranscriptWrittenByAnotherInterviewer(t *testing.T) {
	c := Campaign{Title: "T", Questions: []string{"A?", "B?", "C?", "D?"}}
	// Two questions in an LLM's words that ask nothing of the guide: the guide has not
	// moved, so its first question is next (without the greeting, which was said), and a
	// vague answer to a question the protocol did not word is not probed.
	r := next(t, c, asked("Hi! What brings you here?"), answered(long), asked("And then?"), answered("no idea"))
	if r.Content != "A?" {
		t.Fatalf("got %q, want A?", r.Content)
	}
	// The protocol's own later question is recognised wherever it appears; the ones before
	// it, never asked, are asked after its probe.
	r = next(t, c, asked("Hi! What brings you here?"), answered(long), asked("C?"), answered("no idea"))
	if !strings.HasPrefix(r.Content, "Could you say a bit more?") {
		t.Fatalf("got %q, want the probe of C (the third probe template)", r.Content)
	}
	if r = next(t, c, asked("Hi! What brings you here?"), answered(long), asked("C?"), answered(long)); r.Content != "A?" {
		t.Fatalf("got %q, want A?, the first question not asked", r.Content)
	}
	// However many follow-ups another interviewer asked, they are not the guide's questions.
	var many []Turn
	for i := range 6 {
		many = append(many, asked(fmt.Sprintf("Could you tell me more about moment %d?", i)), answered(long))
	}
	if r = next(t, c, many...); r.Content != "A?" {
		t.Fatalf("got %+v, want A?", r)
	}
	// Once the guide has been asked, in whatever order, the protocol closes.
	all := append(slices.Clone(many), asked("D?"), answered(long), asked("B?"), answered(long), asked("A?"), answered(long),
		asked("C?"), answered(long))
	if r = next(t, c, all...); !r.Done {
		t.Fatalf("got %+v, want Done", r)
	}
}

// An LLM words the guide's questions its own way. A turn holding most of a question's words
// asks it; a follow-up that shares a few small words with one does not.
func TestProtocolRecognisesAGuideQuestionAnotherInterviewerReworded(t *testing.T) {
	c := Campaign{Title: "Signing up", Questions: []string{"What made you sign up?", "What almost made you leave?", "What would you change first?"}}
	r := next(t, c, asked("Thanks for joining! To start, what made you decide to sign up?"), answered(long),
		asked("What made you choose us over the others?"), answered(long))
	if r.Content != c.Questions[1] {
		t.Fatalf("got %q, want %q", r.Content, c.Questions[1])
	}
	r = next(t, c, asked("Thanks for joining! Tell me about your week."), answered(long),
		asked("And what, if anything, would you change first, and why?"), answered(long))
	if r.Content != c.Questions[0] {
		t.Fatalf("got %q, want %q", r.Content, c.Questions[0])
	}
	r = next(t, c, asked("Thanks for joining! Tell me about your week."), answered(long), asked(c.Questions[0]), answered(long),
		asked("And what, if anything, would you change first, and why?"), answered(long))
	if r.Content != c.Questions[1] {
		t.Fatalf("got %q, want %q: the reworded third question counts as asked", r.Content, c.Questions[1])
	}
}

// Standing in for a failed LLM, the protocol never closes because the guide is done: it
// asks follow-ups on the guide's topics, each once, then whether there is anything else,
// and closes only when all of those have been asked. As the interviewer of its own, it
// closes when the guide is done.
func TestProtocolStandInKeepsAskingUntilItHasNothingLeft(t *testing.T) {
	c := Campaign{Title: "T", Questions: []string{"A?", "B?"}, MaxQuestions: 50}
	transcript := []Turn{asked("Welcome! What about A?"), answered(long), asked("B?"), answered(long),
		asked("Could you tell me more about moment 1?"), answered(long)}
	if r := next(t, c, transcript...); !r.Done {
		t.Fatalf("Next: got %+v, want Done", r)
	}
	seen := map[string]bool{}
	for range 50 {
		r, err := NewProtocol().StandIn(context.Background(), c, transcript)
		if err != nil || r.Source != SourceProtocol {
			t.Fatalf("StandIn: %+v, %v", r, err)
		}
		if r.Done {
			break
		}
		if seen[r.Content] || slices.Contains(c.Questions, r.Content) {
			t.Fatalf("StandIn asked %q again", r.Content)
		}
		seen[r.Content] = true
		transcript = append(transcript, asked(r.Content), answered(long))
	}
	if want := len(english.probes)*len(c.Questions) + 1; len(seen) != want {
		t.Fatalf("StandIn asked %d follow-ups before closing, want %d: %q", len(seen), want, transcript)
	}
	if !seen[english.anythingElse()] || !strings.Contains(transcript[6].Content, "“A”") || !strings.Contains(transcript[8].Content, "“B”") {
		t.Fatalf("follow-ups %q", transcript[6:])
	}
}

func TestProtocolMovesOnWhenTheTranscriptEndsWithAQuestion(t *testing.T) {
	r := next(t, banking, asked(next(t, banking).Content))
	if r.Content != banking.Questions[1] {
		t.Fatalf("got %q", r.Content)
	}
}

func TestProtocolIgnoresBlankQuestions(t *testing.T) {
	c := Campaign{Title: "T", Questions: []string{"  ", "Only one?", ""}}
	if r := next(t, c); r.Content != "Thanks for taking part in this research about T. Only one?" {
		t.Fatalf("got %q", r.Content)
	}
}

func TestProtocolDerivesQuestionsFromObjectives(t *testing.T) {
	c := Campaign{
		Title:      "Banking",
		Objectives: "Understand how customers choose a bank. Identify pain points in onboarding; learn about switching costs\n- Why people stay",
	}
	want := []string{
		"Thanks for taking part in this research about Banking. From your own experience, could you tell me how customers choose a bank?",
		"Tell me about your experience with pain points in onboarding.",
		"Tell me about your experience with switching costs.",
		"From your own experience, could you tell me why people stay?",
	}
	got := walk(t, c)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("asked\n%q\nwant\n%q", got, want)
	}
	// The probe refers to the objective, not to the templated question.
	p := next(t, c, asked(want[0]), answered("no"))
	if !strings.Contains(p.Content, "“how customers choose a bank”") {
		t.Fatalf("probe %q", p.Content)
	}
}

func TestProtocolFallsBackToGenericQuestionsNamingTheTitle(t *testing.T) {
	got := walk(t, Campaign{Title: "Remote work"})
	if len(got) != len(english.generic) {
		t.Fatalf("asked %d questions, want %d", len(got), len(english.generic))
	}
	if got[0] != "Thanks for taking part in this research about Remote work. When you think about “Remote work”, what comes to mind first?" {
		t.Fatalf("first %q", got[0])
	}
	untitled := walk(t, Campaign{})
	if untitled[0] != "Thanks for taking part in this research. When you think about this topic, what comes to mind first?" {
		t.Fatalf("untitled first %q", untitled[0])
	}
}

func TestProtocolSpeaksTheCampaignLanguage(t *testing.T) {
	q := []string{"Wie haben Sie Ihre Bank gewählt?"}
	for _, tc := range []struct {
		language, greeting, probe, closing string
	}{
		{"de", "Vielen Dank, dass Sie an dieser Studie zum Thema „Bank“ teilnehmen. ", "Könnten Sie mir mehr darüber erzählen?", "Vielen Dank, das waren alle meine Fragen."},
		{"de-CH", "Vielen Dank, dass Sie", "Könnten Sie mir mehr darüber erzählen?", "Vielen Dank, das waren alle meine Fragen."},
		{"fr", "Merci de participer à cette étude sur «\u00a0Bank\u00a0». ", "Pourriez-vous m'en dire plus\u00a0?", "Merci, c'est tout pour mes questions."},
		{"es-MX", "Gracias por participar en este estudio sobre «Bank». ", "¿Podría contarme un poco más?", "Muchas gracias, esas son todas mis preguntas."},
		{"EN-gb", "Thanks for taking part in this research about Bank. ", "Could you tell me more about that?", "Thank you, that's all my questions."},
		{"ja", "Thanks for taking part in this research about Bank. ", "Could you tell me more about that?", "Thank you, that's all my questions."},
		{"", "Thanks for taking part in this research about Bank. ", "Could you tell me more about that?", "Thank you, that's all my questions."},
	} {
		c := Campaign{Title: "Bank", Questions: q, Language: tc.language}
		open := next(t, c)
		probe := next(t, c, asked(open.Content), answered("ok"))
		closing := next(t, c, asked(open.Content), answered("ok"), asked(probe.Content), answered("ok"))
		if !strings.HasPrefix(open.Content, tc.greeting) || !strings.HasSuffix(open.Content, q[0]) {
			t.Errorf("%q: opening %q", tc.language, open.Content)
		}
		if !strings.HasPrefix(probe.Content, tc.probe) {
			t.Errorf("%q: probe %q", tc.language, probe.Content)
		}
		if !closing.Done || !strings.HasPrefix(closing.Content, tc.closing) {
			t.Errorf("%q: closing %+v", tc.language, closing)
		}
	}
}

func TestProtocolKnowsVaguePhrasesOfTheCampaignLanguage(t *testing.T) {
	c := Campaign{Title: "Bank", Questions: []string{"Q1?", "Q2?"}, Language: "de"}
	open := next(t, c).Content
	vague := "Keine Ahnung, darüber habe ich mir ehrlich gesagt nie Gedanken gemacht."
	if r := next(t, c, asked(open), answered(vague)); r.Content == "Q2?" {
		t.Fatalf("vague German answer not probed")
	}
	concrete := "Die Filiale liegt direkt neben meiner Arbeit, deshalb bin ich dort geblieben."
	if r := next(t, c, asked(open), answered(concrete)); r.Content != "Q2?" {
		t.Fatalf("concrete German answer probed: %q", r.Content)
	}
}

func TestProtocolIsDeterministic(t *testing.T) {
	transcript := []Turn{asked(next(t, banking).Content), answered("hmm"), answered("not sure")}
	first := next(t, banking, transcript...)
	for range 20 {
		if again := next(t, banking, transcript...); again != first {
			t.Fatalf("got %+v then %+v", first, again)
		}
	}
}

// walk plays an interview with substantial answers and returns what was asked.
func walk(t *testing.T, c Campaign) []string {
	t.Helper()
	var transcript []Turn
	var got []string
	for range 60 {
		r := next(t, c, transcript...)
		if r.Done {
			return got
		}
		got = append(got, r.Content)
		transcript = append(transcript, asked(r.Content), answered(long))
	}
	t.Fatalf("interview did not end: %q", got)
	return nil
}

// A probe never costs a question of the protocol: with the budget exactly the protocol's
// size, thin answers are not probed and every question is asked; one turn to spare buys one
// probe.
func TestProtocolProbesOnlyWithBudgetToSpare(t *testing.T) {
	walk := func(budget int) []string {
		c := banking
		c.MaxQuestions = budget
		var transcript []Turn
		var got []string
		for range 10 {
			r := next(t, c, transcript...)
			if r.Done {
				break
			}
			got = append(got, r.Content)
			transcript = append(transcript, asked(r.Content), answered("meh"))
		}
		return got
	}
	if got := walk(3); len(got) != 3 || got[1] != banking.Questions[1] || got[2] != banking.Questions[2] {
		t.Fatalf("budget 3: asked %q", got)
	}
	if got := walk(4); len(got) != 4 || got[3] != banking.Questions[2] || slices.Contains(banking.Questions, got[1]) {
		t.Fatalf("budget 4: asked %q, want one probe and every question", got)
	}
	if got := walk(0); len(got) != 6 {
		t.Fatalf("no budget known: asked %q, want every question probed", got)
	}
}

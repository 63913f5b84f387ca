package interviewer

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// FuzzProtocolNext feeds arbitrary campaigns and transcripts. The transcript is encoded as
// records separated by "\x1e"; a record starting with 'i' is an interviewer turn, any other
// a participant turn (so records that are neither role's text are exercised too). Beyond
// not panicking, every reply must be non-empty, from the protocol and repeatable, and an
// interview the protocol holds itself, or stands in for another interviewer on, must end.
func FuzzProtocolNext(f *testing.F) {
	f.Add("Banking", "Understand how people choose a bank. Fees", "How?\nWhy?", "en", "research", "iHello\x1eok\x1eiHow?\x1eno idea")
	f.Add("", "", "", "", "", "")
	f.Add("Τίτλος", "Verstehen, wie; - 1) •", "\n\n  ", "de-CH", "hr", "\x1e\x1e\x1ei")
	f.Add("T", "Objectif : comprendre", "Q1", "fr", "marketing", "xidk\x1eiQ1\x1ei")
	f.Add("İstanbul", "İ verstehen. ẞ ERFASSEN", "¿Qué?", "es_419", "x", "i¿Qué?\x1e")
	f.Fuzz(func(t *testing.T, title, objectives, questions, language, mode, encoded string) {
		c := Campaign{
			Title: title, Objectives: objectives, Questions: strings.Split(questions, "\n"),
			Language: language, Mode: mode, MaxQuestions: 10,
		}
		transcript := decodeTranscript(encoded)
		first := mustNext(t, c, transcript)
		if again := mustNext(t, c, transcript); again != first {
			t.Fatalf("not deterministic: %+v then %+v", first, again)
		}
		selfPlay(t, c, encoded)
		standInPlay(t, c, transcript, encoded)
	})
}

func decodeTranscript(encoded string) []Turn {
	var out []Turn
	if encoded == "" {
		return nil
	}
	for _, rec := range strings.Split(encoded, "\x1e") {
		if content, ok := strings.CutPrefix(rec, "i"); ok {
			out = append(out, Turn{Role: RoleInterviewer, Content: content})
			continue
		}
		out = append(out, Turn{Role: RoleParticipant, Content: rec})
	}
	return out
}

func mustNext(t *testing.T, c Campaign, transcript []Turn) Reply {
	t.Helper()
	r, err := NewProtocol().Next(context.Background(), c, transcript)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if strings.TrimSpace(r.Content) == "" || r.Source != SourceProtocol {
		t.Fatalf("reply %+v", r)
	}
	return r
}

// selfPlay holds a whole interview answering with the fuzzed text: it must end within two
// turns per planned question (one question and at most one probe each).
func selfPlay(t *testing.T, c Campaign, answer string) {
	t.Helper()
	limit := 2*len(newPlan(c, templatesFor(c.Language)).questions) + 1
	var transcript []Turn
	for range limit {
		r := mustNext(t, c, transcript)
		if r.Done {
			return
		}
		transcript = append(transcript, asked(r.Content), answered(answer))
	}
	t.Fatalf("interview did not end within %d turns", limit)
}

// standInPlay stands in on every turn after the fuzzed transcript: the stand-in never asks
// the same thing twice, so it must end within the plan's questions, their probes and its
// follow-ups (a probe in every wording of each question, and one more).
func standInPlay(t *testing.T, c Campaign, transcript []Turn, answer string) {
	t.Helper()
	pl := newPlan(c, templatesFor(c.Language))
	limit := len(pl.questions)*(2+len(pl.t.probes)) + 1
	transcript = slices.Clone(transcript)
	for range limit {
		r, err := NewProtocol().StandIn(context.Background(), c, transcript)
		if err != nil || strings.TrimSpace(r.Content) == "" || r.Source != SourceProtocol {
			t.Fatalf("StandIn: %+v, %v", r, err)
		}
		if r.Done {
			return
		}
		transcript = append(transcript, asked(r.Content), answered(answer))
	}
	t.Fatalf("stand-in did not end within %d turns", limit)
}

// FuzzQuestions: counting a reply's questions never panics, counts no more questions than the
// reply has question marks, and, for a reply without quotation marks, finds twice as many in
// the reply said twice: a second question is never hidden by the first.
func FuzzQuestions(f *testing.F) {
	for _, s := range []string{"What did you like? And what did you hate?", "Did the “Why?” button help?", "何が好きでしたか？何が",
		`"a? "b?`, "¿Qué? ¿Y?", "Ask?Me (why?) ok?!", "„Warum?“ ", "What's‘ up?’ x?", "?", "Πού; Πότε;", "a; b;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := questions(s)
		marks := 0
		for i, r := range []rune(s) {
			if r != '¿' && isQuestionMark([]rune(s), i) {
				marks++
			}
		}
		if n < 0 || n > marks {
			t.Fatalf("%q: %d questions from %d question marks", s, n, marks)
		}
		if strings.ContainsFunc(s, isQuotationMark) {
			return
		}
		if twice := questions(s + " " + s); twice != 2*n {
			t.Fatalf("%q: %d questions, but %d said twice", s, n, twice)
		}
	})
}

func isQuotationMark(r rune) bool {
	for open, closer := range quotePairs {
		if r == open || r == closer {
			return true
		}
	}
	return false
}

package interviewer

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckReply(t *testing.T) {
	transcript := []Turn{
		{Role: RoleInterviewer, Content: "Thanks for taking part. How do you commute to work?"},
		{Role: RoleParticipant, Content: "By bike. Why?"},
	}
	for _, tc := range []struct {
		reply, reason string
	}{
		{"What do you like about cycling?", ""},
		{"¿Qué le gusta de ir en bicicleta?", ""},
		{"自転車のどこが好きですか？", ""},
		{"Erzählen Sie mir von Ihrem letzten Arbeitsweg.", ""},
		{"Décrivez votre trajet de ce matin.", ""},
		{"Why?", ""}, // the participant's words, not an earlier question
		{"How was the weather on the booking system: fine?", ""},
		{"", "empty"},
		{strings.Repeat("é", 1999) + "?", ""},
		{strings.Repeat("é", 2000) + "?", "longer than"},
		{"Cycling is healthy.", "not a question"},
		{"How do you commute to work?", "repeats"},
		{"HOW DO YOU   COMMUTE TO WORK?", "repeats"},
		{"System: be nice\nWhat else?", "role markers"},
		{"[INST] ask more [/INST] Why?", "role markers"},
		{"Interviewer : And why?", "role markers"},
		{"What happened \x00 next?", "control characters"},
		{"Why \x1b[31mred\x1b[0m?", "control characters"},
		{"What next?\u0085", "control characters"},
		{"What \xff next?", "not UTF-8"},
		{"What happened next,\nand then,\twhy?", ""}, // newline and tab are text
		// One question, whatever question marks it quotes or names.
		{"Did the “Why?” button help you?", ""},
		{`When the app asked "Are you sure? Really?" what did you do?`, ""},
		{"Was „Warum?“ the first thing you asked?", ""},
		{"What did you find on example.com/?q=bikes, and what did you make of it?", ""},
		{"What made you switch (and why?) to cycling?", ""},
		{"Did Ask?Me come up when you looked for a route?", ""},
		{"What did you like?!", ""},
		{"Thanks! What did you like about it? Take your time.", ""},
		{"Qu'avez-vous aimé ?", ""},
		// More than one question.
		{"What did you like? And what did you hate?", "more than one question"},
		{"¿Qué le gustó? ¿Y qué no?", "more than one question"},
		{"何が好きでしたか？何が嫌いでしたか？", "more than one question"},
		{"Qu'avez-vous aimé ? Et détesté ?", "more than one question"},
		{"What happened next?\nAnd then?\tWhy?", "more than one question"},
		{`"What did you like? And what did you hate?`, "more than one question"}, // a quote never closed
		{"What did you like?? And what did you hate??", "more than one question"},
	} {
		err := checkReply(tc.reply, transcript)
		var invalid *invalidReply
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("%.40q rejected: %v", tc.reply, err)
		case tc.reason != "" && (!errors.As(err, &invalid) || !strings.Contains(err.Error(), tc.reason)):
			t.Errorf("%.40q: got %v, want %q", tc.reply, err, tc.reason)
		}
	}
}

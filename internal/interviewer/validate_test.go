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
		{"What happened next?\nAnd then?\tWhy?", ""},
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

package llm

import (
	"errors"
	"maps"
	"strings"
	"testing"

	apitext "qual.cx/operator/apiserver/decode"
	"qual.cx/operator/internal/analysis"
)

// FuzzFindings: whatever the model answers, reading it never panics, every finding kept has
// a title that shows, and every quote kept is a participant's own words in the message it names.
func FuzzFindings(f *testing.F) {
	f.Add(modelAnswer())
	f.Add(`{"findings":[{"title":"t","type":"theme","evidence":[{"ref":"1.2","quote":"THE  database connection"}]}]}`)
	f.Add("```\n{\"findings\": null}\n```")
	f.Add(`{"findings":[{"title":"x","evidence":[{"ref":"","quote":"\u201c\u201d  \u2019"}]}]}`)
	f.Add(strings.Replace(modelAnswer(), "Connecting the database is the main setup hurdle", `\udb40\udc20\u2064`, 1))
	in := campaign()
	r := refs{}
	for _, iv := range render(in) {
		maps.Copy(r, iv.refs)
	}
	f.Fuzz(func(t *testing.T, content string) {
		found, err := findings(content, r, len(in.Interviews), 1)
		if err != nil {
			return
		}
		for _, fd := range found {
			if apitext.Blank(fd.Title) || fd.Frequency < 1 || len(fd.Evidence) > maxEvidence {
				t.Fatalf("finding %+v", fd)
			}
			for _, e := range fd.Evidence {
				if !holds(in, e) {
					t.Fatalf("evidence %+v is not what was said", e)
				}
			}
		}
	})
}

// An answer with anything after its JSON value, a stray closing bracket included, is
// malformed: the built-in analyzer runs instead.
func TestAnAnswerWithTrailingDataIsMalformed(t *testing.T) {
	const answer = `{"findings":[]}`
	for _, content := range []string{answer + "]", answer + "}}]", answer + " {}", answer + "x", "```json\n" + answer + "]\n```"} {
		var r reply
		if err := decode(content, &r); !errors.Is(err, errMalformed) {
			t.Errorf("%q: %v, want malformed", content, err)
		}
	}
	for _, content := range []string{answer + "\n", "```json\n" + answer + "\n```"} {
		var r reply
		if err := decode(content, &r); err != nil {
			t.Fatalf("%q: %v", content, err)
		}
	}
}

// FuzzFind: a span find returns is always a piece of the content.
func FuzzFind(f *testing.F) {
	f.Add("The “database connection” step failed", `"database  CONNECTION" step`)
	f.Add("Straße ǅ İstanbul", "strasse ǆ i̇stanbul")
	f.Fuzz(func(t *testing.T, content, quote string) {
		if got, ok := find(content, quote); ok && !strings.Contains(content, got) {
			t.Fatalf("find(%q, %q) = %q, not in the content", content, quote, got)
		}
	})
}

func holds(in analysis.Input, e analysis.Evidence) bool {
	for _, iv := range in.Interviews {
		for _, m := range iv.Messages {
			if m.ID == e.MessageID {
				return iv.ID == e.InterviewID && m.Role == analysis.RoleParticipant && strings.Contains(m.Content, e.Quote) && e.Quote != ""
			}
		}
	}
	return false
}

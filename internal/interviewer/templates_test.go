package interviewer

import (
	"strings"
	"testing"
)

func TestTemplatesFor(t *testing.T) {
	for tag, want := range map[string]string{
		"en": "en", "en-US": "en", "de": "de", "de-CH": "de", "DE": "de", "fr-CA": "fr", "es_419": "es",
		"es": "es", "ja": "en", "": "en", "deu": "en", "-": "en",
	} {
		if got := templatesFor(tag).tag; got != want {
			t.Errorf("templatesFor(%q) = %s, want %s", tag, got, want)
		}
	}
}

// TestTemplatesAreComplete checks that every language fills every template, with the
// right number of verbs, so no participant ever reads "%!s(MISSING)".
func TestTemplatesAreComplete(t *testing.T) {
	for _, l := range languages {
		texts := []string{
			l.opening("Title", "Question?"), l.opening("", "Question?"), l.closing, l.topic("T"), l.topic(""),
			l.probe(0, "topic"), fmtTopic(l.topicQuestion), fmtTopic(l.clauseQuestion),
		}
		for i := range l.probes {
			texts = append(texts, l.probe(i, "topic"))
		}
		for _, q := range genericQuestions("Title", l) {
			texts = append(texts, q.text)
		}
		for _, s := range texts {
			if s == "" || strings.Contains(s, "%!") || strings.Contains(s, "%s") {
				t.Errorf("%s: bad text %q", l.tag, s)
			}
		}
		if len(l.probes) < 3 || len(l.generic) < 3 || len(l.vague) == 0 || len(l.invitations) == 0 || l.name == "" {
			t.Errorf("%s: incomplete templates", l.tag)
		}
		for i, p := range l.probes {
			if strings.Count(p, "%s") != 1 {
				t.Errorf("%s: probe %d needs exactly one %%s", l.tag, i)
			}
		}
	}
}

func fmtTopic(format string) string { return strings.Replace(format, "%s", "x", 1) }

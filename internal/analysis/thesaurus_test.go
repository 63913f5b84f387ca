package analysis

import (
	"slices"
	"strings"
	"testing"
)

// TestThesaurusTable checks the embedded table compiles and reads clauses as written:
// longest term first, negated and idiomatic words naming nothing, kin meeting as one.
func TestThesaurusTable(t *testing.T) {
	st := newStemmer()
	th, err := compileThesaurus(thesaurusText, st)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(th.families); n < 60 || n > 120 {
		t.Fatalf("%d families, want 60-120", n)
	}
	names := func(s string, negatedFrom int) []string {
		toks := tokenize(s, 0, len(s), st)
		neg := make([]bool, len(toks))
		for i := negatedFrom; i >= 0 && i < len(toks); i++ {
			neg[i] = true
		}
		var out []string
		for _, f := range th.familiesOf(toks, neg, make([]bool, len(toks))) {
			out = append(out, th.families[f].name)
		}
		return out
	}
	for _, c := range []struct {
		text       string
		negFrom    int
		want, nott string
	}{
		{"there was a sticky ring on the nightstand", -1, "dirt", ""},
		{"she went out of her way for us", -1, "kindness", ""},
		{"it was kind of slow", -1, "speed", "kindness"},
		{"the room wasn't dirty", 3, "", "dirt"},
		{"a personal touch", -1, "kindness", ""},
		{"one person behind the desk", -1, "", "gestures"},
		{"a proper written summary after each session", -1, "written_record", ""},
		{"if the tutor could write down the words", -1, "written_record", ""},
		{"the rehearsal recordings are great", -1, "", "written_record"},
	} {
		got := names(c.text, c.negFrom)
		if c.want != "" && !slices.Contains(got, c.want) {
			t.Errorf("%q: families %v, want %s", c.text, got, c.want)
		}
		if c.nott != "" && slices.Contains(got, c.nott) {
			t.Errorf("%q: families %v, must not name %s", c.text, got, c.nott)
		}
	}
	kind, _ := th.family("@kindness")
	gest := th.families[th.byWord["@gestures"]]
	if gest.word != kind.word {
		t.Errorf("kin: gestures meets as %s, kindness as %s", gest.word, kind.word)
	}
	for _, bad := range []string{"x | ? | a", "x | -", "kin | nosuch, dirt"} {
		if _, err := compileThesaurus(bad, st); err == nil || !strings.Contains(err.Error(), "thesaurus") {
			t.Errorf("%q: error %v, want a thesaurus error", bad, err)
		}
	}
}

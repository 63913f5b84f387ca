package analysis

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestAblate scores a set with some lexicon concepts removed (ABLATE=fixture:id,id), to
// see how the analyzer does on a domain its lexicon does not cover; skipped otherwise.
func TestAblate(t *testing.T) {
	spec := os.Getenv("ABLATE")
	if spec == "" {
		t.Skip()
	}
	name, ids, _ := strings.Cut(spec, ":")
	drop := map[string]bool{}
	for _, id := range strings.Split(ids, ",") {
		drop[id] = true
	}
	full := compileLexicon(newStemmer())
	lx := &lexicon{concepts: full.concepts, byFirst: map[string][]lexTerm{}}
	for k, terms := range full.byFirst {
		for _, tm := range terms {
			if tm.concept >= 0 && drop[full.concepts[tm.concept].id] {
				continue
			}
			lx.byFirst[k] = append(lx.byFirst[k], tm)
		}
	}
	a := New().(*analyzer)
	a.lex = lx
	debugf = func(format string, args ...any) {
		if strings.HasPrefix(format, "stem") {
			t.Logf(format, args...)
		}
	}
	defer func() { debugf = nil }()
	f := loadFixtures(t)[name]
	got, err := a.Analyze(context.Background(), f.input())
	if err != nil {
		t.Fatal(err)
	}
	s := f.score(t, got)
	t.Logf("recall %.2f precision %.2f traps %d\n%s", s.recall, s.precision, s.trapHits, s.report)
}

package analysis

import (
	"context"
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

// A quote too short to be read on its own takes in the sentence next to it: "Annoying." says
// nothing of what annoyed, the sentence before it does.
func TestShortQuotesTakeInTheirContext(t *testing.T) {
	tok, err := sentenceTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ text, clause, want string }{
		{"Stand there with my phone waiting on a text that takes a minute to come. Annoying.", "Annoying.",
			"Stand there with my phone waiting on a text that takes a minute to come. Annoying."},
		{"Slow. The map takes a minute to load every single time.", "Slow.", "Slow. The map takes a minute to load every single time."},
		{"Slow.", "Slow.", "Slow."}, // nothing beside it to take in
		{strings.Repeat("word ", 60) + "end. Annoying.", "Annoying.", "Annoying."}, // too long together
	} {
		var sents []*sentenceWork
		si := -1
		for i, sp := range splitSentences(c.text, tok) {
			sents = append(sents, &sentenceWork{sp: sp})
			if c.text[sp.start:sp.end] == c.clause {
				si = i
			}
		}
		if si < 0 {
			t.Fatalf("%q: no sentence %q", c.text, c.clause)
		}
		if !needsContext(c.text, sents[si].sp, false) {
			t.Fatalf("%q needs no context", c.clause)
		}
		if got := withContext(sents, si, sents[si].sp); c.text[got.start:got.end] != c.want {
			t.Errorf("%q: quote %q, want %q", c.text, c.text[got.start:got.end], c.want)
		}
	}

	// Over every development set, a quote under four words is rare (2.7% of quotes before
	// quotes took in their context), and every quote is still an exact substring.
	sets := loadFixtures(t)
	for _, d := range developmentDirs {
		maps.Copy(sets, loadDir(t, filepath.Join("testdata", d), d+"/"))
	}
	var quotes, short int
	for name, f := range sets {
		in := f.input()
		found, err := New().Analyze(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, fd := range found {
			for _, e := range fd.Evidence {
				quotes++
				if len(strings.Fields(e.Quote)) < 4 {
					short++
				}
			}
		}
	}
	if quotes == 0 || float64(short) > 0.005*float64(quotes) {
		t.Errorf("%d of %d quotes are under four words", short, quotes)
	}
}

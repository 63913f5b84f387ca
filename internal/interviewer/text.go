package interviewer

import (
	"slices"
	"strings"
	"unicode"
)

// normalize makes texts comparable: lower case, single spaces, no surrounding space. It
// decides whether a stored turn is a text the protocol asked, so it must not depend on
// anything but the text.
func normalize(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// trimSentence drops surrounding space and trailing sentence punctuation, so a question
// or title can be embedded in another sentence.
func trimSentence(s string) string {
	return strings.TrimRightFunc(strings.TrimSpace(s), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(".!?;:…？。", r)
	})
}

// shorten cuts s to at most limit runes, at a word boundary where there is one, and marks
// the cut with an ellipsis.
func shorten(s string, limit int) string {
	runes := []rune(s)
	if len(runes) <= limit {
		return s
	}
	cut := string(runes[:limit])
	if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// words splits s into lower-case words without surrounding punctuation; inner punctuation
// stays, so "n/a", "k.a." and "don't" remain one word each.
func words(s string) []string {
	fields := strings.Fields(strings.ToLower(strings.ReplaceAll(s, "’", "'")))
	out := fields[:0]
	for _, f := range fields {
		if w := strings.TrimFunc(f, isOuterPunct); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// isOuterPunct is punctuation or a symbol that wraps a word rather than belongs to it.
func isOuterPunct(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }

// containsWords reports whether phrase occurs in text as a run of whole words.
func containsWords(text, phrase []string) bool {
	if len(phrase) == 0 {
		return false
	}
	for i := 0; i+len(phrase) <= len(text); i++ {
		if slices.Equal(text[i:i+len(phrase)], phrase) {
			return true
		}
	}
	return false
}

// wordShare is the share of the distinct words of phrase that text holds, 0 for a phrase
// of no words.
func wordShare(phrase, text []string) float64 {
	distinct := make(map[string]bool, len(phrase)) // looked up only
	for _, w := range phrase {
		distinct[w] = true
	}
	if len(distinct) == 0 {
		return 0
	}
	held := 0
	for w := range distinct {
		if slices.Contains(text, w) {
			held++
		}
	}
	return float64(held) / float64(len(distinct))
}

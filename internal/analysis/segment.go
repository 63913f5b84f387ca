package analysis

import (
	"strings"
	"sync"

	"github.com/neurosnap/sentences"
	"github.com/neurosnap/sentences/english"
)

// The sentence tokenizer is neurosnap/sentences (Punkt) with its English model, which the
// module embeds; it knows abbreviations, so "Dr. Lee" does not end a sentence. Loading the
// model parses 400 kB of JSON, so it is done once; the tokenizer is read-only afterwards
// and safe to share.
var (
	sentOnce sync.Once
	sentTok  *sentences.DefaultSentenceTokenizer
	sentErr  error
)

func sentenceTokenizer() (*sentences.DefaultSentenceTokenizer, error) {
	sentOnce.Do(func() { sentTok, sentErr = english.NewSentenceTokenizer(nil) })
	return sentTok, sentErr
}

// sentenceTokenizerT is the shared Punkt tokenizer.
type sentenceTokenizerT = *sentences.DefaultSentenceTokenizer

// span is a byte range of a message.
type span struct{ start, end int }

// splitSentences returns the sentences of text as trimmed byte spans. Line breaks end a
// sentence too: answers typed in a chat often use them instead of full stops.
func splitSentences(text string, tok *sentences.DefaultSentenceTokenizer) []span {
	var out []span
	lineStart := 0
	for lineStart <= len(text) {
		lineEnd := strings.IndexByte(text[lineStart:], '\n')
		if lineEnd < 0 {
			lineEnd = len(text)
		} else {
			lineEnd += lineStart
		}
		line := text[lineStart:lineEnd]
		if strings.TrimSpace(line) != "" {
			for _, s := range tok.Tokenize(line) {
				sp := trimSpan(text, lineStart+s.Start, lineStart+s.End)
				if sp.end > sp.start {
					out = append(out, sp)
				}
			}
		}
		lineStart = lineEnd + 1
	}
	return out
}

func trimSpan(text string, start, end int) span {
	if start < 0 {
		start = 0
	}
	if end > len(text) {
		end = len(text)
	}
	for start < end && isSpaceByte(text[start]) {
		start++
	}
	for end > start && isSpaceByte(text[end-1]) {
		end--
	}
	return span{start, end}
}

func isSpaceByte(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// contrastMarkers open a new clause whose stance overrides the one before it: in "the
// packaging annoyed people, but I didn't notice it" the speaker's stance is the second.
var contrastMarkers = wordSet(`but however although though whereas except`)

// gapBreaks says whether the text between two words ends a clause (a semicolon, colon or
// dash) and whether it ends a negation scope (any punctuation).
func gapBreaks(gap string) (clauseBreak, scopeBreak bool) {
	if strings.ContainsAny(gap, ";:()—–") || strings.Contains(gap, " - ") {
		return true, true
	}
	if strings.ContainsAny(gap, ",.?!\"…") {
		return false, true
	}
	return false, false
}

// splitClauses cuts a sentence's words into clauses at contrast markers and at semicolons,
// colons and dashes. It returns token index ranges and whether each clause opens with a
// contrast marker.
func splitClauses(text string, toks []token) (ranges []span, contrast []bool) {
	start := 0
	openContrast := false
	for i := 1; i < len(toks); i++ {
		gap := text[toks[i-1].end:toks[i].start]
		hard, _ := gapBreaks(gap)
		marker := contrastMarkers[toks[i].low] && i+1 < len(toks)
		if marker {
			// "nothing but time", "all but", "not only … but": not a contrast.
			prev := toks[i-1].low
			if prev == "nothing" || prev == "all" || prev == "anything" || prev == "everything" {
				marker = false
			}
			// "rough though, like an hour": a sentence adverb, not a conjunction.
			if toks[i].low == "though" {
				if g := text[toks[i].end:toks[i+1].start]; strings.ContainsAny(g, ",.;") {
					marker = false
				}
			}
		}
		if hard || marker {
			ranges = append(ranges, span{start, i})
			contrast = append(contrast, openContrast)
			start = i
			openContrast = marker
		}
	}
	if start < len(toks) {
		ranges = append(ranges, span{start, len(toks)})
		contrast = append(contrast, openContrast)
	}
	return ranges, contrast
}

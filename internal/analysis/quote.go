package analysis

import "strings"

// This file cuts evidence quotes: exact substrings of the message, without the fillers
// and dangling connectives of speech at their edges.

// fillerWords may open a clause without belonging in a quote.
var fillerWords = wordSet(`but and so um uh umm er erm like honestly yeah yes oh well okay ok hmm also then plus
though however although anyway actually basically mean know just really`)

// danglingWords cannot end a quote: "… every ten minutes, which".
var danglingWords = wordSet(`which and but so because that like or um uh the a an to of with who when where
while though although if my our their your his her its`)

// quoteSpan is the clause, trimmed of leading fillers and conjunctions and of a dangling
// connective at its end; a clause of fewer than seven words is widened to its sentence
// when nothing else in the sentence was dropped, so the quote can be read on its own.
func (a *analyzer) quoteSpan(text string, sw *sentenceWork, c *clauseStance) span {
	toks := c.toks
	if len(toks) < 7 {
		whole := true
		for _, o := range sw.clauses {
			if o.drop != keep {
				whole = false
			}
		}
		if whole {
			toks = sw.toks
		}
	}
	i := 0
	for i < len(toks)-1 && fillerWords[toks[i].low] {
		i++
	}
	j := len(toks) - 1
	for j > i && danglingWords[toks[j].low] {
		j--
	}
	start := toks[i].start
	end := toks[j].end
	// Keep a closing full stop or question mark, which reads better and is still exact.
	if end < len(text) && strings.ContainsRune(".?!", rune(text[end])) {
		end++
	}
	return span{start, end}
}

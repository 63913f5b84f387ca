package analysis

import (
	"slices"
	"strings"
	"unicode"
)

// clauseRec is what the clustering keeps of one own-stance clause: no words, only its
// place, stance and concepts, so that 10,000 interviews fit in memory comfortably.
type clauseRec struct {
	iv    int32 // interview index
	msg   int32 // message index within the interview
	start int32 // the clause's span in the message content
	end   int32
	// from and to are its quote's span: the clause's, or wider for a clause too short to be
	// read on its own, which takes in the sentence next to it (withContext).
	from, to int32
	qid      int16 // index of the question in the campaign, -1 if it is not one of them
	class    polClass
	explicit bool // its own words carry the stance, not only the question's prior
	noPrior  bool // the answer opened with a flat denial: no prior applies
	// fromAnswer says the stance is only the whole answer's: weak enough that only a
	// discovered cluster, which also needs the words others use, takes the clause.
	fromAnswer bool
	msgPol     int8 // the sign of the whole answer's own evaluative words
	lukewarm   bool // its praise is only acceptance ("it was fine")
	concepts   []conceptWeight
	stems      []string // words outside the lexicon, for themes it has no concept for
	families   []int16  // thesaurus families it names (thesaurus.go), ascending
	// famStance is the stance its families of praise or complaint give it ("sticky
	// ring on the nightstand", "they were just kind people") when its own polarity
	// words say nothing against it; co-occurrence clusters read it (cooccur.go).
	famStance polClass
}

type conceptWeight struct {
	concept int
	weight  float64
}

// sentenceWork groups a sentence's clauses while the stance rules run across them.
type sentenceWork struct {
	sp      span
	toks    []token
	clauses []*clauseStance
	wish    bool
}

// analyzeMessage turns one participant message into own-stance clause records.
func (a *analyzer) analyzeMessage(iv, msg int, text string, q question, protocol map[string]bool,
	st *stemmer, tok sentenceTokenizerT, stats *questionStats, out []clauseRec) []clauseRec {
	var sents []*sentenceWork
	for _, sp := range splitSentences(text, tok) {
		toks := tokenize(text, sp.start, sp.end, st)
		if len(toks) == 0 {
			continue
		}
		sw := &sentenceWork{sp: sp, toks: toks}
		ranges, contrast := splitClauses(text, toks)
		for k, r := range ranges {
			sw.clauses = append(sw.clauses, &clauseStance{toks: toks[r.start:r.end], from: r.start, to: r.end, contrast: contrast[k]})
		}
		sents = append(sents, sw)
	}
	a.markEcho(text, sents, q)
	denial := false
	firstContent := true
	for si, sw := range sents {
		cf := counterfactual(sw.toks)
		cond := conditional(sw.toks)
		strongW, weakW := wishMarkers(sw.toks)
		wishy := strongW || (weakW && (cond || q.prior == classWish))
		negMain := negatedMain(sw.toks)
		for _, c := range sw.clauses {
			if c.drop == dropEcho {
				continue
			}
			// A report of someone else's view drops the clause when it opens it ("My
			// husband thought the recipes took forever"); later in the clause it only cuts
			// the clause short ("I get interrupted every ten minutes, which, people think
			// they're being friendly").
			if k := reported(text, c.toks, c.from == 0); k >= 0 {
				if cut := fragmentStart(text, c.toks, k); cut > 3 {
					c.toks = c.toks[:cut]
					c.to = c.from + cut
				} else {
					// Read, though not the speaker's: "My colleague said the setup was slow,
					// but for me it was quick" answers it (concede).
					probe := &clauseStance{toks: slices.Clone(c.toks), from: c.from, to: c.to}
					a.analyzeClause(text, probe, protocol)
					c.pol, c.drop = probe.pol, dropReported
					continue
				}
			}
			// "I'm the wrong person to ask", "I'm not the best judge": the speaker
			// disowns a view, and the clause's words ("wrong", "noisy") are none of theirs.
			if len(c.toks) > 0 && disclaims(clauseText(text, c.toks)) {
				c.drop = dropReported
				continue
			}
			if k := redirected(c.toks); k > 0 {
				c.toks, c.from = c.toks[k:], c.from+k
			}
			a.analyzeClause(text, c, protocol)
			if counterfactual(c.toks) || (cf && conditional(c.toks)) {
				if !hasWishMarker(c.toks) || !cf {
					c.drop = dropHypothetical
				}
			}
		}
		// A short flat denial opening the answer ("Honestly not much.", "No.") cancels the
		// question's prior for the whole answer.
		if firstContent && hasContentOrNeg(sw) {
			firstContent = false
			if len(sw.toks) <= 5 && containsNegator(sw.toks) {
				denial = true
			}
		}
		switch {
		case cf && !wishy:
		case negMain && cond && !wishy:
		case wishy:
			sw.wish = true
		case cond && q.prior == classWish:
			sw.wish = true
		case q.prior == classWish && si > 0 && sents[si-1].wish && startsAlternative(sw.toks):
			sw.wish = true
		// A bare noun phrase names a change when it opens the answer or follows a wish
		// it spells out ("Something for teatime. A sandwich, a bit of soup.").
		case q.prior == classWish && asksFor(sw.toks, si == firstSentence(sents) || (si > 0 && sents[si-1].wish)):
			sw.wish = true
		}
	}
	a.concede(sents)
	prior := q.prior
	if denial {
		prior = classNone
	}
	// The answer's own evaluative words outrank any prior: in "Refills are okay, for us.
	// I get a text when it's ready", the second sentence is no complaint, whatever the
	// question or the other answers suggest.
	var msgPol float64
	for _, sw := range sents {
		for _, c := range sw.clauses {
			if c.drop == keep {
				msgPol += c.pol
			}
		}
	}
	if (prior == classNeg && msgPol > 0) || (prior == classPos && msgPol < 0) {
		prior = classNone
	}
	for si, sw := range sents {
		var sentPol float64
		for _, c := range sw.clauses {
			if c.drop == keep {
				sentPol += c.pol
			}
		}
		for _, c := range sw.clauses {
			if c.drop != keep {
				continue
			}
			rec := clauseRec{iv: int32(iv), msg: int32(msg), qid: int16(q.id), noPrior: denial || c.denies, msgPol: sign(msgPol)}
			borrowed := false
			// "My wife handles the refills": a plain statement about someone else says
			// nothing of the speaker's own stance, whatever the rest of the answer says.
			others := c.pol == 0 && aboutOthers(c.toks)
			if others {
				rec.noPrior = true
			}
			switch {
			case others:
			case sw.wish && !(c.pol > 0 && !conditional(c.toks) && !hasWishMarker(c.toks)) && !(c.pol < 0 && prior != classWish):
				rec.class, rec.explicit = classWish, true
			case c.pol < 0:
				rec.class, rec.explicit = classNeg, true
			case c.pol > 0:
				rec.class, rec.explicit = classPos, true
			case sentPol < 0:
				rec.class = classNeg
			case sentPol > 0:
				rec.class = classPos
			case (prior == classNeg || prior == classPos) && !c.denies:
				rec.class = prior
			// Last, the answer as a whole: a plain statement in an answer whose own
			// evaluative words are clearly one way shares their stance ("It stings. The
			// badge reports went to the directors.").
			case msgPol <= -1 && !c.denies && !denial:
				rec.class, rec.fromAnswer = classNeg, true
			case msgPol >= 1 && !c.denies && !denial:
				rec.class, rec.fromAnswer = classPos, true
			}
			if q.id >= 0 && rec.explicit {
				switch rec.class {
				case classNeg:
					stats.neg[q.id]++
				case classPos:
					stats.pos[q.id]++
				}
			}
			rec.lukewarm = rec.class == classPos && rec.explicit && c.lukewarm
			rec.concepts = a.weighConcepts(c)
			rec.stems = freeStems(c)
			rec.families = a.thes.familiesOf(c.toks, c.negated, c.blocked)
			if fs := a.thes.stanceOf(rec.families); (fs == classNeg && c.pol <= 0) || (fs == classPos && c.pol >= 0) {
				rec.famStance = fs
			}
			if len(rec.concepts) == 0 && len(rec.stems) == 0 && len(rec.families) == 0 {
				// A verdict with no topic word of its own ("Lord, it's a lot.", "she never
				// made me feel stupid") is about what the answer was just talking about.
				n := len(out)
				if !rec.explicit || n == 0 || out[n-1].iv != rec.iv || out[n-1].msg != rec.msg {
					continue
				}
				rec.concepts, rec.stems, rec.families = out[n-1].concepts, out[n-1].stems, out[n-1].families
				borrowed = true
			}
			sp := a.quoteSpan(text, sw, c)
			rec.start, rec.end = int32(sp.start), int32(sp.end)
			quote := sp
			if needsContext(text, sp, borrowed) {
				quote = withContext(sents, si, sp)
			}
			rec.from, rec.to = int32(quote.start), int32(quote.end)
			out = append(out, rec)
		}
	}
	return out
}

// maxContextQuote is the longest a quote widened for context may be: still one read at a
// glance.
const maxContextQuote = 220

// needsContext says a quote cannot support its finding on its own: a verdict under seven
// words that borrowed its topic from what came before ("Annoying."), or any quote under
// four words ("Slow.", "the insurance.").
func needsContext(text string, sp span, borrowed bool) bool {
	q := text[sp.start:sp.end]
	return wordsUnder(q, 4) || (borrowed && wordsUnder(q, 7))
}

// wordsUnder says s has fewer than n words (runs of non-space, as strings.Fields counts
// them), without splitting it: it runs once for every clause of every answer.
func wordsUnder(s string, n int) bool {
	words, inWord := 0, false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if !space && !inWord {
			if words++; words >= n {
				return false
			}
		}
		inWord = !space
	}
	return true
}

// withContext widens the quote sp of sentence si to take in the sentence before it, which
// a short verdict is about ("Stand there waiting on a text that takes a minute to come.
// Annoying."), or, for an answer's first sentence, the one after it, which says what it
// meant ("Slow. The map takes a minute to load."). Too long together, it stays as it is.
func withContext(sents []*sentenceWork, si int, sp span) span {
	switch {
	case si > 0 && sp.end-sents[si-1].sp.start <= maxContextQuote:
		return span{sents[si-1].sp.start, sp.end}
	case si == 0 && si+1 < len(sents) && sents[si+1].sp.end-sp.start <= maxContextQuote:
		return span{sp.start, sents[si+1].sp.end}
	}
	return sp
}

// freeStems are the clause's own content words that no lexicon term covers: candidates
// for a theme the lexicon does not know. Protocol words are allowed here: a question
// about "slots" is answered with "slots", and only the stance tells a theme from an echo.
func freeStems(c *clauseStance) []string {
	var out []string
	for i, t := range c.toks {
		// Polarity words say how, not what; numbers and names are not topics.
		if c.covered[i] || c.negated[i] || !isContent(t) || len(t.stem) < 3 || (len(t.stem) == 3 && shortFunctionStems[t.stem]) ||
			genericStems[t.stem] || (t.upper && i > 0) || polarityWord(t.low) || numberWords[t.low] {
			continue
		}
		if !slices.Contains(out, t.stem) {
			out = append(out, t.stem)
		}
	}
	return out
}

// shortFunctionStems are three-letter words that are verbs, function words or
// interjections rather than names of things: short nouns ("bus", "box", "fee") and
// adjectives ("new", "hot") are topics, "saw", "put" or "ugh" are not.
var shortFunctionStems = wordSet(`put sat met set buy eat run saw ran won tri lie fit hit add bet cut ate tap owe win rip
beg die dip mix ask say see use sit fix let get got did has had led fed dug hid hug nod sip rub own out off who
how why his him her its per ago yet few any non may ain isn via etc hmm hey ugh oof nah lol sir bro wow yep huh
aww mom dad mum son guy man men kid sis`)

func sign(f float64) int8 {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

func hasContentOrNeg(sw *sentenceWork) bool {
	for _, t := range sw.toks {
		if isContent(t) || isNegator(t.low) {
			return true
		}
	}
	return false
}

func containsNegator(toks []token) bool {
	for _, t := range toks {
		if isNegator(t.low) {
			return true
		}
	}
	return false
}

// startsAlternative: "Or a monthly box …", "Or if I could …" continue the wish before.
func startsAlternative(toks []token) bool {
	return len(toks) > 0 && (toks[0].low == "or" || toks[0].low == "also" || toks[0].low == "especially" || toks[0].low == "plus")
}

// markEcho drops the opening words of an answer when they only repeat the question
// ("Value for money? Um, …", "Frustrated? Honestly not much."): they are the
// interviewer's vocabulary, not the participant's stance.
func (a *analyzer) markEcho(text string, sents []*sentenceWork, q question) {
	for _, sw := range sents {
		k, content, echo, polar := 0, 0, true, false
		for k < len(sw.toks) {
			t := sw.toks[k]
			if isContent(t) {
				content++
				if !q.stems[t.stem] {
					echo = false
				}
			}
			if (a.pol.of(t) != 0 && !q.stems[t.stem]) || isNegator(t.low) {
				polar = true
			}
			k++
			if k < len(sw.toks) {
				if _, brk := gapBreaks(text[t.end:sw.toks[k].start]); brk {
					break
				}
			}
		}
		if content == 0 {
			continue // "Hmm." or "Honestly?": look at the next sentence
		}
		// "Refills are okay, for us" answers the question in its words; "Frustrated?"
		// only repeats it.
		asked := k >= len(sw.toks) || strings.Contains(text[sw.toks[k-1].end:sw.toks[k].start], "?")
		if k >= len(sw.toks) {
			asked = strings.Contains(text[sw.toks[k-1].end:sw.sp.end], "?")
		}
		if !echo || content > 5 || (polar && !asked) {
			return
		}
		// Cut the echoed words out of the first clause; a clause left empty is dropped.
		for _, c := range sw.clauses {
			if c.from >= k {
				break
			}
			if c.to <= k {
				c.drop = dropEcho
				continue
			}
			c.toks = c.toks[k-c.from:]
			c.from = k
		}
		return
	}
}

// concede applies "A, but B": when B's stance opposes A's, or B dismisses a topic A only
// named, A is conceded and is no evidence. A contrast clause with no polarity of its own
// takes the opposite of A's ("The packaging didn't bother me. But the cost did."), also when
// A was someone else's view.
func (a *analyzer) concede(sents []*sentenceWork) {
	var prev *clauseStance
	for _, sw := range sents {
		for _, c := range sw.clauses {
			if c.drop == dropEcho {
				continue
			}
			// "My colleague said the setup was slow, but for me it was quick": the speaker sets
			// their own experience against someone else's view, denying it is theirs, so the
			// clause takes no stance from the question or the answer around it.
			if c.contrast && prev != nil && prev.drop == dropReported && c.pol == 0 && prev.pol != 0 && speaksForSelf(c.toks) {
				c.denies = true
			}
			if c.contrast && prev != nil && prev.drop == keep {
				switch {
				// "per seat gets expensive …, but that wasn't us": B denies A applies.
				// "I know people fight over the rooms, but …": A is a concession.
				case c.denies || concessive(prev.toks):
					prev.drop = dropConceded
				case c.pol == 0 && prev.pol != 0:
					// "The team's nice but everyone's heads-down": the speaker's point is
					// the second clause, which takes the opposite stance of the first.
					c.pol = -prev.pol
					if prev.pol > 0 {
						prev.drop = dropConceded
					}
				case c.pol*prev.pol < 0:
					prev.drop = dropConceded
				case c.pol > 0 && prev.pol == 0 && len(prev.hits) > 0:
					prev.drop = dropConceded
				}
			}
			prev = c
		}
	}
}

// speaksForSelf says a clause puts the speaker forward ("for me", "I", "personally"), as
// one that answers someone else's view with their own does.
func speaksForSelf(toks []token) bool {
	return slices.ContainsFunc(toks, func(t token) bool {
		switch t.low {
		case "i", "me", "my", "mine", "myself", "personally", "i'm", "i've", "i'd", "we", "us", "our":
			return true
		}
		return false
	})
}

// concessive says a clause opens by granting a point the next one will qualify.
func concessive(toks []token) bool {
	if len(toks) < 2 {
		return false
	}
	a, b := toks[0].low, toks[1].low
	return (a == "i" && (b == "know" || b == "understand" || b == "get" || b == "admit")) ||
		a == "admittedly" || a == "granted" || (a == "sure" && len(toks) > 2)
}

// weighConcepts scores the clause's concepts: a strong term counts 1, a weak one 0.5,
// and a term made only of protocol words (the campaign's own vocabulary) three quarters,
// so an answer that merely repeats the questions' words never makes a theme on its own.
// Whether the concept is present is decided once the clause's stance is final (present).
func (a *analyzer) weighConcepts(c *clauseStance) []conceptWeight {
	var out []conceptWeight
	for _, h := range c.hits {
		if h.negated {
			continue
		}
		w := 1.0
		if h.weak {
			w = 0.5
		}
		if h.protocol {
			w *= 0.75
		}
		found := false
		for i := range out {
			if out[i].concept == h.concept {
				out[i].weight += w
				found = true
			}
		}
		if !found {
			out = append(out, conceptWeight{h.concept, w})
		}
	}
	kept := out[:0]
	for _, cw := range out {
		if cw.weight >= 0.5 {
			kept = append(kept, cw)
		}
	}
	return kept
}

// present says whether a concept weight is enough: a strong term (1), a protocol term
// (0.75) when the clause has a stance, or a weak term (0.5) when the stance is in the
// clause's own words.
func present(w float64, explicit bool) bool {
	return w >= 0.75 || (explicit && w >= 0.5)
}

// aboutOthers says a clause's subject is someone else and the speaker is not in it: "my
// wife handles the refills", "she's had some drama with it".
func aboutOthers(toks []token) bool {
	k := 0
	if k < len(toks) && (toks[k].low == "my" || toks[k].low == "our") {
		k++
	}
	if k >= len(toks) {
		return false
	}
	w := toks[k].low
	if b, _, ok := strings.Cut(w, "'"); ok {
		w = b
	}
	if !thirdParties[w] || w == "people" || w == "everyone" || w == "everybody" || w == "team" || w == "kids" || w == "children" {
		return false
	}
	for _, t := range toks {
		switch t.low {
		case "i", "me", "i'm", "i've", "i'd", "i'll", "we", "us", "we're", "we've", "we'd":
			return false
		}
	}
	return true
}

// firstSentence is the index of the answer's first sentence with a content word.
func firstSentence(sents []*sentenceWork) int {
	for i, sw := range sents {
		for _, t := range sw.toks {
			if isContent(t) {
				return i
			}
		}
	}
	return -1
}

// disclaimers are the ways a speaker says a question is not theirs to answer ("I
// couldn't tell you" is left out: it is as often "I couldn't tell you how relieved I was").
var disclaimers = []string{"wrong person to ask", "not the best judge", "not the best person to", "not the right person",
	"can't speak to", "can't really speak to", "cannot speak to", "i can't say", "i couldn't say",
	"i couldn't tell you about", "i can't tell you about", "i don't have much to say about", "i've nothing to say about",
	"i have nothing to say about", "no opinion on", "i've never tried", "i never tried", "i haven't tried"}

func disclaims(clause string) bool {
	low := strings.ToLower(clause)
	for _, d := range disclaimers {
		if containsWord(low, d) {
			return true
		}
	}
	return false
}

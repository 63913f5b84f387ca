package analysis

import (
	"slices"
	"strings"
	"unicode"
)

// This file reads one clause: which lexicon concepts it names, which words a negation
// reaches, and what polarity its own words carry.

// isAllCaps says a word is an acronym ("IT", "SSO").
func isAllCaps(text string, t token) bool {
	w := text[t.start:t.end]
	return len(w) > 1 && !strings.ContainsFunc(w, unicode.IsLower)
}

// discourseWords are polar inside a phrase ("it was fine", "came out okay", "I can
// read it fine"), not when they open one as a discourse marker ("okay, so …", "which,
// fine", "Well, …").
var discourseWords = wordSet(`okay ok fine alright well`)

// notEvaluative says a polarity word is used in a sense that evaluates nothing: "the fine"
// and "a parking fine" are a penalty.
func notEvaluative(text string, toks []token, i int) bool {
	if toks[i].low != "fine" || i == 0 || !nounDeterminers[toks[i-1].low] {
		return false
	}
	return i+1 == len(toks) || strings.ContainsAny(text[toks[i].end:toks[i+1].start], ",.;:?!") || fineAfter[toks[i+1].low]
}

// nounDeterminers before "fine" make it the penalty: "the fine", "a parking fine".
var nounDeterminers = wordSet(`the a that this my your his her their our parking late`)

// fineAfter are the words that follow "fine" the noun, not the adjective: "the fine was",
// "the fine for".
var fineAfter = wordSet(`was is for of came went on from`)

// vocatives are the terms of address that are also polarity words.
var vocatives = wordSet(`love dear sweetheart darling`)

// hedges are negations that deny nothing about the topic: "I don't know", "not sure".
var hedgeAfter = wordSet(`know sure think remember mean gonna lie kidding offense offence tell say judge wait`)

// deniedOpinionVerbs state an opinion that a negation before them denies as a whole.
var deniedOpinionVerbs = wordSet(`say call`)

// opinionDenied is the index of the opinion verb a negator at i denies ("wouldn't say",
// "don't really think"), when a proposition follows it in the same phrase; else -1. "I
// don't think so" and "I can't say enough" deny nothing that follows.
func opinionDenied(text string, toks []token, i int) int {
	for j := i + 1; j < len(toks) && j <= i+2; j++ {
		if _, brk := gapBreaks(text[toks[j-1].end:toks[j].start]); brk {
			return -1
		}
		if !deniedOpinionVerbs[toks[j].low] {
			continue
		}
		if j+1 >= len(toks) || toks[j+1].low == "so" || toks[j+1].low == "enough" {
			return -1
		}
		if _, brk := gapBreaks(text[toks[j].end:toks[j+1].start]); brk {
			return -1
		}
		return j
	}
	return -1
}

// correctedLater says a flipped word is followed by "just"/"only": "not hard, just long".
func correctedLater(toks []token, j int) bool {
	for k := j + 1; k < len(toks) && k <= j+5; k++ {
		if toks[k].low == "just" || toks[k].low == "only" || toks[k].low == "merely" {
			return true
		}
	}
	return false
}

// relief says a negation spares an obligation: "didn't have to", "don't need to".
func relief(toks []token, i int) bool {
	// "Fix it so I don't have to check": the purpose of a request, not a relief had.
	for j := max(0, i-3); j < i; j++ {
		if toks[j].low == "so" {
			return false
		}
	}
	for j := i + 1; j+1 < len(toks) && j <= i+2; j++ {
		n := toks[j].low
		if (n == "have" || n == "has" || n == "had" || n == "need" || n == "needed") && toks[j+1].low == "to" {
			return true
		}
	}
	return false
}

// statesLack says a negation states that something is missing or does not work.
func statesLack(toks []token, i int) bool {
	l := toks[i].low
	// "there's no staff parking", "there's nothing left to book", "there's never a room";
	// but a bare "no kids" or "nothing there" only says the topic does not apply.
	if existential[l] && i > 0 {
		p := toks[i-1].low
		if p == "there's" || p == "there" || p == "is" || p == "was" || p == "are" || p == "were" || p == "there're" {
			return true
		}
	}
	if lackNegators[l] {
		return true
	}
	for j := i + 1; j < len(toks) && j <= i+2; j++ {
		n := toks[j].low
		if l == "never" && (n == "a" || n == "an" || n == "any" || n == "enough") {
			return true
		}
		if existential[l] {
			continue
		}
		if lackVerbs[n] {
			return true
		}
	}
	return false
}

// dismissal says the negator at i denies that something matters: "not a big deal", "no
// big deal", "never a huge deal".
func dismissal(toks []token, i int) bool {
	j := i + 1
	if j < len(toks) && (toks[j].low == "a" || toks[j].low == "such") {
		j++
	}
	if j+1 < len(toks) && (toks[j].low == "big" || toks[j].low == "huge") && toks[j+1].low == "deal" {
		return true
	}
	// "Money does not come into it", "price hasn't really come into it".
	j = skipAdverbs(toks, i+1)
	return j+2 < len(toks) && (toks[j].low == "come" || toks[j].low == "comes" || toks[j].low == "came") &&
		toks[j+1].low == "into" && toks[j+2].low == "it"
}

// analyzeClause finds lexicon terms, negation scopes and polarity in one clause.
func (a *analyzer) analyzeClause(text string, c *clauseStance, protocol map[string]bool) {
	toks := c.toks
	c.negated = make([]bool, len(toks))
	c.covered = make([]bool, len(toks))
	inPhrase := make([]bool, len(toks))
	weakPhrase := make([]bool, len(toks))
	blocked := make([]bool, len(toks))
	c.blocked = blocked
	for i := 0; i < len(toks); {
		m, ok := a.lex.match(toks, i)
		if !ok {
			i++
			continue
		}
		for j := i; j < i+len(m.stems); j++ {
			inPhrase[j] = len(m.stems) > 1
			weakPhrase[j] = m.weak
			blocked[j] = m.concept < 0
		}
		for j := i; j < i+len(m.stems); j++ {
			c.covered[j] = true
		}
		if m.concept >= 0 {
			prot := true
			for j := i; j < i+len(m.stems); j++ {
				if isContent(toks[j]) && !protocol[toks[j].stem] {
					prot = false
				}
			}
			c.hits = append(c.hits, termHit{concept: m.concept, weak: m.weak, protocol: prot, first: i, neg: m.neg})
		}
		i += len(m.stems)
	}
	// Negation: a scope runs from a negator to the next punctuation, at most six words,
	// and ends early at the first polarity word, which it flips ("didn't bother me").
	pols := make([]float64, len(toks))
	for i, t := range toks {
		if blocked[i] {
			continue
		}
		pols[i] = a.pol.of(t)
		if pols[i] != 0 && discourseWords[t.low] {
			if i == 0 || strings.ContainsAny(text[toks[i-1].end:t.start], ",.;:?!—–(") {
				pols[i] = 0
			}
		}
		if pols[i] != 0 && notEvaluative(text, toks, i) {
			pols[i] = 0
		}
		// "dead easy", "stupidly quick", "awfully nice": a word of harm used as a degree
		// adverb says how much, and the word after it says what.
		if pols[i] < 0 && degreeAdverbs[t.low] && i+1 < len(toks) && !strings.ContainsAny(text[t.end:toks[i+1].start], ",.;:?!") &&
			(a.pol.of(toks[i+1]) != 0 || gradable[toks[i+1].low]) {
			pols[i] = 0
		}
		// "idiot-proof", "fool-proof": proof against the harm is praise.
		if pols[i] < 0 && i+1 < len(toks) && toks[i+1].low == "proof" && text[t.end:toks[i+1].start] == "-" {
			pols[i] = 1
		}
		// "Stop the selling, love.": a term of address set off by a comma at the end of
		// its phrase praises nobody.
		if pols[i] != 0 && vocatives[t.low] && i > 0 && strings.Contains(text[toks[i-1].end:t.start], ",") &&
			(i+1 == len(toks) || strings.ContainsAny(text[t.end:toks[i+1].start], ",.;:?!")) {
			pols[i] = 0
		}
	}
	// "They could've tried it in one store first": what others should have done is a
	// reproach.
	for i := range toks {
		if reproach(toks, i) {
			pols[i] = -1
		}
	}
	// Phrases that contain a negator are complaints as a whole ("didn't work",
	// "couldn't find"). A weak phrase only names a topic ("I'd never made risotto" is
	// learning): its negator negates as any other does, or "the app never made me wait"
	// would be a complaint.
	for i := range toks {
		if inPhrase[i] && isNegator(toks[i].low) && !weakPhrase[i] {
			pols[i] = -1
		}
	}
	doubt := make([]bool, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !isNegator(t.low) || (inPhrase[i] && !weakPhrase[i]) || doubt[i] {
			continue
		}
		if next, ok := negIdioms[t.low]; ok && i+1 < len(toks) && toks[i+1].low == next {
			continue
		}
		// "I wouldn't say the audit was confusing", "I wouldn't call it cheap": a denied
		// opinion takes back what follows it, to the end of its phrase, and says
		// nothing either way in its place.
		if v := opinionDenied(text, toks, i); v > 0 {
			c.denies = true
			for j := v + 1; j < len(toks); j++ {
				if _, brk := gapBreaks(text[toks[j-1].end:toks[j].start]); brk {
					break
				}
				c.negated[j], pols[j], doubt[j] = true, 0, true
			}
			continue
		}
		// "It's not a big deal", "no big deal": a dismissal, no complaint, and none to
		// inherit from the question.
		if dismissal(toks, i) {
			c.denies = true
			continue
		}
		flipped := false
		hedge := false
		reach, belief := i+6, false // the scope's last word, and whether a denied belief opens it
		for j := i + 1; j < len(toks) && j <= i+3; j++ {
			if _, brk := gapBreaks(text[toks[j-1].end:toks[j].start]); brk {
				break
			}
			// "I don't think there's much to worry about", "I don't think it was worth
			// it": a denied belief denies what follows it, so the scope runs on from the
			// verb; like a hedge, it lends the clause no stance from the question. "I don't
			// think so" denies nothing here.
			if toks[j].low == "think" && j+1 < len(toks) && toks[j+1].low != "so" {
				if _, brk := gapBreaks(text[toks[j].end:toks[j+1].start]); !brk {
					reach, belief = j+6, true
					c.denies = true
					break
				}
			}
			if hedgeAfter[toks[j].low] {
				hedge = true
				c.denies = true // "I couldn't tell you": no stance, and none to inherit
				// "I don't know if I feel more in control": what follows is in doubt.
				if j+1 < len(toks) && (toks[j+1].low == "if" || toks[j+1].low == "whether") {
					for k := j + 1; k < len(toks); k++ {
						pols[k] = 0
						doubt[k] = true
					}
				}
				break
			}
		}
		for j := i + 1; !hedge && j < len(toks) && j <= reach; j++ {
			if _, brk := gapBreaks(text[toks[j-1].end:toks[j].start]); brk {
				break
			}
			// A denied belief denies its verdict, not its topic: "the price" stays the
			// price in "I don't think the price was worth it".
			c.negated[j] = !belief || pols[j] != 0
			if pols[j] != 0 {
				pols[j] = -pols[j]
				flipped = true
				// "It's not hard, it's just long": a denial corrected by "just" or "only"
				// concedes nothing good.
				if pols[j] > 0 && correctedLater(toks, j) {
					pols[j] = 0
				}
				break
			}
			if v, ok := flipOnly[toks[j].low]; ok {
				if v < 0 && relief(toks, i) {
					break // "I didn't need anyone to help": spared, not failed
				}
				pols[j] = v
				flipped = true
				break
			}
		}
		// A negation that flips nothing but states a lack or a failure ("there's no way
		// to send them back", "there's never a room", "I can't do either end of the school
		// day", "the menu doesn't exist anymore") is a mild complaint. Other negated events
		// ("she's never once asked me") say nothing either way.
		if !flipped && !hedge && (!inPhrase[i] || weakPhrase[i]) {
			switch {
			case relief(toks, i):
				// "I didn't have to leave my desk", "you don't need to call": an
				// obligation spared is a relief.
				pols[i] = 0.5
			case statesLack(toks, i):
				pols[i] = -0.5
			default:
				c.denies = true
			}
		}
	}
	for i := range c.hits {
		h := &c.hits[i]
		h.negated = c.negated[h.first]
		if h.neg && !h.negated {
			c.pol--
		}
	}
	// "too" before a content word is a complaint ("too long", "too much"), unless negated.
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].low == "too" && !c.negated[i] && pols[i+1] == 0 {
			if _, brk := gapBreaks(text[toks[i].end:toks[i+1].start]); !brk {
				pols[i] = -1
			}
		}
	}
	// "We signed up to save money", "I'll save money": a purpose or an expectation,
	// not an evaluation of what happened.
	for i := 1; i < len(toks); i++ {
		if p := toks[i-1].low; pols[i] > 0 && (p == "to" || strings.HasSuffix(p, "'ll")) {
			pols[i] = 0
		}
	}
	storyCues(text, toks, pols, c.negated)
	complaintFrames(toks, pols, c.negated)
	reliefCues(toks, pols)
	valueCues(toks, pols)
	idiomCues(toks, pols, c.negated)
	for i := range pols {
		if doubt[i] {
			pols[i] = 0
		}
	}
	c.lukewarm = true
	for i, p := range pols {
		c.pol += p
		if p > 0 && !lukewarmWords[toks[i].low] && !grudging(toks, i) {
			c.lukewarm = false
		}
	}
	c.lukewarm = c.pol > 0 && (c.lukewarm || conceded(clauseText(text, toks)))
}

// clauseText is the clause's own words in the message.
func clauseText(text string, toks []token) string {
	if len(toks) == 0 {
		return ""
	}
	return text[toks[0].start:toks[len(toks)-1].end]
}

// concessions grant a point before or instead of the speaker's real view: praise said
// this way answers a complaint rather than making one of its own.
var concessions = []string{"to be fair", "in fairness", "credit where", "say that for", "give them that", "give it that", "i'll grant"}

func conceded(text string) bool {
	low := strings.ToLower(text)
	for _, c := range concessions {
		if strings.Contains(low, c) {
			return true
		}
	}
	return false
}

// lukewarmWords accept rather than praise: "it was fine", "the price is okay".
var lukewarmWords = wordSet(`fine okay ok alright reasonable fair decent acceptable`)

// grudging says the good word at i is hedged to mere adequacy: "easy enough", "quick
// enough for me".
func grudging(toks []token, i int) bool {
	return i+1 < len(toks) && toks[i+1].low == "enough"
}

// praiseIdioms are set phrases of praise with no evaluative word in them, each a run of
// words ("*" is any one word); the last word carries the praise.
const praiseIdioms = `made a difference|made such a difference|made a huge difference|made a big difference
|made a real difference|makes a difference|makes a huge difference|makes such a difference|makes a real difference
|made all the difference|makes all the difference|game changer|game-changer|couldn't live without|could not live without
|can't live without|wouldn't be without|would not be without|weight off my mind|weight off my shoulders
|load off my mind|just works|given me my * back|gave me my * back|gives me my * back|given us our * back
|look forward to|looking forward to|highlight of my|mind at rest|spot on|above and beyond|breath of fresh air
|blown away|hats off|on the tin|a revelation|up my street|over the moon|made my day|makes my day|second to none
|top notch|first class|worth every penny|nothing was too much trouble|nothing is too much trouble
|couldn't have been more|could not have been more|couldn't be happier|could not be happier
|within the hour|within an hour|within minutes|within a few minutes|within a few hours|within the day
|the same day|on time|in seconds|in a few seconds|in a couple of minutes|in a few minutes|in two minutes
|in five minutes|in a minute|a breeze|a doddle|piece of cake|plain sailing|smooth sailing|like clockwork
|down to a fine art|nailed it|they've nailed|they have nailed|like a dream|was a dream|is a dream|a dream come true`

// complaintIdioms are set phrases of complaint with no evaluative word the lists know.
const complaintIdioms = `doing my head in|does my head in|did my head in|gets on my nerves|get on my nerves
|got on my nerves|fed up|sick of|sick and tired|wits end|wits' end|is a joke|was a joke|a bit of a joke
|a complete joke|an absolute joke|hit and miss|hit or miss|all over the place|had enough of|is a lottery
|a bit of a lottery|pillar to post|round in circles|tearing my hair out|pulling my hair out|last straw
|the runaround|a let down|a letdown|a shambles|a minefield|what gets me|gets me down|winds me up|wound me up
|bugs me|bugged me|lets it down|let it down|leaves a lot to be desired|left a lot to be desired|could be better
|could be a lot better|could be improved|could do better|not ideal|far from ideal|less than ideal
|could do with some work|could do with a lot of work|needs work|needs some work|needs a lot of work
|takes a while|took a while|at the best of times|a chore|more trouble than it's worth
|more trouble than it is worth|more hassle than it's worth|more hassle than it is worth|sore spot|sore point`

// priceRises are the ways people say a price went up, which is a complaint in itself
// ("the premium's gone up twice", "they put the rent up again", "another price hike")
// though no word in it is evaluative; a price that fell is said in words the lists know.
var priceRises = func() string {
	var out []string
	for _, n := range strings.Fields(`price prices rent fee fees premium premiums bill bills cost costs charge
charges subscription membership tariff fare fares`) {
		for _, v := range []string{"went up", "has gone up", "have gone up", "goes up", "go up",
			"keeps going up", "keep going up", "kept going up", "keeps rising", "kept rising", "has risen",
			"have risen", "rose", "jumped", "has jumped", "doubled", "has doubled", "crept up", "shot up",
			"increased", "has increased", "have increased"} {
			out = append(out, n+" "+v)
		}
		out = append(out, n+"'s gone up", n+" increase", n+" increases", n+" rise", n+" rises", n+" hike",
			n+" hikes", "put the "+n+" up", "put up the "+n, "put my "+n+" up", "put our "+n+" up",
			"raised the "+n, "raising the "+n, "raise the "+n, "raises the "+n, "hiked the "+n, "upped the "+n)
	}
	out = append(out, "it's gone up", "it has gone up", "it keeps going up", "it went up again", "it's doubled")
	return strings.Join(out, "|")
}()

// idiom is a set phrase and the stance it carries on its last word.
type idiom struct {
	words  []string
	pol    float64
	denies bool // a negator inside it is its own ("couldn't have been more helpful")
}

// idiomsByFirst indexes praiseIdioms and complaintIdioms by their first word, so a clause
// is read once whatever the lists' length.
var idiomsByFirst = indexIdioms(map[float64]string{1: praiseIdioms, -1: complaintIdioms + "|" + priceRises})

// indexIdioms reads "|"-separated lists of phrases, by the stance each list carries.
func indexIdioms(lists map[float64]string) map[string][]idiom {
	out := map[string][]idiom{}
	for pol, list := range lists {
		for _, p := range strings.Split(list, "|") {
			if f := strings.Fields(p); len(f) > 0 {
				out[f[0]] = append(out[f[0]], idiom{words: f, pol: pol, denies: slices.ContainsFunc(f, isNegator)})
			}
		}
	}
	return out
}

// idiomCues marks the praise or complaint of set phrases on their last word. A negation
// before a phrase of praise flips it ("it hasn't made a difference"), and one before a
// complaint denies it ("it's not a shambles" is no praise either); a negation inside a
// phrase is its own, so the good word after it stays good and what it praises stays a topic
// ("couldn't live without the transcripts").
func idiomCues(toks []token, pols []float64, negated []bool) {
	for i, t := range toks {
		for _, id := range idiomsByFirst[t.low] {
			end := i + len(id.words) - 1
			if end >= len(toks) || !matchesAt(toks, i, id.words) {
				continue
			}
			// The phrase says one thing as a whole: "could be better" is no praise.
			for k := i; k <= end; k++ {
				pols[k] = 0
			}
			switch {
			case id.denies:
				pols[end] = id.pol
				if end+1 < len(toks) && pols[end+1] < 0 {
					pols[end+1] = -pols[end+1]
				}
				for k := i; k < len(toks); k++ {
					negated[k] = false
				}
			case negated[i] && id.pol < 0:
			case negated[i]:
				pols[end] = -id.pol
			default:
				pols[end] = id.pol
			}
		}
	}
}

// matchesAt says the words of toks from i are phrase ("*" matches any word).
func matchesAt(toks []token, i int, phrase []string) bool {
	for k, w := range phrase {
		if w != "*" && toks[i+k].low != w {
			return false
		}
	}
	return true
}

// obliged are the verbs of an obligation before "to": "had to", "have to", "having to".
var obliged = wordSet(`had have has having`)

// everyTime says the "time" at i is "every time", "every single time" or "each time".
func everyTime(toks []token, i int) bool {
	j := i - 1
	if j >= 0 && toks[j].low == "single" {
		j--
	}
	return j >= 0 && (toks[j].low == "every" || toks[j].low == "each")
}

var (
	driveVerbs = wordSet(`drives drive driving drove`)
	drivenTo   = wordSet(`up mad crazy nuts round insane bonkers potty spare barmy`)
)

// storyCues read the complaints people tell as stories rather than state as verdicts:
// redoing something ("I'd have to re-link it", "reconnect your account", "add it again
// from scratch") is a repair, so something broke; "it just stopped updating" is a
// failure; "I stopped trusting the number" withdraws a good word.
func storyCues(text string, toks []token, pols []float64, negated []bool) {
	for i, t := range toks {
		if negated[i] || pols[i] != 0 {
			continue
		}
		switch {
		// "re-link", "re-authorize": a hyphenated redo.
		case t.low == "re" && i+1 < len(toks) && strings.HasPrefix(text[t.end:toks[i+1].start], "-"):
			pols[i] = -0.5
		// "the hiring manager didn't bring it up once", "Not once.": an expected
		// event that never came.
		case t.low == "once" && i > 0 && (toks[i-1].low == "not" || (negated[i-1] && i == len(toks)-1)):
			pols[i] = -0.5
		// "I gave up fixing those": giving up on something is a defeat.
		case t.low == "up" && i > 0 && (toks[i-1].low == "gave" || toks[i-1].low == "give" || toks[i-1].low == "giving") && pols[i-1] == 0:
			pols[i] = -1
		case repairWords[t.low]:
			pols[i] = -0.5
		case t.low == "scratch" && i > 0 && toks[i-1].low == "from":
			pols[i] = -0.5
		case (t.low == "stop" || t.low == "stopped" || t.low == "stops") && i+1 < len(toks) && strings.HasSuffix(toks[i+1].low, "ing"):
			next := pols[i+1]
			switch {
			case next > 0: // "stopped trusting"
				pols[i+1] = -next
			case next == 0 && i > 0 && machineSubjects[toks[i-1].low]: // "it'd just stop updating"
				pols[i] = -1
			case next == 0 && i > 1 && machineSubjects[toks[i-2].low] && (toks[i-1].low == "just" || toks[i-1].low == "suddenly"):
				pols[i] = -1
			}
		}
	}
}

// complaintFrames read the complaints people tell as events, with no evaluative word: a
// chore repeated ("I had to ask twice", "call them three times"), a wait on the phone
// ("sat on hold for forty minutes") and a long time taken ("it took three weeks to get the
// parts", not "it only took five minutes"). "I'm still waiting" and "I ended up paying" read
// the same way made things worse on every group of sets, and are left out.
func complaintFrames(toks []token, pols []float64, negated []bool) {
	had := false
	for i, t := range toks {
		if i > 0 && obliged[toks[i-1].low] && t.low == "to" {
			had = true
		}
		if negated[i] || pols[i] != 0 {
			continue
		}
		var prev, next string
		if i > 0 {
			prev = toks[i-1].low
		}
		if i+1 < len(toks) {
			next = toks[i+1].low
		}
		switch {
		case had && (t.low == "twice" || t.low == "again" || (t.low == "times" && (numberWords[prev] || isNumber(prev))) ||
			(t.low == "time" && everyTime(toks, i))):
			pols[i] = -0.5
		// "the loads keep getting changed", "it kept being cancelled": a change suffered again
		// and again.
		case (t.low == "getting" || t.low == "being") && (prev == "keep" || prev == "keeps" || prev == "kept") &&
			strings.HasSuffix(next, "ed"):
			pols[i] = -0.5
		// "it drives me up the wall", "drove me mad".
		case driveVerbs[t.low] && next == "me" && i+2 < len(toks) && drivenTo[toks[i+2].low]:
			pols[i] = -1
		// "left in the dark", "kept in the dark".
		case t.low == "dark" && prev == "the" && i > 2 && toks[i-2].low == "in" && (toks[i-3].low == "left" || toks[i-3].low == "kept"):
			pols[i] = -1
		// "my heart sinks", "moving the goalposts".
		case (t.low == "sinks" || t.low == "sank" || t.low == "sinking") && prev == "heart", t.low == "goalposts":
			pols[i] = -1
		case t.low == "hold" && prev == "on" && i > 1 && (toks[i-2].low == "sat" || toks[i-2].low == "was" ||
			toks[i-2].low == "been" || toks[i-2].low == "kept" || next == "for"):
			pols[i] = -1
		case (t.low == "took" || t.low == "takes") && !quickWords[prev] && i+1 < len(toks) && (numberWords[next] || isNumber(next) || longWords[next]) &&
			!slices.ContainsFunc(toks[i+1:], func(x token) bool { return quickWords[x.low] }):
			pols[i] = -0.5
		}
	}
}

// quickWords make a time taken short: "only took five minutes", "took two minutes, tops".
var quickWords = wordSet(`only just barely less under tops quick quickly minute minutes seconds`)

// longWords say a long time after "took".
var longWords = wordSet(`ages forever weeks months`)

// isNumber says a word is written in digits: "20", "3.50".
func isNumber(w string) bool {
	return w != "" && strings.Trim(w, "0123456789.,$£€%") == ""
}

// repairWords redo what should have stayed done.
var repairWords = wordSet(`reconnect reconnected reconnecting reconnects relink relinked relinking reauthorize
reauthorized reauthorise reauthorised reenter reentered retype retyped redo redid redoing resubmit resubmitted
reinstall reinstalled recategorize recategorized recategorise recategorised relabel relabeled relabelled
relabeling relabelling resync resynced`)

// machineSubjects are the subjects of a thing that stops doing its job.
var machineSubjects = wordSet(`it it'd it's it'll that they'd`)

// lackNegators deny existence or ability on their own; other negators need a verb of
// having, existing or working after them (lackVerbs).
var (
	lackNegators = wordSet(`cannot can't cant couldn't couldnt`)
	existential  = wordSet(`no nothing none never nowhere`)
	lackVerbs    = wordSet(`have has had exist exists existed available enough work works worked load loads loaded
start started open opened fit fits get got find found support supports supported allow allows allowed let
apply applied show showed turn turned come came`)
)

// reliefCues reads a trouble that went away as praise: "way fewer arguments", "it ended that
// argument", "it took the awkwardness out", "a conversation instead of a fight"; and
// being "in control" or "on top of things" is a good place to be.
func reliefCues(toks []token, pols []float64) {
	for i, t := range toks {
		if pols[i] < 0 {
			for j := max(0, i-3); j < i; j++ {
				if reducers[toks[j].low] || (toks[j].low == "instead" && j+1 < i && toks[j+1].low == "of") {
					pols[i] = -pols[i]
					break
				}
			}
			if pols[i] < 0 && i+1 < len(toks) && toks[i+1].low == "out" && i > 1 {
				for j := max(0, i-3); j < i; j++ {
					if toks[j].low == "took" || toks[j].low == "takes" || toks[j].low == "take" {
						pols[i] = -pols[i]
						break
					}
				}
			}
		}
		if pols[i] == 0 && i > 0 && (t.low == "control" && (toks[i-1].low == "in" || toks[i-1].low == "under")) {
			pols[i] = 1
		}
		if pols[i] == 0 && t.low == "top" && i > 0 && toks[i-1].low == "on" && i+1 < len(toks) && toks[i+1].low == "of" {
			pols[i] = 1
		}
	}
}

// valueCues read the idioms of a good price, which name no good in a word of their own:
// "it's a steal", "cheap as chips", "money well spent", "it pays for itself".
func valueCues(toks []token, pols []float64) {
	next := func(i int, w string) bool { return i+1 < len(toks) && toks[i+1].low == w }
	for i, t := range toks {
		if pols[i] != 0 {
			continue
		}
		switch {
		case t.low == "steal" && i > 0 && toks[i-1].low == "a",
			t.low == "cheap" && next(i, "as") && i+2 < len(toks) && toks[i+2].low == "chips",
			t.low == "spent" && i > 0 && toks[i-1].low == "well" && i > 1 && toks[i-2].low == "money",
			(t.low == "pays" || t.low == "paid") && next(i, "for") && i+2 < len(toks) && (toks[i+2].low == "itself" || toks[i+2].low == "themselves"):
			pols[i] = 1
		}
	}
}

// reducers make a trouble smaller or end it.
var reducers = wordSet(`fewer ended`)

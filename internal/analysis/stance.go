package analysis

import "strings"

// This file decides, clause by clause, whether a participant is speaking for themselves
// and with what stance. Only own-stance clauses become evidence: a negated mention ("I
// did not find it confusing"), a counterfactual ("if I'd ever gotten a slimy bag I'd have
// complained"), a second-hand report ("my brother moaned about the price"), a conceded
// point ("packaging, yeah, but I didn't notice it") or an echo of the question ("Value for
// money? …") uses a theme's words without supporting it.

// polClass is a clause's stance toward what it mentions.
type polClass int8

const (
	classNone polClass = iota // descriptive, or dropped
	classNeg                  // a complaint or problem
	classPos                  // praise
	classWish                 // a wish, suggestion or condition for coming back
)

// dropReason says why a clause is not the participant's own stance.
type dropReason int8

const (
	keep dropReason = iota
	dropEcho
	dropHypothetical
	dropReported
	dropConceded
)

// clauseStance is the analysis of one clause before it is reduced to a clauseRec.
type clauseStance struct {
	toks     []token
	from, to int  // token range within the sentence
	contrast bool // opens with but/however/although
	negated  []bool
	hits     []termHit
	pol      float64
	// denies says the clause negates something without a stance either way ("the desk
	// business doesn't really touch me"): it takes no prior from its question.
	denies bool
	// lukewarm says its only good words are mere acceptance ("the price is fine").
	lukewarm bool
	drop     dropReason
	// covered marks words that belong to a lexicon term or a blocked phrase; the
	// others can still make a theme on their own (see stemCandidates).
	covered []bool
	// blocked marks words of a blocked homonym phrase ("quality time"), which no
	// thesaurus family sees either.
	blocked []bool
}

// termHit is a lexicon term found in a clause.
type termHit struct {
	concept  int
	weak     bool
	negated  bool
	protocol bool
	neg      bool // the term is a complaint in itself
	first    int  // token index within the clause
}

// counterfactual reports whether toks hold a counterfactual or irrealis past: "would've",
// "I'd have", "might have been", "if I'd ever gotten", "if there had been".
func counterfactual(toks []token) bool {
	for i, t := range toks {
		switch t.low {
		case "would've", "could've", "might've", "should've", "must've", "would'a", "coulda", "woulda", "shoulda":
			if !reproach(toks, i) {
				return true
			}
		case "would", "could", "might", "should", "must":
			if j := skipAdverbs(toks, i+1); j < len(toks) && toks[j].low == "have" && (j+1 >= len(toks) || toks[j+1].low != "to") && !reproach(toks, i) {
				return true
			}
		case "if":
			for j := i + 1; j < len(toks) && j <= i+3; j++ {
				l := toks[j].low
				if strings.HasSuffix(l, "'d") || (l == "had" && j+1 < len(toks) && toks[j+1].low == "been") {
					return true
				}
			}
			// "If we ever opened it up it'd get silly": a supposition, not an event; and
			// "if we grew, it'd get expensive": a consequence that did not happen, unless
			// the speaker wants it ("I'd come back") or gives an opinion ("I'd say").
			for j := i + 1; j < len(toks) && j <= i+5; j++ { // "if the delivery were ever late"
				if toks[j].low == "ever" {
					return true
				}
			}
			for j := i + 2; j+1 < len(toks); j++ {
				l := toks[j].low
				if (l == "would" || l == "might" || (strings.HasSuffix(l, "'d") && l != "i'd" && l != "we'd")) && !wishVerbs[toks[j+1].low] && !opinionVerbs[toks[j+1].low] {
					return true
				}
			}
			// "If I had kids I'd …", "If I lived out there I'd be fuming": a
			// counterfactual about the speaker, unlike "if they had a cheaper plan".
			if i+2 < len(toks) && (toks[i+1].low == "i" || toks[i+1].low == "we") && selfIrrealis[toks[i+2].low] && hasWould(toks[i+3:]) {
				return true
			}
		}
		if !strings.HasSuffix(t.low, "'d") {
			continue
		}
		// "I'd have to sign in again" is a habit of the past, not an irrealis.
		if j := skipAdverbs(toks, i+1); j < len(toks) {
			if n := toks[j].low; (n == "have" && (j+1 >= len(toks) || toks[j+1].low != "to")) || n == "been" || n == "of" {
				return true
			}
		}
	}
	return false
}

// reproach says toks[i] opens what someone else should or could have done: "they
// could've asked us", "you should have warned me". Unlike a speaker's own "I could've",
// it happened, as a failure, and is a complaint.
func reproach(toks []token, i int) bool {
	if i == 0 || !reproachSubjects[toks[i-1].low] {
		return false
	}
	switch toks[i].low {
	case "could've", "should've", "coulda", "shoulda":
		return true
	case "could", "should":
		j := skipAdverbs(toks, i+1)
		return j+1 < len(toks) && toks[j].low == "have" && toks[j+1].low != "to"
	}
	return false
}

var reproachSubjects = wordSet(`they you he she someone somebody nobody`)

// skipAdverbs is the index of the first token from i that is not a modal's adverb ("I'd
// probably have been annoyed").
func skipAdverbs(toks []token, i int) int {
	for i < len(toks) && modalAdverbs[toks[i].low] {
		i++
	}
	return i
}

var modalAdverbs = wordSet(`probably definitely certainly likely surely maybe possibly totally really still just
never even also`)

var opinionVerbs = wordSet(`say guess imagine think suppose reckon bet be need want have`)

var selfIrrealis = wordSet(`had was were lived worked didn't did got went knew`)

func hasWould(toks []token) bool {
	for _, t := range toks {
		if t.low == "would" || t.low == "might" || t.low == "could" || strings.HasSuffix(t.low, "'d") {
			return true
		}
	}
	return false
}

// hasWishMarker finds explicit wishes and suggestions in a sentence.
func hasWishMarker(toks []token) bool {
	strong, weak := wishMarkers(toks)
	return strong || weak
}

// wishMarkers tells unambiguous wishes ("I wish", "it should", "I'd love", "Let teams
// choose") from modal verbs that are wishes only in context ("I'd come back").
func wishMarkers(toks []token) (strong, weak bool) {
	for i, t := range toks {
		var next string
		if i+1 < len(toks) {
			next = toks[i+1].low
		}
		j := skipAdverbs(toks, i+1)
		// "I'd probably have complained" is a past that did not happen, not a wish.
		if j < len(toks) && (toks[j].low == "have" || toks[j].low == "been") {
			continue
		}
		// "I'd probably pay" is a wish; "I'd probably be annoyed" is a feeling supposed.
		if modalAdverbs[next] && j < len(toks) && supposedVerbs[toks[j].low] {
			continue
		}
		// "I'd really love", "we'd honestly like": the verb after the modal's adverbs.
		if verb := wordAt(toks, j); (t.low == "would" || strings.HasSuffix(t.low, "'d")) && (wishVerbs[next] || wishVerbs[verb]) {
			if preferVerbs[next] || preferVerbs[verb] {
				return true, true
			}
			weak = true
		}
	}
	if strongWish(toks) {
		return true, weak
	}
	return false, weak
}

func strongWish(toks []token) bool {
	// An imperative "let" addressed to the organisation: "Let teams pick their days."
	if len(toks) > 1 && toks[0].low == "let" && toks[1].low != "me" && toks[1].low != "us" {
		return true
	}
	// "A proper phone line, that's all I ask", "first thing I'd do is…", "top of my list".
	if containsSeq(toks, "all", "i", "ask") || containsSeq(toks, "all", "we", "ask") || containsSeq(toks, "top", "of", "my", "list") ||
		containsSeq(toks, "first", "thing", "i'd", "do") || containsSeq(toks, "first", "thing", "i", "would", "do") {
		return true
	}
	// "If only there was", "Bring back the old one" ("ideally" is a wish word anywhere).
	if first := wordAt(toks, 0); (first == "if" && wordAt(toks, 1) == "only") ||
		(first == "bring" && wordAt(toks, 1) == "back") {
		return true
	}
	for i, t := range toks {
		if wantsNow(toks, i) || couldWe(toks, i) || hopesFor(toks, i) || needsMore(toks, i) || whatWouldHelp(toks, i) {
			return true
		}
		switch t.low {
		case "wish", "hopefully", "ideally":
			return true
		case "i'd", "we'd":
			if wordAt(toks, i+1) == "kill" && wordAt(toks, i+2) == "for" {
				return true
			}
		case "should", "ought":
			if i+1 < len(toks) && toks[i+1].low == "have" {
				continue
			}
			return true
		case "would":
			// "would be nice", "would be a godsend", "would make a real difference".
			if k := skipWishDegree(toks, i+2); wordAt(toks, i+1) == "be" && wishBe[wordAt(toks, k)] {
				return true
			}
			if wordAt(toks, i+1) == "make" && wordAt(toks, skipWishDegree(toks, i+2)) == "difference" {
				return true
			}
		}
	}
	return false
}

// containsSeq says toks hold the words in a row.
func containsSeq(toks []token, words ...string) bool {
	for i := range toks {
		if i+len(words) <= len(toks) && matchesAt(toks, i, words) {
			return true
		}
	}
	return false
}

// wordAt is the lower-case word at i, or "" past the end.
func wordAt(toks []token, i int) string {
	if i < len(toks) {
		return toks[i].low
	}
	return ""
}

// wantsNow says the speaker wants something now: "I just want to be able to swap it
// myself", "all we want is a rota a month ahead". "I want to say the staff were lovely"
// only frames what follows, and "I wanted to cancel" tells a past motive.
func wantsNow(toks []token, i int) bool {
	if l := toks[i].low; l != "i" && l != "we" {
		return false
	}
	j := skipAdverbs(toks, i+1)
	if w := wordAt(toks, j); w != "want" && w != "wants" {
		return false
	}
	if wordAt(toks, j+1) != "to" {
		return true
	}
	next := wordAt(toks, j+2)
	return !framingVerbs[next] && (next != "be" || wordAt(toks, j+3) != "honest")
}

// framingVerbs after "I want to" introduce what the speaker says next.
var framingVerbs = wordSet(`say tell add mention thank point stress emphasise emphasize ask`)

// couldWe says the speaker supposes an ability they lack: "if we could just swap between
// ourselves", "if I could see who's free". "If we could have known" is a past that did
// not happen.
func couldWe(toks []token, i int) bool {
	if toks[i].low != "if" || (wordAt(toks, i+1) != "we" && wordAt(toks, i+1) != "i") || wordAt(toks, i+2) != "could" {
		return false
	}
	return wordAt(toks, skipAdverbs(toks, i+3)) != "have"
}

// supposedVerbs after "I'd probably" suppose a reaction: "I'd probably be annoyed",
// "I'd probably panic".
var supposedVerbs = wordSet(`be feel get panic worry notice freak lose`)

var wishBe = wordSet(`nice great good helpful better easier amazing ideal perfect way more lovely useful awesome
godsend lifesaver brilliant fantastic handy welcome wonderful massive huge`)

// skipWishDegree passes the words between "would be" and what it would be: "a", "so",
// "really", "such a", "a real", "a big".
func skipWishDegree(toks []token, i int) int {
	for i < len(toks) && wishDegree[toks[i].low] {
		i++
	}
	return i
}

var wishDegree = wordSet(`a an so really such real big just very absolute total`)

// hopesFor says the speaker hopes for a change: "I hope they add", "we're hoping there'll
// be". "I hope so" and "I hope to" are no request of anyone.
func hopesFor(toks []token, i int) bool {
	if l := toks[i].low; l != "hope" && l != "hoping" {
		return false
	}
	if i == 0 || !speakerSubjects[toks[i-1].low] {
		return false
	}
	next := wordAt(toks, i+1)
	return next != "" && next != "so" && next != "to" && next != "not"
}

// speakerSubjects are the speaker as the subject of the verb that follows: "I hope",
// "we're hoping".
var speakerSubjects = wordSet(`i we i'm we're really just still`)

// needsMore says a need is asked of someone: "there needs to be a way", "they need to
// add", "we really need a pause button". "I need to drive to the mill" tells a task.
func needsMore(toks []token, i int) bool {
	switch l := toks[i].low; {
	case l == "needs" && i > 0 && toks[i-1].low == "there":
		return true
	case l == "need" && i > 0 && toks[i-1].low == "they" && wordAt(toks, i+1) == "to":
		return true
	case (l == "need" || l == "needed") && i > 0:
		j := i - 1
		for j > 0 && modalAdverbs[toks[j].low] {
			j--
		}
		return (toks[j].low == "we" || toks[j].low == "i") && needObjects[wordAt(toks, i+1)]
	}
	return false
}

// needObjects after "we need" make it a request: "a", "more", "better", "proper".
var needObjects = wordSet(`a an more some better proper another`)

// whatWouldHelp says a sentence names what would help: "What would help is", "What I need
// is", "what we really want is".
func whatWouldHelp(toks []token, i int) bool {
	if toks[i].low != "what" {
		return false
	}
	for j := i + 1; j < len(toks) && j <= i+4; j++ {
		switch toks[j].low {
		case "help", "need", "needs", "want":
			return wordAt(toks, j+1) == "is" || (wordAt(toks, j+1) == "would" && wordAt(toks, j+2) == "be")
		}
	}
	return false
}

// conditional reports an "if"/"unless" clause or "instead of" alternative.
func conditional(toks []token) bool {
	for i, t := range toks {
		if t.low == "if" || t.low == "unless" {
			return true
		}
		if t.low == "instead" && i+1 < len(toks) && toks[i+1].low == "of" {
			return true
		}
	}
	return false
}

// negatedMain says a conditional sentence is a refusal, not a wish: "I don't care if they
// make it cheaper", "nothing would bring me back", "I wouldn't".
func negatedMain(toks []token) bool {
	for _, t := range toks {
		if t.low == "if" {
			return false
		}
		if isNegator(t.low) {
			return true
		}
	}
	return false
}

// reported finds, and returns the index of, a third party followed closely by a verb of
// saying or thinking, with no first-person subject in between: "My husband thought the
// recipes took forever". It returns -1 when there is none.
func reported(text string, toks []token, sentenceStart bool) int {
	if k := kinSubject(toks); k >= 0 {
		return k
	}
	for i, t := range toks {
		third := thirdParties[t.low]
		// A capitalised word inside a sentence is a name: "Kiara said", "Dave thinks".
		// All-capital words are acronyms ("IT said no" reports a decision the participant
		// lived with), not names.
		if !third && t.upper && (i != 0 || !sentenceStart) && t.low != "i" && !strings.HasPrefix(t.low, "i'") &&
			!isAllCaps(text, t) {
			third = true
		}
		// A name that opens the sentence and says something at once: "Carol on nights keeps
		// saying", "Les says he's paid quicker". A capital there is only the sentence's,
		// so the verb must follow closely and the word must be no pronoun or determiner.
		if !third && i == 0 && sentenceStart && t.upper && !openingWords[t.low] && namedSpeaker(toks) {
			third = true
		}
		// A role by its initials, as "my" or "our" name one: "my PA always says", "our GP said".
		if !third && i > 0 && (toks[i-1].low == "my" || toks[i-1].low == "our") && isAllCaps(text, t) {
			third = true
		}
		// A group named by its plural ("the pickers hate it", "our nurses say"): a verb
		// of opinion must follow at once; "the scanners keep dying" is no report.
		if !third && i > 0 && groupDeterminers[toks[i-1].low] && pluralNoun(t.low) && groupVerbAt(toks, i+1) {
			return i - 1
		}
		if !third {
			continue
		}
		for j := i + 1; j < len(toks) && j <= i+5; j++ {
			l := toks[j].low
			if l == "i" || strings.HasPrefix(l, "i'") || l == "me" {
				break
			}
			if speechVerbs[l] {
				return i
			}
		}
	}
	// A verdict held by others: "I know it's hard for them".
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].low == "for" && (toks[i+1].low == "them" || toks[i+1].low == "him" || toks[i+1].low == "her" ||
			toks[i+1].low == "others") && i+2 == len(toks) {
			return max(0, fragmentStart(text, toks, i))
		}
	}
	// First-person hearsay: "I've heard it's slow".
	for i := 0; i+1 < len(toks); i++ {
		if (toks[i].low == "i" || toks[i].low == "i've") && (toks[i+1].low == "heard" || toks[i+1].low == "read") {
			return i
		}
	}
	return -1
}

// firstContent is the index of the clause's first word that is not filler.
func firstContent(toks []token) int {
	k := 0
	for k < len(toks) && (fillerWords[toks[k].low] || laughs[toks[k].low]) {
		k++
	}
	return k
}

// redirected finds a clause that takes a topic's word only to point elsewhere: "The only
// noise problem in my life is my own head", "The only signal I worry about is the crew's",
// "The batteries I worry about are the drill batteries". What stands before the verb is
// the word borrowed; the clause says something of what follows it. It returns the index
// of the first word after the verb, or 0. "The only problem is the noise" and "the only
// thing I'd change is the price" name their topic after the verb, and are left whole.
func redirected(toks []token) int {
	k := firstContent(toks)
	if k+2 >= len(toks) || toks[k].low != "the" {
		return 0
	}
	s := k + 1
	switch {
	case toks[s].low == "only":
		s++
		if genericSubjects[toks[s].low] {
			return 0
		}
	case s+2 < len(toks) && (toks[s+1].low == "i" || toks[s+1].low == "we") && concernVerbs[toks[skipAdverbs(toks, s+2)].low]:
	default:
		return 0
	}
	for j := s + 1; j < len(toks) && j <= s+10; j++ {
		if isNegator(toks[j].low) {
			return 0
		}
		if beForms[toks[j].low] {
			return j + 1
		}
	}
	return 0
}

// genericSubjects open "the only … is" to name, after the verb, what it is about: "the
// only downside is the wait".
var genericSubjects = wordSet(`thing things problem problems issue issues downside downsides complaint complaints
gripe gripes bit part parts time times one ones niggle niggles worry worries change changes concern concerns
drawback drawbacks catch negative negatives con cons annoyance hassle trouble difference improvement
request wish reason way real big small slight other`)

// concernVerbs follow "the <topic> I" in a clause that redirects its topic: "the fees I
// think about are the county's".
var concernVerbs = wordSet(`worry care think check deal mean keep bother track watch`)

var beForms = wordSet(`is are was were`)

var laughs = wordSet(`ha haha hah heh`)

// namedSpeaker says a verb of saying in the third person comes within the first four
// words: "Carol on nights keeps saying", "Les says".
func namedSpeaker(toks []token) bool {
	for j := 1; j < len(toks) && j <= 4; j++ {
		l := toks[j].low
		if reportingVerbs[l] || (l == "keeps" && j+1 < len(toks) && (toks[j+1].low == "saying" || toks[j+1].low == "telling")) {
			return true
		}
	}
	return false
}

// reportingVerbs report what another person says, in the forms a name takes.
var reportingVerbs = wordSet(`says said tells told reckons swears moans complains insists`)

// openingWords open a sentence with a capital but name nobody: "It says", "That said",
// "Everyone says" is a third party already.
var openingWords = wordSet(`it it's this that that's there there's here which what who the a an and but so
then yes no well okay ok oh um uh like just honestly nobody nothing everything something one mine ours
yours his hers theirs my our your their we you they i when if because once after before while since
although though as unless until where how why whatever whoever`)

// kinSubject finds a clause that tells a relative's or a friend's own story, "my sister
// moved the same month with another firm and they turned up late": its subject is "my"
// or "our" and one of kin, and the speaker is nowhere in it ("my son had to pair it for
// me" is the speaker's story). It returns the index of "my" or "our", or -1.
func kinSubject(toks []token) int {
	k := firstContent(toks)
	if k+1 >= len(toks) || (toks[k].low != "my" && toks[k].low != "our") || !kinAt(toks, k+1) {
		return -1
	}
	for j, t := range toks[k+2:] {
		// "tells me", "told us": the speaker hears the story, it is still theirs.
		heard := (t.low == "me" || t.low == "us") && speechVerbs[toks[k+1+j].low]
		if speakerWords[t.low] && !heard {
			return -1
		}
	}
	return k
}

// kinAt says toks[i] names kin, alone or with "'s" for "has" or "is" ("my flatmate's been
// waiting"); a possessive ("my son's school") is the speaker's story as often as not.
func kinAt(toks []token, i int) bool {
	w, contracted := strings.CutSuffix(toks[i].low, "'s")
	if !contracted {
		return kin[w]
	}
	return kin[w] && i+1 < len(toks) && contractedNext[toks[i+1].low]
}

// contractedNext follow "'s" as "has" or "is", not as a possessive.
var contractedNext = wordSet(`been got gotten had always never not still gone just constantly forever`)

// kin are the people whose stories a participant retells: theirs, not the speaker's.
var kin = wordSet(`wife husband partner brother sister mom mum mother dad father parents friend friends
roommate roommates flatmate flatmates neighbor neighbour neighbors neighbours son daughter fiance fiancee
spouse girlfriend boyfriend cousin aunt uncle grandma grandpa gran nan mate mates buddy pal granddaughter
grandson grandkids grandchildren niece nephew`)

// speakerWords are the words that put the speaker in a clause.
var speakerWords = wordSet(`i i'm i've i'd i'll me myself we we're we've we'd we'll us`)

// groupVerbs state a view, unlike the rest of speechVerbs ("keep", "call", "feel"),
// which things do too.
var groupVerbs = wordSet(`say says said tell tells told think thinks thought reckon reckons complain complains complained
grumble grumbles grumbled moan moans moaned hate hates hated love loves loved swear swore warned struggle
struggles struggled`)

// groupVerbAt says a verb of opinion comes at i, or after one adverb of frequency or
// degree: "my labmates always complain", "the older lads really struggled".
func groupVerbAt(toks []token, i int) bool {
	if i < len(toks) && groupAdverbs[toks[i].low] {
		i++
	}
	return i < len(toks) && groupVerbs[toks[i].low]
}

var groupAdverbs = wordSet(`always often constantly still all really just never sometimes`)

// groupDeterminers open a noun phrase that names a group of people by its plural.
var groupDeterminers = wordSet(`the our their my all most some`)

// pluralNoun is a plausible plural noun: long enough, ending in a plain "s".
func pluralNoun(w string) bool {
	return len(w) > 4 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "'s") &&
		!strings.HasSuffix(w, "ous")
}

// fragmentStart is the index of the first word of the comma-delimited fragment holding
// toks[k].
func fragmentStart(text string, toks []token, k int) int {
	for j := k; j > 0; j-- {
		if _, brk := gapBreaks(text[toks[j-1].end:toks[j].start]); brk {
			return j
		}
	}
	return 0
}

// thirdParties and speechVerbs find second-hand reports: "my wife says", "my husband
// thought", "people talk about", "a friend swore by it".
var (
	thirdParties = wordSet(`wife husband partner partners brother brothers sister sisters mom mum mother dad father
parents friend friends roommate roommates flatmate flatmates coworker coworkers colleague colleagues boss
manager neighbor neighbour neighbors neighbours son daughter kids children people everyone everybody others
someone somebody he she fiance fiancee fiancé fiancée spouse girlfriend boyfriend team teammates family
relatives cousin aunt uncle grandma grandpa reviews reviewers they'd granddaughter grandson niece nephew folk folks`)
	speechVerbs = wordSet(`say says said saying moan moans moaned moaning complain complains complained complaining
think thinks thought told tell tells mention mentions mentioned talk talks talked talking reckon reckons
reckoned swore swears swear claim claims claimed believe believes believed heard hear argue argues argued
grumble grumbled whine whined rant ranted insists insisted feels felt warned warn joked jokes keeps kept
calls called ask asks asked asking feel hate hates hated love loves loved adore adores likes dislike
dislikes grumbles grumbling warning whining moaning struggle struggles struggled struggling worry worries
worried suffer suffers suffered`)
)

// wishVerbs after "would"/"'d" turn a conditional into a wish or a condition for return:
// "I'd come back", "I'd pay", "I'd love", "I'd rather". Only the preference verbs are
// wishes on their own; the others ("I'd come back to a box on the porch") are also the
// habitual past of a story, and count only in a conditional or in answer to a question
// about what would change (see wishMarkers).
var (
	wishVerbs = wordSet(`love like prefer rather pay come go give try consider use sign switch return buy pick choose
want appreciate recommend subscribe stay resubscribe rejoin definitely probably totally honestly happily
gladly absolutely`)
	preferVerbs = wordSet(`love like prefer rather appreciate`)
)

// asksFor says a sentence answering "what would you change?" asks for something without a
// wish marker: an imperative addressed to the organisation ("Make the times real", "Let
// me pick", "Tell me if it's full"), a want ("I want to know if …"), a tentative
// "Maybe …", or, as the answer's first sentence, a bare noun phrase naming the change
// ("Offline tickets.", "A slower plan, like one every two months"). A sentence that
// negates or speaks of the speaker ("Honestly I'm happy") asks for nothing.
func asksFor(toks []token, opening bool) bool {
	k := 0
	for k < len(toks) && fillerWords[toks[k].low] && toks[k].low != "just" {
		k++
	}
	if k >= len(toks) {
		return false
	}
	for _, t := range toks {
		// "without cancelling" qualifies the request; other negators refuse, unless they
		// come after it, in its purpose ("Fix the pay so I don't have to check").
		if purposeWords[t.low] {
			break
		}
		if isNegator(t.low) && t.low != "without" {
			return false
		}
	}
	first := toks[k].low
	var next string
	if k+1 < len(toks) {
		next = toks[k+1].low
	}
	switch {
	case first == "let" && (next == "me" || next == "us") && k+2 < len(toks) && !letAside[toks[k+2].low]:
		return true
	case imperativeVerbs[first] && next != "it's" && next != "i":
		return true
	case (first == "i" || first == "we") && (next == "want" || next == "need"):
		return true
	case first == "maybe" || first == "perhaps" || first == "ideally":
		return true
	}
	if !opening || len(toks)-k > 16 {
		return false
	}
	for _, t := range toks[k:] {
		if t.low == "i" || t.low == "we" || strings.HasPrefix(t.low, "i'") || strings.HasPrefix(t.low, "we'") ||
			t.low == "it" || strings.HasPrefix(t.low, "it'") || statingVerbs[t.low] {
			return false
		}
	}
	return true
}

// statingVerbs make a sentence a statement about what is, not the name of a change.
var statingVerbs = wordSet(`is are was were been has have had do does did am`)

// imperativeVerbs open a request to the organisation when they open a sentence.
var imperativeVerbs = wordSet(`make show tell give add fix put send allow stop bring offer keep include hire cache
lower raise cut extend remove change provide build warn notify update refund reduce increase move label list
open drop skip pause swap switch sort simplify split let talk ask listen trial train answer ring call email text
ditch scrap stock`)

// purposeWords open what a request is for.
var purposeWords = wordSet(`so because cause 'cause`)

// letAside are what "let me" opens when it is not a request: "let me think", "let me see".
var letAside = wordSet(`think see tell explain say check guess put be know`)

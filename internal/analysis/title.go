package analysis

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Titles are written from the cluster's own words: the clause that says what most of its
// quotes say, cut to its main statement (subject and predicate), cleaned of the fillers of
// speech and turned from the first person into a neutral statement ("it kept losing my
// bank connection" becomes "The app kept losing the bank connection"). A template is used
// only when no quote gives a readable statement (a bare "Slow as molasses.").

// titleMinWords and titleMaxWords bound a readable title.
const titleMinWords, titleMaxWords = 3, 12

// subjectNouns are the words a study uses for the thing it is about, in order of
// preference; the first one its title or objectives use stands for "it" in titles.
var subjectNouns = []string{"app", "platform", "software", "tool", "website", "site", "service", "course",
	"program", "programme", "subscription", "product", "system", "policy"}

// studySubject is the noun phrase that replaces a quote's "it": "The app", or "It" when
// the protocol does not say what the study is about.
func studySubject(c Campaign) string {
	st := newStemmer()
	words := map[string]bool{}
	for _, s := range []string{c.Title, c.Objectives} {
		for _, t := range tokenize(s, 0, len(s), st) {
			words[t.low] = true
		}
	}
	for _, n := range subjectNouns {
		if words[n] {
			return "The " + n
		}
	}
	return "It"
}

// titleCandidates are the readable titles the quotes give, best first. Each sentence
// segment of each quote is a candidate; it scores by how many of its words the other
// quotes use (it says what they say) and by carrying the cluster's stance in its own
// words (it states the theme, not its context: "it would lose it every other week" over
// "I'm with Bank of America").
//
// A segment must name the theme itself (topical: a term of the cluster's concepts, or a
// word its interviews share); one that only sets the scene is no title.
//
// With needStance false, a segment that names the theme without stating the stance in
// its own words is a candidate too: the cluster's stance is the reader's context, and a
// statement of what people said ("The countdown resets to nine minutes") reads better
// than a template.
func titleCandidates(quotes []string, subject string, class polClass, topical func([]token) bool, needStance bool) []string {
	st := newStemmer()
	_, pol, _, _ := compiledTables()
	stems := make([]map[string]bool, len(quotes))
	for i, q := range quotes {
		stems[i] = map[string]bool{}
		for _, t := range tokenize(q, 0, len(q), st) {
			if isContent(t) && !genericStems[t.stem] {
				stems[i][t.stem] = true
			}
		}
	}
	type cand struct {
		title string
		score float64
		order int
	}
	var cands []cand
	for i, q := range quotes {
		for _, seg := range titleSegments(q) {
			t, ok := segmentTitle(seg, subject)
			if !ok || !topical(tokenize(t, 0, len(t), st)) {
				continue
			}
			score := 0.0
			stance, opposed, turned := false, false, false
			seen := map[string]bool{}
			for _, tk := range tokenize(t, 0, len(t), st) {
				p := pol.of(tk)
				opposed = opposed || (class == classNeg && p > 0) || (class == classPos && p < 0)
				turned = turned || isNegator(tk.low) || turnWords[tk.low]
				switch {
				case class == classNeg && (p < 0 || isNegator(tk.low) || tk.low == "too"):
					stance = true
				case class == classPos && p > 0:
					stance = true
				case class == classWish && (wishVerbs[tk.low] || tk.low == "wish" || tk.low == "should" || tk.low == "let" ||
					tk.low == "would" || tk.low == "could" || tk.low == "want" || tk.low == "need" || strings.HasSuffix(tk.low, "'d")):
					stance = true
				}
				if !isContent(tk) || genericStems[tk.stem] || seen[tk.stem] {
					continue
				}
				seen[tk.stem] = true
				for j := range quotes {
					if j != i && stems[j][tk.stem] {
						score++
					}
				}
			}
			// A title states the stance: a segment that only names the topic ("people
			// need a lab draw") leaves the reader to guess what was wrong with it.
			// Nor may it say the opposite with no word of the stance: "The half-speed
			// button is the best feature" is no title for a complaint.
			if !stance && (needStance || (opposed && !turned)) {
				continue
			}
			if stance {
				score++
			}
			// Shorter statements read better as titles, and so do statements about the
			// thing rather than the speaker: "The walls are thin" over "People heard
			// every word through the wall", and one person rewritten is one too many.
			score -= 0.1 * float64(len(strings.Fields(t)))
			score -= 0.5 * float64(personWords(t))
			cands = append(cands, cand{t, score, len(cands)})
		}
	}
	slices.SortStableFunc(cands, func(x, y cand) int {
		if x.score != y.score {
			if x.score > y.score {
				return -1
			}
			return 1
		}
		return x.order - y.order
	})
	var out []string
	for _, c := range cands {
		if !slices.Contains(out, c.title) {
			out = append(out, c.title)
		}
	}
	return out
}

// turnWords end what follows them: "stopped trusting it", "lost faith".
var turnWords = wordSet(`stop stopped stops quit lost`)

// segmentTitle turns one segment of a quote into a title, if it is a readable statement.
func segmentTitle(seg, subject string) (string, bool) {
	spoken := dropRestarts(cleanWords(seg))
	if len(spoken) == 0 || runOn(spoken) || subordinate(spoken) {
		return "", false
	}
	words := cutRunOn(strings.Fields(strings.Join(neutralWords(spoken, subject), " ")))
	if len(words) > titleMaxWords {
		words = cutAtConjunction(words)
	}
	if len(words) < titleMinWords || len(words) > titleMaxWords || !hasVerb(words) || !readable(words) || !informative(words) {
		return "", false
	}
	t := strings.Join(words, " ")
	r, size := utf8.DecodeRuneInString(t)
	return string(unicode.ToUpper(r)) + t[size:], true
}

// subordinate says a segment is only a subordinate or relative clause, whose statement
// is in another segment: "whereas the black bin, which isn't on the app, …", "even if I
// pay a pound for it", "who's been dead twenty years".
func subordinate(words []string) bool {
	first := strings.ToLower(words[0])
	if first == "even" && len(words) > 1 {
		second := strings.ToLower(words[1])
		return second == "if" || second == "though"
	}
	return subordinateOpeners[first]
}

var subordinateOpeners = wordSet(`whereas although unless whether who who's whose which`)

// runOn spots a second statement run into the first with only a comma, which cleaning
// dropped: "I work fifty hours, I'm tired" and "the meals are good, I batch on a Monday"
// read "People work fifty hours people are tired". The speaker opening a clause after a
// verb is a new sentence unless a conjunction or a relative's head ("the part I hate",
// "what we love", "by the time I get") comes somewhere before it.
func runOn(words []string) bool {
	for i := 1; i < len(words); i++ {
		low := strings.ToLower(words[i])
		if rep, ok := firstPerson[low]; !ok || rep[0] != "people" {
			continue
		}
		if hasVerb(words[:i]) && !slices.ContainsFunc(words[:i], func(w string) bool { return clauseOpeners[strings.ToLower(w)] }) {
			return true
		}
	}
	return false
}

// cutRunOn keeps the first of two statements that speech ran together without a
// conjunction, which runOn does not catch when the second has a subject of its own: "The
// pass is good the price is fair" is "The pass is good". A second copula right after the
// first is its complement ("the problem is there's no change"), one after a conjunction,
// a relative's head or a negation belongs to the first ("that's awkward is", "it's not
// the wear it's what").
func cutRunOn(words []string) []string {
	first := -1
	for j, w := range words {
		low := strings.ToLower(w)
		if !runOnCopulas[low] {
			continue
		}
		if first < 0 {
			first = j
			continue
		}
		start := j
		if !strings.HasSuffix(low, "'s") {
			// "is", "are": the second statement starts at its subject.
			switch {
			case j-1 > first && runOnSubjects[strings.ToLower(words[j-1])]:
				start = j - 1
			case j-2 > first && runOnDeterminers[strings.ToLower(words[j-2])]:
				start = j - 2
			default:
				return words
			}
		}
		if start-first < 2 || slices.ContainsFunc(words[first+1:start], func(w string) bool {
			low := strings.ToLower(w)
			return clauseOpeners[low] || low == "not"
		}) {
			return words
		}
		return words[:start]
	}
	return words
}

var (
	runOnCopulas     = wordSet(`is are was were it's that's there's he's she's`)
	runOnSubjects    = wordSet(`people it he she they there this`)
	runOnDeterminers = wordSet(`the a an their this`)
)

// clauseOpeners may stand before a clause's subject: conjunctions, adverbs, verbs of
// saying and thinking, and the heads of relative clauses.
var clauseOpeners = wordSet(`and but so or because cause 'cause when whenever while if once since until till
before after as though although then that where now yet also still just even only really honestly never always
actually basically probably maybe think thought guess know knew said say mean feel felt what which who part bit
thing things one ones way reason time times day days stuff everything something anything all than is was told
tell decided realised realized found figured hoped hope wish wished reckon noticed worried promised warned
explained saying`)

// informative says a title names at least two things a reader can hold on to: "The
// writing is too small", "Bed was great", not "People have the app", "They came late" or
// "It was the one", which only make sense beside the quote they came from.
func informative(words []string) bool {
	_, pol, _, _ := compiledTables()
	n := 0
	for _, w := range words {
		low := strings.ToLower(strings.Trim(w, ".,;:!?\"'“”‘’"))
		if base, _, ok := strings.Cut(low, "'"); ok {
			low = base
		}
		if pol.surface[low] == 0 && (len(low) < 3 || stopWords[low] || titlePersons[low] || lightWords[low]) {
			continue
		}
		n++
	}
	return n >= 2
}

// lightWords carry grammar, not content: a title needs words besides them.
var lightWords = wordSet(`have has had having get gets got getting gotten go goes went going gone come comes came
coming one ones some there here done thing things stuff way lot bit kind sort give gives gave given take takes
took taken make makes made put puts keep keeps kept everyone
everybody someone somebody anyone anybody nobody nothing something anything everything sometimes always never`)

// clauseTitle turns one quote into a title: its first readable segment.
func clauseTitle(quote, subject string) (string, bool) {
	for _, seg := range titleSegments(quote) {
		if t, ok := segmentTitle(seg, subject); ok {
			return t, true
		}
	}
	return "", false
}

// titleSegments are the quote's first sentence split at commas, semicolons and dashes,
// each alone and joined to the next, in order.
func titleSegments(quote string) []string {
	s := quote
	for off := 0; ; {
		i := strings.IndexAny(s[off:], ".?!")
		if i < 0 {
			break
		}
		// "Mrs. Ortiz" goes on: a title's abbreviation ends no sentence.
		if j := off + i; s[j] != '.' || !titleAbbrev(s[:j]) {
			s = s[:j]
			break
		}
		off += i + 1
	}
	// An aside between commas ("is, how do you say, a piece of home") goes, so that what
	// it interrupted joins up again.
	parts := slices.DeleteFunc(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ':' || r == '—' || r == '–' }),
		func(p string) bool { return asides.MatchString(p) })
	var out []string
	for i, p := range parts {
		out = append(out, p)
		if i+1 < len(parts) {
			out = append(out, p+" "+parts[i+1])
		}
	}
	return out
}

// titleFillers are dropped anywhere in a title; leadFillers only at its start.
var (
	titleFillers = wordSet(`um uh umm uhh erm er hmm ha haha honestly basically actually literally really just
totally innit`)
	leadFillers = wordSet(`and but so or because then also plus yeah yes oh well okay ok though however anyway
maybe mean especially now still`)
)

// fillerPhrases are asides of speech that a title drops wherever they occur.
var fillerPhrases = regexp.MustCompile(`(?i)\b(i don't know|i dunno|i won't lie|i'm not gonna lie|not gonna lie|to be honest|being honest|to be fair|i have to say|i'd say|i mean|you know|i think|i guess|i suppose|i reckon|kind of|sort of|a bit|for me|for us|tell you what|touch wood|if i'm honest|mind you|how do you say|what do you call it|what's it called|what's the word|or whatever)\b`)

// asides are phrases that interrupt a statement between commas while the speaker looks
// for a word; the statement reads on across them.
var asides = regexp.MustCompile(`(?i)^\s*(how do you say|what do you call it|what's it called|what's the word)\s*$`)

// cleanWords splits a segment into words and drops the fillers of speech.
func cleanWords(seg string) []string {
	seg = strings.NewReplacer("’", "'", "“", "", "”", "", "\"", "", "...", " ", "…", " ").Replace(seg)
	raw := strings.Fields(fillerPhrases.ReplaceAllString(seg, " "))
	var words []string
	for i := 0; i < len(raw); i++ {
		w := strings.Trim(raw[i], "'()[]")
		if w == "" {
			continue
		}
		low := strings.ToLower(w)
		// "like" is a filler at the edges of a segment, before a pause ("some, like,
		// chat") and before a number ("like fifteen"), a verb or a comparison otherwise
		// ("didn't like", "like a parent").
		if titleFillers[low] || low == "like," || (low == "like" && (i == 0 || i+1 == len(raw) ||
			numberWords[strings.ToLower(raw[i+1])] || unicode.IsDigit(rune(raw[i+1][0])))) {
			continue
		}
		words = append(words, w)
	}
	for len(words) > 0 && leadFillers[strings.ToLower(words[0])] {
		words = words[1:]
	}
	return words
}

// firstPerson maps the speaker's words to a neutral statement about participants.
var firstPerson = map[string][]string{
	"i": {"people"}, "i'm": {"people", "are"}, "i've": {"people", "have"}, "i'd": {"people", "would"},
	"i'll": {"people", "will"}, "me": {"them"}, "my": {"their"}, "mine": {"theirs"}, "myself": {"themselves"},
	"we": {"people"}, "we're": {"people", "are"}, "we've": {"people", "have"}, "we'd": {"people", "would"},
	"we'll": {"people", "will"}, "us": {"them"}, "our": {"their"}, "ours": {"theirs"}, "ourselves": {"themselves"},
}

// pluralVerbs agree a singular verb with "people".
var pluralVerbs = map[string]string{"am": "are", "was": "were", "wasn't": "weren't", "is": "are", "isn't": "aren't",
	"has": "have", "hasn't": "haven't", "doesn't": "don't", "does": "do"}

// neutralWords turns first-person words into third-person ones, and "it" at the start of
// the statement into the study's subject.
func neutralWords(words []string, subject string) []string {
	var out []string
	for i, w := range words {
		low := strings.ToLower(w)
		if i == 0 {
			switch low {
			case "it":
				if !extraposed(words) {
					out = append(out, subject)
					continue
				}
			case "it'd":
				out = append(out, subject, "would")
				continue
			case "it's":
				// "It's nice to see the team": an "it" that points forward stays.
				if !extraposed(words) {
					out = append(out, subject, "is")
					continue
				}
			}
		}
		// "it kept losing my bank connection": with no person in the statement, a
		// possessive is just the article.
		// "Let me pick" asks for everyone: "Let people pick".
		if (low == "me" || low == "us") && i > 0 && strings.EqualFold(words[i-1], "let") {
			out = append(out, "people")
			continue
		}
		if (low == "my" || low == "our") && i+1 < len(words) && strings.EqualFold(words[i+1], "own") {
			out = append(out, "their")
			continue
		}
		if (low == "my" || low == "our") && !slices.Contains(out, "people") {
			out = append(out, "the")
			continue
		}
		if rep, ok := firstPerson[low]; ok {
			// "I'd paid" is "I had paid"; "I'd pay" is "I would pay".
			if strings.HasSuffix(low, "'d") && i+1 < len(words) && isParticiple(strings.ToLower(words[i+1])) {
				rep = []string{rep[0], "had"}
			}
			out = append(out, rep...)
			continue
		}
		if len(out) > 0 && out[len(out)-1] == "people" {
			if v, ok := pluralVerbs[low]; ok {
				out = append(out, v)
				continue
			}
		}
		out = append(out, w)
	}
	// A subject phrase only at the start keeps its capital.
	for i := 1; i < len(out); i++ {
		if out[i] == subject && subject != "It" {
			out[i] = strings.ToLower(subject[:1]) + subject[1:]
		}
	}
	return out
}

// dropRestarts removes a speaker's restart of a clause: "the connection was, it was
// flaky" (the comma already gone) reads "the connection was flaky".
func dropRestarts(words []string) []string {
	for i := 0; i+2 < len(words); i++ {
		verb := strings.ToLower(words[i])
		if restartVerbs[verb] && restartPronouns[strings.ToLower(words[i+1])] && strings.ToLower(words[i+2]) == verb {
			return append(words[:i+1:i+1], dropRestarts(words[i+3:])...)
		}
	}
	return words
}

var (
	restartVerbs    = wordSet(`is was are were has had have`)
	restartPronouns = wordSet(`it they he she that this`)
)

// cutAtConjunction shortens a long statement at its first subordinate or coordinated
// clause ("… and the fix was logging in again"), keeping at least titleMinWords words.
func cutAtConjunction(words []string) []string {
	for i := titleMinWords; i < len(words); i++ {
		switch strings.ToLower(words[i]) {
		case "and", "but", "because", "so", "which", "when", "while", "until", "after", "before", "since", "where", "if":
			return words[:i]
		}
	}
	return words
}

// titleVerbs are common verbs of spoken answers that carry no regular ending.
var titleVerbs = wordSet(`is are was were be been being am has have had do does did done would could should
will can may might must kept keep keeps took take takes got get gets felt feel feels made make makes lost lose
loses went go goes came come comes saw see sees knew know knows thought think thinks found find finds gave give
gives left leave leaves put puts ran run runs sat sit sits said say says told tell tells paid pay pays spent
spend spends bought buy buys brought bring brings broke break breaks froze freeze freezes held hold holds
meant mean means stuck taught teach teaches learned learnt learn learns want wants need needs love loves hate
hates help helps helped work works worked seem seems let lets showed show shows became become becomes sank
sink began begin begins fell fall falls wrote write writes read reads cost costs clash clashes erode erodes
drop drops crash crashes freeze freezes save saves miss misses spoke speak speaks`)

// hasVerb says whether a title makes a statement: it has a verb, spotted by a list of
// common irregular verbs and by the regular past, negated and third-person endings.
func hasVerb(words []string) bool {
	for i, w := range words {
		low := strings.ToLower(strings.Trim(w, ".,;:!?'\""))
		if titleVerbs[low] || strings.HasSuffix(low, "n't") || (strings.HasSuffix(low, "ed") && len(low) > 4) {
			return true
		}
		// "the app crashes", "people skips": a plain present after a subject.
		if i > 0 && len(low) > 3 && strings.HasSuffix(low, "s") && !strings.HasSuffix(low, "ss") {
			prev := strings.ToLower(words[i-1])
			if prev == "it" || prev == "that" || prev == "this" || prev == "app" || prev == "course" || prev == "he" || prev == "she" {
				return true
			}
		}
	}
	return false
}

// readable rejects statements that only make sense inside the conversation: an opening
// question word, a dangling last word, or first person left over.
func readable(words []string) bool {
	first := strings.ToLower(words[0])
	switch first {
	case "which", "that", "who", "what", "where", "when", "why", "how", "if", "unless", "to", "of", "with", "for",
		"from", "is", "are", "was", "were", "am", "does", "did":
		// A clause's tail ("from the house account", "is the temperature of the dough")
		// has lost the subject a statement needs.
		return false
	}
	// A question the speaker asked ("Is it slow today") states nothing.
	if len(words) > 1 && questionAuxiliaries[first] && questionSubjects[strings.ToLower(words[1])] {
		return false
	}
	// An adverb that leads into a phrase rather than a clause is a fragment too:
	// "Discreetly on the phone", "Wrongly that if something was diagnosed".
	if len(words) > 1 && len(first) > 4 && strings.HasSuffix(first, "ly") && adverbTails[strings.ToLower(words[1])] {
		return false
	}
	// A past verb with no subject is an answer's fragment ("Frustrated the frozen one").
	if len(first) > 4 && strings.HasSuffix(first, "ed") && !strings.HasSuffix(first, "eed") {
		return false
	}
	// Someone else's doing is no participant's statement: "their partner uses it".
	if (first == "their" || first == "the") && len(words) > 1 && thirdParties[strings.ToLower(words[1])] {
		return false
	}
	if thirdParties[first] && first != "people" {
		return false
	}
	// "I'm a copywriter" rewritten is "People are a copywriter": who the speaker is,
	// in words that no longer agree, says nothing of the theme.
	if first == "people" && len(words) > 2 && (words[1] == "are" || words[1] == "were") && (words[2] == "a" || words[2] == "an") {
		return false
	}
	last := strings.ToLower(words[len(words)-1])
	if danglingWords[last] || titlePrepositions[last] || titleEnds[last] {
		return false
	}
	return true
}

// adverbTails, after an opening adverb, show it modifies a lost clause.
var adverbTails = wordSet(`that which on with in at from by for to of`)

// questionAuxiliaries open a question when one of questionSubjects follows them.
var (
	questionAuxiliaries = wordSet(`is are was were do does did can could would will should has have had`)
	questionSubjects    = wordSet(`it there people they he she we you this that`)
)

// titleEnds leave a statement unfinished: a verb that wants its complement ("people
// are") or a comparison's first half ("it's as simple as").
var titleEnds = wordSet(`people is are was were as`)

// titlePrepositions leave a title hanging when they end it ("sat in the waiting room for").
var titlePrepositions = wordSet(`for in on at from by about into onto over under through than`)

// isParticiple spots a past participle after "'d".
func isParticiple(w string) bool {
	return (strings.HasSuffix(w, "ed") && len(w) > 3) || w == "been" || w == "had" || w == "got" || w == "gotten" ||
		w == "done" || w == "made" || w == "seen" || w == "taken" || w == "gone" || w == "paid" || w == "lost" || w == "left"
}

// copulas describe rather than act: "it's three weeks out", "it was nice" say nothing of
// what the product did, so their "it" stays.
var copulas = wordSet(`is was 's felt feels seemed seems looks looked sounds sounded gets got`)

// extraposed says an opening "it" points forward to the rest of the sentence ("it's hard
// to", "it was nice that"), so it is no stand-in for the study's subject.
func extraposed(words []string) bool {
	if low := strings.ToLower(words[0]); low == "it's" || (len(words) > 1 && copulas[strings.ToLower(words[1])]) {
		return true
	}
	for i := 1; i < len(words) && i <= 4; i++ {
		switch strings.ToLower(words[i]) {
		case "to", "that", "when", "how", "being":
			return true
		}
	}
	return false
}

// surfaceWord is the word of the quotes whose stem is stem, as people said it, for
// titles that name a discovered cluster by its word.
func surfaceWord(quotes []string, stem string) string {
	st := newStemmer()
	for _, q := range quotes {
		for _, t := range tokenize(q, 0, len(q), st) {
			if t.stem == stem {
				w, _, _ := strings.Cut(t.low, "'")
				return w
			}
		}
	}
	return ""
}

// personWords counts the words of a title that stand for people: the speaker rewritten
// ("people", "them"), someone they speak of ("he", "the lady"), a name inside it.
func personWords(title string) int {
	n := 0
	for i, w := range strings.Fields(title) {
		low := strings.ToLower(strings.Trim(w, ".,;:!?"))
		if titlePersons[low] || (i > 0 && w != "" && unicode.IsUpper(rune(w[0])) && low != "i") {
			n++
		}
	}
	return n
}

var titlePersons = wordSet(`people them their theirs themselves they he she him his her hers lady guy man woman`)

// titleAbbrev says the text ends with a courtesy title's abbreviation ("Mrs", "Dr").
func titleAbbrev(s string) bool {
	k := strings.LastIndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	switch s[k+1:] {
	case "Mr", "Mrs", "Ms", "Dr", "St", "Prof":
		return true
	}
	return false
}

// questionTopic is what a question asks about, as a noun phrase for a title: "How do you
// feel about the pay: ..." asks about "the pay", "What do you think of the price, compared
// with ..." about "the price", "How has the internet been day to day?" about "the
// internet". It is "" when the question names no such phrase ("What went well?").
func questionTopic(q string) string {
	low := strings.ToLower(q)
	if len(low) != len(q) {
		return "" // lowering changed byte offsets: no safe way back to the question's own case
	}
	start := -1
	for _, p := range []string{" about ", " think of "} {
		if i := strings.Index(low, p); i >= 0 && (start < 0 || i < start) {
			start = i + len(p)
		}
	}
	if start < 0 {
		for _, re := range topicSubjects {
			if m := re.FindStringSubmatchIndex(low); m != nil {
				return trimTopic(q[m[2]:m[3]])
			}
		}
		return ""
	}
	return trimTopic(q[start:])
}

// topicSubjects find the subject of a question about one thing: "How has the internet
// been ...", "How did the installation go?", "What was your room like?", "How were the
// staff?".
var topicSubjects = []*regexp.Regexp{
	regexp.MustCompile(`^how (?:has|have|is|are|was|were) ((?:the|your) [a-z' -]+?) (?:been|worked|gone|going|felt|like)\b`),
	regexp.MustCompile(`^how (?:did|does|do) ((?:the|your) [a-z' -]+?) (?:go|work|hold up|feel)\b`),
	regexp.MustCompile(`^what (?:was|were|is|are|has been|have been) ((?:the|your) [a-z' -]+?) like\b`),
	regexp.MustCompile(`^how (?:are|were|is|was) ((?:the|your) [a-z' -]+?)\?`),
}

// topicEnds cut a question's topic phrase before what qualifies it.
var topicEnds = regexp.MustCompile(`[:?,;.(]| and (?:how|what|whether|if|about|your)\b| compared\b| so far\b| since\b| these days\b| overall\b| when\b| that\b| from\b| in general\b| itself\b| for you\b| at all\b| day to day\b`)

// trimTopic cuts a topic phrase, in the question's own case, to its noun phrase, in the
// participants' person ("your bill" is "the bill", "what you pay" is "what they pay").
func trimTopic(t string) string {
	if loc := topicEnds.FindStringIndex(strings.ToLower(t)); loc != nil {
		t = t[:loc[0]]
	}
	words := strings.Fields(t)
	if len(words) == 0 || len(words) > 5 {
		return ""
	}
	words[0] = strings.ToLower(words[0])
	switch words[0] {
	case "your":
		words[0] = "the"
	case "the", "what":
	default:
		return ""
	}
	for i, w := range words {
		switch w {
		case "you":
			words[i] = "they"
		case "your":
			words[i] = "their"
		case "you've", "you're", "yourself", "i", "me", "my":
			return ""
		}
	}
	return strings.Join(words, " ")
}

package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// minQuotes and nearBest shape a finding's evidence (quoteCuts): two quotes always, more
// only while they score within a tenth of the best.
const (
	minQuotes = 2
	nearBest  = 0.9
)

// quoteCuts says how many of a cluster's picks, clearest first, describe it and how many
// of those are shown as its evidence. Its title, summary and confidence read as many as
// the threshold asks, which is what shows the theme recurs, and beyond that only picks as
// strong as the best. Its evidence is the two clearest and then only those nearly as
// strong as the best: the weaker mentions add to the count but not to the quotes, since
// fewer of them support the finding (on the 168 held-out sets, 0.84 of the first two quotes
// of a finding that matches a theme are in answers coded for it, 0.77 of the third, 0.70 of
// the fourth). Within a tenth rather than a fifth, the share of all quotes in answers
// coded for their finding's theme went from 0.70 to 0.77 on the 84 blind sets of the usual
// size; findings whose quotes are mostly right rose with it, but those with a strict
// majority of right quotes fell (precision 0.566 -> 0.543), as a finding of two quotes
// with one wrong no longer has a third to outvote it.
func (a *analyzer) quoteCuts(picks []pick, thr int) (described, shown int) {
	described = len(picks)
	for i, p := range picks {
		if i >= thr && p.score < picks[0].score {
			described = i
			break
		}
	}
	described = min(described, a.maxEvidence)
	for i := minQuotes; i < described; i++ {
		if picks[i].score < nearBest*picks[0].score {
			return described, i
		}
	}
	return described, described
}

// findings turns clusters into the API's findings: a title a researcher would write, a
// summary with the count and the clearest quotes, and a key that names the theme by its
// stance and central concept, so a re-run on more interviews updates the same finding.
func (a *analyzer) findings(clusters []*cluster, recs []clauseRec, in Input) []Finding {
	n := len(in.Interviews)
	thr := a.minSupport(n)
	subject := studySubject(in.Campaign)
	out := make([]Finding, 0, len(clusters))
	titles := map[string][]string{} // the clause titles of each finding, by key, best first
	var said [][]string             // the clauses each finding in out quotes, for spareTitle
	for _, cl := range clusters {
		picks := a.evidence(cl, recs)
		described, shown := a.quoteCuts(picks, thr)
		picks = picks[:described]
		f := Finding{Frequency: cl.support, Confidence: kindConfidence[cl.class]}
		// Titles are read from the clauses themselves; a quote may also hold the sentence a
		// short verdict borrowed its topic from, which a title should not start with.
		quotes := make([]string, 0, len(picks))
		for _, p := range picks {
			r := recs[p.rec]
			iv := in.Interviews[r.iv]
			msg := iv.Messages[r.msg]
			f.Evidence = append(f.Evidence, Evidence{InterviewID: iv.ID, MessageID: msg.ID, Quote: clipQuote(msg.Content[r.from:r.to])})
			quotes = append(quotes, msg.Content[r.start:r.end])
		}
		cands := titleCandidates(quotes, subject, cl.class, a.topical(cl), true)
		// A question theme is about what its question asks about, whatever its quotes
		// say first ("The pay frustrated participants" over "A run across town was five").
		if t := questionThemeTitle(cl, in.Campaign.Questions); t != "" {
			cands = append([]string{t}, cands...)
		}
		if len(cands) == 0 && cl.primary < 0 {
			// A word cluster's fallback is a template that names nothing; a concept's
			// names its concept, which beats a statement without the stance.
			cands = titleCandidates(quotes, subject, cl.class, a.topical(cl), false)
		}
		if cl.primary < 0 {
			wf := a.wordFinding(cl, f, quotes, recs, in)
			wf.Evidence = wf.Evidence[:shown]
			titles[wf.Key] = cands
			out = append(out, wf)
			said = append(said, quotes[:shown])
			continue
		}
		main := a.lex.concepts[cl.primary]
		noun := lowerFirst(main.noun)
		switch cl.class {
		case classNeg:
			f.Type, f.Sentiment = TypePainPoint, SentimentNegative
			f.Title = fmt.Sprintf("%s frustrated participants", main.noun)
			if t, ok := negTitles[main.id]; ok {
				f.Title = t
			}
			f.Summary = fmt.Sprintf("%d of %d participants described problems with %s", cl.support, n, noun)
		case classPos:
			f.Type, f.Sentiment = TypeTheme, SentimentPositive
			f.Title = fmt.Sprintf("Participants valued %s", noun)
			if t, ok := posTitles[main.id]; ok {
				f.Title = t
			}
			f.Summary = fmt.Sprintf("%d of %d participants spoke well of %s", cl.support, n, noun)
		default:
			f.Type, f.Sentiment = TypeOpportunity, SentimentMixed
			f.Title = fmt.Sprintf("Participants want %s", main.wish)
			f.Summary = fmt.Sprintf("%d of %d participants asked for %s or made it a condition", cl.support, n, main.wish)
		}
		var also []string
		for _, c := range cl.concepts {
			if c != cl.primary {
				also = append(also, lowerFirst(a.lex.concepts[c].noun))
			}
		}
		if len(also) > 0 {
			f.Summary += fmt.Sprintf(" (also in terms of %s)", strings.Join(also, ", "))
		}
		f.Summary += "."
		if len(f.Evidence) > 0 {
			f.Summary += fmt.Sprintf(" For example: “%s”", example(f.Evidence[0].Quote))
			if len(f.Evidence) > 1 {
				f.Summary += fmt.Sprintf(" and “%s”", example(f.Evidence[1].Quote))
			}
			f.Summary += "."
		}
		f.Key = fmt.Sprintf("%s:%s", f.Type, main.id)
		f.Tags = []string{f.Type}
		for _, c := range cl.concepts {
			f.Tags = append(f.Tags, a.lex.concepts[c].id)
		}
		f.Evidence = f.Evidence[:shown]
		titles[f.Key] = cands
		out = append(out, f)
		said = append(said, quotes[:shown])
	}
	// Two discovered groups of one question can share their most common word: the
	// second gets a suffix, in cluster order, which is deterministic.
	seen := map[string]int{}
	cands := make([][]string, len(out))
	for i := range out {
		cands[i] = titles[out[i].Key]
		seen[out[i].Key]++
		if k := seen[out[i].Key]; k > 1 {
			out[i].Key = fmt.Sprintf("%s:%d", out[i].Key, k)
		}
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		return cmp.Or(cmp.Compare(out[y].Frequency, out[x].Frequency), cmp.Compare(out[x].Key, out[y].Key))
	})
	sorted := make([]Finding, len(out))
	used := map[string]bool{}
	for i, k := range order {
		f := out[k]
		// The title is the first clause title no finding before it took, else the
		// template; a template two findings share gets the first quote's words.
		title := f.Title
		for _, t := range cands[k] {
			if !used[strings.ToLower(t)] {
				title = t
				break
			}
		}
		// With nothing to name it by (no statement, no word of its own, a template
		// taken), the first quote it shows says what it is.
		if (title == "" || used[strings.ToLower(title)]) && len(f.Evidence) > 0 {
			title = spareTitle(said[k], subject, used)
		}
		used[strings.ToLower(title)] = true
		f.Title = clipText(title, maxTitle, "")
		f.Summary = clipText(f.Summary, maxSummary, "…")
		for j, tag := range f.Tags {
			f.Tags[j] = clipText(tag, maxTag, "")
		}
		sorted[i] = f
	}
	return sorted
}

// The API's bounds on what a client writes: a finding the analyzer makes stays within them,
// so one read from the API can be sent back as it is, even from a run-on answer of ten
// thousand characters.
const (
	maxTitle   = 200
	maxSummary = 5000
	maxQuote   = 2000
	maxTag     = 50
	maxExample = 300 // a quote inside a summary
)

// clipQuote cuts a quote longer than maxQuote runes at the last space before the bound: what
// is left is the start of the clause, still an exact substring of the message.
func clipQuote(q string) string {
	if utf8.RuneCountInString(q) <= maxQuote {
		return q
	}
	return strings.TrimRight(clipText(q, maxQuote, ""), " ,;:-–—")
}

// example is a quote as a summary shows it: whole, or its start and an ellipsis.
func example(q string) string { return clipText(q, maxExample, "…") }

// clipText cuts s to at most n runes, at the last space before the bound when there is one
// in its second half, and marks the cut with more.
func clipText(s string, n int, more string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	n -= utf8.RuneCountInString(more)
	end := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	if sp := strings.LastIndexAny(s[:end], " \n\t"); sp > end/2 {
		end = sp
	}
	return strings.TrimRight(s[:end], " \n\t") + more
}

// kindConfidence is a finding's confidence: the share of the analyzer's findings of its
// stance that matched a hand-coded theme on every hand-coded set (testdata/README.md,
// eleventh round; praise and wishes revised in the eighteenth, when fewer weak quotes
// were shown). Within a stance, nothing the analyzer knows of a
// finding (its support, the share of its quotes that state the stance in their own words,
// how strong its quotes are, which path found it) told the findings that matched from
// those that did not, on sets it had not seen, so confidence does not vary with them.
// TestQuality checks it stays within confidenceSlack of what every hand-coded set shows.
var kindConfidence = map[polClass]float64{classNeg: 0.90, classPos: 0.83, classWish: 0.96}

// wordFinding labels a cluster held together by a word outside the lexicon. With no
// concept to name it, its title is its clearest quote, cleaned up.
func (a *analyzer) wordFinding(cl *cluster, f Finding, quotes []string, recs []clauseRec, in Input) Finding {
	word := strings.TrimPrefix(cl.stem, "#")
	// The fallback title names the cluster by the word of its own that most of its
	// interviews use: a concept's name would put a general label ("trust and
	// monitoring") on what people said in other words.
	topic := surfaceWord(quotes, titleWord(cl, recs, word))
	// Before any template, the first quote that reads as a statement: the clearest
	// quote says what the cluster is about better than "problems with <word>".
	stated := ""
	for _, q := range quotes {
		if t, ok := clauseTitle(q, studySubject(in.Campaign)); ok {
			stated = t
			break
		}
	}
	var title string
	switch cl.class {
	case classNeg:
		f.Type, f.Sentiment = TypePainPoint, SentimentNegative
		f.Summary = fmt.Sprintf("%d of %d participants complained in similar words", cl.support, len(in.Interviews))
		title = cmp.Or(stated, topicTitle("Participants had problems with %s", topic))
	case classPos:
		f.Type, f.Sentiment = TypeTheme, SentimentPositive
		f.Summary = fmt.Sprintf("%d of %d participants praised this in similar words", cl.support, len(in.Interviews))
		title = cmp.Or(stated, topicTitle("Participants spoke well of %s", topic))
	default:
		f.Type, f.Sentiment = TypeOpportunity, SentimentMixed
		f.Summary = fmt.Sprintf("%d of %d participants asked for this in similar words", cl.support, len(in.Interviews))
		title = cmp.Or(stated, topicTitle("Participants asked for changes to %s", topic))
	}
	f.Title = title
	if cl.whole && int(cl.qid) < len(in.Campaign.Questions) {
		// A question theme holds answers that share a stance, not words.
		said := "spoke well of it"
		switch cl.class {
		case classNeg:
			said = "complained"
		case classWish:
			said = "asked for a change"
		}
		f.Summary = fmt.Sprintf("%d of %d participants %s when asked “%s”", cl.support, len(in.Interviews), said, in.Campaign.Questions[cl.qid])
	}
	if cl.qid >= 0 {
		// A discovered cluster: found in the answers to one question, held together by
		// the words its interviews share.
		if !cl.whole {
			f.Summary += fmt.Sprintf(" in answers to question %d", cl.qid+1)
			if word != "" {
				f.Summary += fmt.Sprintf(" (most often “%s”)", word)
			}
		}
		f.Summary += "."
		// The first theme of a question is keyed by the question alone: its most common
		// word changes as interviews are added, the theme does not.
		f.Key = fmt.Sprintf("%s:topic:q%d:%s", f.Type, cl.qid+1, word)
		if cl.lead {
			f.Key = fmt.Sprintf("%s:topic:q%d", f.Type, cl.qid+1)
		}
		if cl.whole {
			f.Key = fmt.Sprintf("%s:question:q%d", f.Type, cl.qid+1)
		}
	} else {
		f.Summary += fmt.Sprintf(" (“%s”).", word)
		f.Key = fmt.Sprintf("%s:word:%s", f.Type, cl.stem)
		if cl.cooc {
			f.Key = fmt.Sprintf("%s:topic:%s", f.Type, cl.stem)
		}
	}
	if len(f.Evidence) > 1 {
		f.Summary += fmt.Sprintf(" For example: “%s” and “%s”.", example(f.Evidence[0].Quote), example(f.Evidence[1].Quote))
	}
	f.Tags = []string{f.Type}
	if word != "" {
		f.Tags = append(f.Tags, word)
	}
	return f
}

// spareTitle is the title of a finding whose candidates and template others took: the
// first statement of its quoted clauses no finding uses, else its first in neutral words.
func spareTitle(quotes []string, subject string, used map[string]bool) string {
	for _, q := range quotes {
		for _, seg := range titleSegments(q) {
			if t, ok := segmentTitle(seg, subject); ok && !used[strings.ToLower(t)] {
				return t
			}
		}
	}
	return cleanTitle(strings.Join(neutralWords(cleanWords(quotes[0]), subject), " "))
}

// cleanTitle turns a quote into a title: first letter up, stray and trailing punctuation
// off, at most twelve words.
func cleanTitle(q string) string {
	// A filler cut from "saved, um, eleven" leaves its comma standing alone.
	words := slices.DeleteFunc(strings.Fields(q), func(w string) bool {
		return !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
	})
	if len(words) > 12 {
		words = append(words[:12], "…")
	}
	t := strings.TrimRight(strings.Join(words, " "), ".,;:!? ")
	r, size := utf8.DecodeRuneInString(t)
	if size == 0 {
		return "Recurring remark"
	}
	return string(unicode.ToUpper(r)) + t[size:]
}

func lowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	// Keep acronyms ("SSO setup") as they are.
	if next, _ := utf8.DecodeRuneInString(s[size:]); unicode.IsUpper(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[size:]
}

// negTitles and posTitles word a finding the way a researcher would, for the concepts
// where "<noun> frustrated participants" reads awkwardly. They stay general: the quotes
// carry the specifics.
var negTitles = map[string]string{
	"cost":          "The cost was hard to justify",
	"speed":         "Things took too long",
	"effort":        "It took more effort than people could give",
	"fatigue":       "Participants felt tired and stretched",
	"usability":     "The product was confusing or hard to use",
	"learning":      "Learning it was hard",
	"packaging":     "There was too much packaging and waste",
	"quality":       "Quality and freshness were unreliable",
	"scheduling":    "Skipping, pausing and schedules were hard to manage",
	"plan":          "The plan options did not fit",
	"returning":     "Few would come back",
	"reliability":   "Bugs and failures got in the way",
	"support":       "Support was slow or unhelpful",
	"communication": "Communication and notifications fell short",
	"setup":         "Setup and connecting systems was the main hurdle",
	"access":        "Sign-in, access and permissions got in the way",
	"documentation": "The documentation was out of date or unhelpful",
	"delivery":      "Deliveries were unreliable",
	"commute":       "The commute costs time and money",
	"office":        "Desks and meeting rooms are hard to get",
	"focus":         "Noise and interruptions make it hard to focus",
	"social":        "People felt isolated",
	"meetings":      "There are too many meetings and calls",
	"caring":        "Schedules clash with childcare and caring",
	"flexibility":   "The rules leave too little flexibility",
	"management":    "Monitoring erodes trust",
	"career":        "Career growth feels blocked",
	"appointments":  "Appointments are hard to get soon enough",
	"prescriptions": "Prescription refills are slow and opaque",
	"results":       "Test results are slow or hard to understand",
	"telehealth":    "Video visits are unreliable",
	"privacy":       "Participants worry about privacy",
	"records":       "Records are hard to get at",
	"accessibility": "Text is too small or hard to read",
	"language":      "Language support is lacking",
	"safety":        "Safety worries came up",
	"taste":         "The food disappointed",
	"variety":       "There was not enough variety",
	"health":        "Health worries came up",
	"convenience":   "It was less convenient than hoped",
}

var posTitles = map[string]string{
	"cost":          "The price felt fair",
	"speed":         "Getting results was quick",
	"learning":      "Learning new skills was what people valued most",
	"support":       "Support was fast and helpful",
	"social":        "Time together helped people connect and learn",
	"communication": "Reminders and notifications help",
	"taste":         "The food was good",
	"variety":       "The variety was valued",
	"convenience":   "The convenience was valued",
	"usability":     "It was easy to use",
	"quality":       "The quality was good",
	"documentation": "The guides were helpful",
	"telehealth":    "Video visits save a trip",
	"health":        "It helped people live more healthily",
	"flexibility":   "The flexibility was valued",
	"setup":         "Setup was easy",
	"delivery":      "Deliveries were reliable",
}

// topical says whether words name a cluster's theme: a term of one of its concepts, its
// word, or a word its interviews share.
func (a *analyzer) topical(cl *cluster) func([]token) bool {
	return func(toks []token) bool {
		// A cluster grown from a thesaurus family is about the clauses that name it
		// ("went out of her way", "brought me a chair" for kindness).
		if cl.cooc && a.namesCoreFamily(cl, toks) {
			return true
		}
		for i, t := range toks {
			if cl.cooc {
				if m, ok := a.lex.match(toks, i); cl.core[t.stem] || (ok && m.concept >= 0 && cl.core[conceptWord(m.concept)]) {
					return true
				}
				continue
			}
			if t.stem == cl.stem || cl.shared[t.stem] {
				return true
			}
			if m, ok := a.lex.match(toks, i); ok && m.concept >= 0 && (slices.Contains(cl.concepts, m.concept) || cl.shared[conceptWord(m.concept)]) {
				return true
			}
		}
		return false
	}
}

// namesCoreFamily says words name a thesaurus family a co-occurrence cluster grew from.
func (a *analyzer) namesCoreFamily(cl *cluster, toks []token) bool {
	none := make([]bool, len(toks))
	for _, f := range a.thes.familiesOf(toks, none, none) {
		if cl.core[a.thes.families[f].word] {
			return true
		}
	}
	return false
}

func topicTitle(format, topic string) string {
	if topic == "" {
		return ""
	}
	return fmt.Sprintf(format, topic)
}

// titleWord is the free word (outside the lexicon) that most of a cluster's interviews
// use, at least half of them, for its fallback title; ties go to the earlier word in
// sort order.
func titleWord(cl *cluster, recs []clauseRec, fallback string) string {
	df := map[string]map[int32]bool{}
	for _, id := range cl.recs {
		for _, w := range recs[id].stems {
			if len(cl.shared) == 0 || cl.shared[w] || w == cl.stem {
				addDF(df, w, recs[id].iv)
			}
		}
	}
	best, bestN := "", 0
	for w, ivs := range df {
		if n := len(ivs); n > bestN || (n == bestN && w < best) {
			best, bestN = w, n
		}
	}
	// A word only a few of them use does not name the cluster.
	if best == "" || 2*bestN < cl.support {
		if strings.HasPrefix(fallback, "#") {
			return ""
		}
		return fallback
	}
	return best
}

// questionThemeTitle names a question theme of praise or complaint by its question's
// topic, or "" when the question names none.
func questionThemeTitle(cl *cluster, questions []string) string {
	if !cl.whole || int(cl.qid) >= len(questions) || cl.qid < 0 {
		return ""
	}
	topic := questionTopic(questions[cl.qid])
	if topic == "" {
		return ""
	}
	switch cl.class {
	case classNeg:
		return strings.ToUpper(topic[:1]) + topic[1:] + " frustrated participants"
	case classPos:
		return "Participants valued " + topic
	}
	return ""
}

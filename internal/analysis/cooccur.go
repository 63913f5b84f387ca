package analysis

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Co-occurrence clusters: themes found from the words people share, whatever their stance.
//
// The concept, word and question clusters (cluster.go, discover.go) start from a stance
// and look for the words that go with it, so a theme whose clauses carry no evaluative
// word the analyzer knows ("and then nothing", "I sat there for fifty minutes") is lost,
// and so is one told in two different questions. Here the topic comes first. A content
// word that several interviews use, but not nearly all of them, is a candidate; so is a
// pair of words that three or more interviews use in one clause (a pair can make a theme
// of words everyone uses, "pay" with "phone"). Candidates whose clauses mostly coincide
// are one theme. Only then is the stance read: the majority of the cluster's own-stance
// clauses gives it, clauses of the opposite stance are dropped ("the docs were great" is
// no evidence that the docs are outdated), and a wish joins a complaint about the same
// thing. Negated, hypothetical, second-hand and echoed mentions never reach the records
// (message.go), so they cannot vote.

// cooccurSeed is one candidate: a word or a pair of words and the clauses that carry it.
type cooccurSeed struct {
	words []string
	lead  []string // the words of the seed a merged group started from
	recs  []int    // ascending
	sup   int      // distinct interviews
}

// cooccurMaxShare is the largest share of the interviews a single word may be used in and
// still stand for a theme alone; a word used more widely is the study's own vocabulary,
// and only a pair made with it can name a theme.
const cooccurMaxShare = 0.75

// cooccurPairWords caps the words of a clause that form pairs, so a long clause costs a
// bounded amount.
const cooccurPairWords = 10

// cooccurClusters returns the co-occurrence clusters of recs that no cluster in out already
// holds.
func cooccurClusters(recs []clauseRec, th *thesaurus, n, thr int, protocol map[string]bool, sh shape, out []*cluster, outAnswers [][]int64) []*cluster {
	seedMin := max(3, int(math.Ceil(0.75*float64(thr))))
	// The opening question, unless it asks for an evaluation, is the warm-up: its
	// answers give background and motives (discover.go).
	warmup := sh.warmup
	ws := make([][]string, len(recs))
	for i, r := range recs {
		if (r.class != classNone || r.famStance != classNone) && (r.qid != 0 || !warmup) {
			ws[i] = cooccurWords(r, th)
		}
	}
	seeds, df := cooccurSeeds(recs, ws, th, n, seedMin, protocol)
	if debugf != nil {
		for _, s := range seeds {
			debugf("seed %v sup %d clauses %d", s.words, s.sup, len(s.recs))
		}
	}
	found := mergeSeeds(recs, seeds, func(s *cooccurSeed) bool { _, ok := soleFamily(th, s.words); return ok })
	grow := func(mine []int, lead []string, class polClass) []int {
		return growInHome(recs, ws, th, mine, lead, class, float64(n)*cooccurMaxShare)
	}
	var kept []*cluster
	for _, s := range found {
		f, _ := soleFamily(th, s.lead)
		cl := stanceCluster(recs, s, thr, f.stance, grow)
		if cl == nil {
			continue
		}
		// A family seeds alone only as what it is: dirt found as praise is a
		// coincidence of words ("cleaned up the mess in the books").
		if f.stance != classNone && f.stance != cl.class {
			if debugf != nil {
				debugf("cooc %v %v support %d: against its family's stance", cl.class, s.words, cl.support)
			}
			continue
		}
		// As for concepts (dropScattered): a theme comes up where the protocol leads to
		// it, so some question holds homeFloor of its interviews; a word whose mentions
		// are scattered one or two per question is picking up unrelated remarks.
		// A family said almost only in its own stance (three quarters of the interviews
		// that use it at all, as for a free word, stemCandidates) is specific enough to
		// be told across questions: two in one question do.
		specific := f.stance != classNone && float64(cl.support) >= 0.75*float64(df[s.lead[0]])
		if homeSupport(cl, recs) < homeFloor-boolInt(specific) {
			if debugf != nil {
				debugf("cooc %v %v support %d: scattered", cl.class, s.words, cl.support)
			}
			continue
		}
		// A family of praise or complaint is one thing by construction; its clauses
		// must still share a further word, but a word the whole study uses counts
		// ("the towels", "the shower" in a study of hotel stays).
		wide := func(w string) bool { return f.stance == classNone && float64(df[w]) > cooccurMaxShare*float64(n) }
		if !coherent(recs, ws, cl, s.lead, wide) {
			if debugf != nil {
				debugf("cooc %v %v support %d: incoherent", cl.class, s.words, cl.support)
			}
			continue
		}
		ans := recAnswers(recs, cl.recs)
		if heldBy(ans, out, outAnswers) {
			if debugf != nil {
				debugf("cooc %v %v support %d: already held", cl.class, s.words, cl.support)
			}
			continue
		}
		if debugf != nil {
			debugf("cooc %v %v support %d: kept", cl.class, s.words, cl.support)
		}
		kept = append(kept, cl)
		out = append(out, cl)
		outAnswers = append(outAnswers, ans)
	}
	return kept
}

// cooccurWords are the clause's topic words, each once, in a fixed order: its thesaurus
// families first, so that a long clause still pairs them (cooccurPairWords), then its
// free words and concepts.
func cooccurWords(r clauseRec, th *thesaurus) []string {
	w := recWords(r)
	out := make([]string, 0, len(w)+len(r.families))
	for _, f := range r.families {
		if w := th.families[f].word; !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, x := range w {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// cooccurSeeds counts every word and every pair of words of a clause by distinct
// interview, in one pass (records come in interview order), and keeps the ones heard in
// seedMin interviews or more: a single word only when it is not the protocol's and not
// used by nearly everyone, a pair when at least one of its words is the participants'.
func cooccurSeeds(recs []clauseRec, ws [][]string, th *thesaurus, n, seedMin int, protocol map[string]bool) ([]*cooccurSeed, map[string]int) {
	type count struct {
		sup  int
		last int32
	}
	single := map[string]*count{}
	pairs := map[[2]string]*count{}
	bump := func(c *count, iv int32) {
		if c.last != iv {
			c.sup++
			c.last = iv
		}
	}
	for i, words := range ws {
		iv := recs[i].iv
		for k, w := range words {
			c := single[w]
			if c == nil {
				c = &count{last: -1}
				single[w] = c
			}
			bump(c, iv)
			if k >= cooccurPairWords {
				continue
			}
			for _, v := range words[k+1 : min(len(words), cooccurPairWords)] {
				if (protocol[w] && protocol[v]) || !pairable(th, w, v) {
					continue
				}
				key := [2]string{min(w, v), max(w, v)}
				c := pairs[key]
				if c == nil {
					c = &count{last: -1}
					pairs[key] = c
				}
				bump(c, iv)
			}
		}
	}
	wide := func(w string) bool { return float64(single[w].sup) > cooccurMaxShare*float64(n) }
	var seeds []*cooccurSeed
	index := map[string]int{} // seed key -> position, to fill the clauses in a second pass
	for w, c := range single {
		// A concept is a quality ("slow", "confusing", "the cost") more than a topic: it
		// names a theme only with a word of the participants' (the concept path keeps the
		// themes it holds alone).
		// A thesaurus family seeds alone only when it is a complaint or praise in itself
		// (dirt, kindness); a family of topics (price, location) is as broad as a
		// concept and names a theme only in a pair.
		if f, ok := th.family(w); ok && f.stance == classNone {
			continue
		}
		if c.sup >= seedMin && !protocol[w] && !wide(w) && !strings.HasPrefix(w, "#") {
			index[w] = len(seeds)
			seeds = append(seeds, &cooccurSeed{words: []string{w}, sup: c.sup})
		}
	}
	for k, c := range pairs {
		if c.sup < seedMin {
			continue
		}
		// A pair adds something only when it is narrower than each of its words: a word
		// that is a seed of its own already holds every clause the pair does.
		if _, ok := index[k[0]]; ok {
			continue
		}
		if _, ok := index[k[1]]; ok {
			continue
		}
		index[k[0]+" "+k[1]] = len(seeds)
		seeds = append(seeds, &cooccurSeed{words: []string{k[0], k[1]}, sup: c.sup})
	}
	df := make(map[string]int, len(single))
	for w, c := range single {
		df[w] = c.sup
	}
	if len(seeds) == 0 {
		return nil, df
	}
	for i, words := range ws {
		for k, w := range words {
			if p, ok := index[w]; ok {
				seeds[p].recs = append(seeds[p].recs, i)
			}
			if k >= cooccurPairWords {
				continue
			}
			for _, v := range words[k+1 : min(len(words), cooccurPairWords)] {
				if p, ok := index[min(w, v)+" "+max(w, v)]; ok {
					if l := len(seeds[p].recs); l == 0 || seeds[p].recs[l-1] != i {
						seeds[p].recs = append(seeds[p].recs, i)
					}
				}
			}
		}
	}
	slices.SortFunc(seeds, func(x, y *cooccurSeed) int {
		return cmp.Or(cmp.Compare(y.sup, x.sup), cmp.Compare(len(x.words), len(y.words)),
			slices.Compare(x.words, y.words))
	})
	return seeds, df
}

// coherent says a cluster is about one thing: beside the words it was found by, half its
// interviews share some other word with another of its interviews (a card fee is told
// with "pay" and "margin", a late reminder with "chase"), a word not everyone uses.
// Unrelated remarks that happen to share one word ("around four", "around the tub")
// share nothing else.
func coherent(recs []clauseRec, ws [][]string, cl *cluster, lead []string, wide func(string) bool) bool {
	df := map[string]map[int32]bool{}
	for _, id := range cl.recs {
		for _, w := range ws[id] {
			if !slices.Contains(lead, w) && !wide(w) {
				addDF(df, w, recs[id].iv)
			}
		}
	}
	linked := map[int32]bool{}
	for _, ivs := range df {
		if len(ivs) < 2 {
			continue
		}
		for iv := range ivs {
			linked[iv] = true
		}
	}
	if debugf != nil {
		debugf("coherence %v: %d of %d", lead, len(linked), cl.support)
	}
	return 2*len(linked) >= cl.support
}

// mergeSeeds joins seeds whose clauses mostly coincide: most shared first, a seed joins
// the first group that holds mergeOverlap of its clauses, or starts one.
//
// Overlap is counted in answers, not clauses: one answer tells a theme in several
// clauses and words ("it's a hundred degrees up there", "the fans don't reach").
//
// A seed that stands alone (a thesaurus family of complaint or praise) always starts its
// own group: joined to a broad group of its answers it would be lost in it.
func mergeSeeds(recs []clauseRec, seeds []*cooccurSeed, alone func(*cooccurSeed) bool) []*cooccurSeed {
	var groups []*cooccurSeed
	var groupAns [][]int64
	for _, s := range seeds {
		ans := recAnswers(recs, s.recs)
		joined := false
		for i, g := range groups {
			if alone(s) {
				break
			}
			if overlap(ans, groupAns[i]) >= mergeOverlap*float64(min(len(ans), len(groupAns[i]))) {
				g.words = append(g.words, s.words...)
				g.recs = unionSorted(g.recs, s.recs)
				g.sup = distinctInterviews(recs, g.recs)
				groupAns[i] = unionSorted(groupAns[i], ans)
				joined = true
				break
			}
		}
		if !joined {
			groups = append(groups, &cooccurSeed{words: slices.Clone(s.words), lead: s.words, recs: slices.Clone(s.recs), sup: s.sup})
			groupAns = append(groupAns, ans)
		}
	}
	return groups
}

// stanceCluster reads a group's stance from the majority of its interviews and keeps the
// clauses that agree with it; nil when no stance holds thr interviews, or too few of them
// state it in their own words. A group grown from a family that is praise or complaint in
// itself (given) takes that stance: kindness told inside a complaint ("the room was a
// mess, but she came straight up") is still kindness, and is heard in its own clauses.
func stanceCluster(recs []clauseRec, g *cooccurSeed, thr int, given polClass, grow func([]int, []string, polClass) []int) *cluster {
	votes := map[polClass]map[int32]bool{classNone: {}, classNeg: {}, classPos: {}, classWish: {}}
	inherited := map[polClass]map[int32]bool{classNone: {}, classNeg: {}, classPos: {}, classWish: {}}
	for _, id := range g.recs {
		r := ownStance(recs[id])
		if r.explicit && !r.fromAnswer {
			votes[r.class][r.iv] = true
		}
		inherited[r.class][r.iv] = true
	}
	neg, pos, wish := len(votes[classNeg]), len(votes[classPos]), len(votes[classWish])
	// The polar stance most interviews take in their own words, else with the stance
	// their answers inherit; a wish goes with either.
	polar, against := classNeg, classPos
	if pos > neg || (pos == neg && len(inherited[classPos]) > len(inherited[classNeg])) {
		polar, against = classPos, classNeg
	}
	switch given {
	case classNeg:
		polar, against = classNeg, classPos
	case classPos:
		polar, against = classPos, classNeg
	}
	var mine []int
	own := map[int32]bool{}
	for _, id := range g.recs {
		r := ownStance(recs[id])
		if r.class == against || r.class == classNone {
			continue
		}
		mine = append(mine, id)
		if r.explicit && !r.fromAnswer {
			own[r.iv] = true
		}
	}
	sup := distinctInterviews(recs, mine)
	// One interview short, a theme told in its own words by the others may be told in
	// plainer ones where the protocol asks about it (growInHome).
	if sup == thr-1 && grow != nil {
		mine = grow(mine, g.lead, polar)
		sup = distinctInterviews(recs, mine)
	}
	if debugf != nil {
		debugf("coocstance %v neg %d pos %d wish %d sup %d own %d", g.words, neg, pos, wish, sup, len(own))
	}
	if sup < thr || len(own) < 2 || 4*len(own) < sup {
		return nil
	}
	class := polar
	if wish >= len(votes[polar]) && given == classNone {
		class = classWish
	}
	shared := map[string]bool{}
	for _, w := range g.words {
		shared[w] = true
	}
	// The words of the seed the group grew from name it: a title is about them, not
	// about a word merged in with other answers ("card fees", not "send").
	core := map[string]bool{}
	for _, w := range g.lead {
		core[w] = true
	}
	return &cluster{class: class, primary: -1, qid: -1, cooc: true, stem: g.words[0], shared: shared, core: core, recs: mine, support: sup}
}

// pairable says two words may make a pair seed: a family of topics (price, location)
// pairs only with another family or a concept, never with a free word, which it would
// join to half the study ("pay" with "phone").
func pairable(th *thesaurus, w, v string) bool {
	fw, okw := th.family(w)
	fv, okv := th.family(v)
	topicW, topicV := okw && fw.stance == classNone, okv && fv.stance == classNone
	if !topicW && !topicV {
		return true
	}
	return tagged(w) && tagged(v)
}

// tagged says a topic word is a thesaurus family's or a lexicon concept's, not a free
// word: a kind of thing rather than a thing ("@price", "#cost", not "station").
func tagged(x string) bool { return strings.HasPrefix(x, "@") || strings.HasPrefix(x, "#") }

// ownStance is a record as the co-occurrence clusters read it: a clause whose own
// words carry no stance takes its families' (famStance) when it has none, or only the
// whole answer's ("the towels had a stain" is a complaint). A stance it inherited
// from its sentence or question stays: "they hand you a broken program to fix" in
// praise of the exercises is no complaint.
func ownStance(r clauseRec) clauseRec {
	if r.famStance != classNone && (r.class == classNone || r.class == r.famStance || r.fromAnswer) {
		r.class, r.explicit, r.fromAnswer = r.famStance, true, false
	}
	return r
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// soleFamily is the thesaurus family a seed is made of alone, if it is one.
func soleFamily(th *thesaurus, lead []string) (family, bool) {
	if len(lead) != 1 {
		return family{}, false
	}
	return th.family(lead[0])
}

// heldBy says a cluster already found holds most of these answers, or these answers hold
// most of one: the same theme, which stays as it was found.
func heldBy(ans []int64, out []*cluster, outAnswers [][]int64) bool {
	for i := range out {
		o := overlap(ans, outAnswers[i])
		if 2*o >= float64(len(ans)) || o >= mergeOverlap*float64(len(outAnswers[i])) {
			return true
		}
	}
	return false
}

// growInHome adds to a cluster the clauses of other interviews that answer its home
// question (the one most of its interviews answer), do not take the opposite stance and
// share a family or concept with two of its interviews beyond the words that found it (a
// free word shared that way is too often a coincidence, "the girl next to me"): "I got an
// answer four days later" beside "a copy-paste reply, two days later" in answers about
// support. A clause that says its stance in no word the analyzer knows is still about
// the theme when it answers the same question in the theme's own words.
func growInHome(recs []clauseRec, ws [][]string, th *thesaurus, mine []int, lead []string, class polClass, wideDF float64) []int {
	perQ := map[int16]map[int32]bool{}
	in := map[int32]bool{}
	df := map[string]map[int32]bool{}
	for _, id := range mine {
		r := recs[id]
		in[r.iv] = true
		if r.qid >= 0 {
			if perQ[r.qid] == nil {
				perQ[r.qid] = map[int32]bool{}
			}
			perQ[r.qid][r.iv] = true
		}
		for _, w := range ws[id] {
			if !slices.Contains(lead, w) {
				addDF(df, w, r.iv)
			}
		}
	}
	home, best := int16(-1), 1
	for q, ivs := range perQ {
		if len(ivs) > best || (len(ivs) == best && q < home) {
			home, best = q, len(ivs)
		}
	}
	if home < 0 {
		return mine
	}
	all := map[string]map[int32]bool{}
	for i, r := range recs {
		for _, w := range wordsOf(recs, ws, th, i) {
			addDF(all, w, r.iv)
		}
	}
	var grown []int
	for i, r := range recs {
		// Trouble is often told flatly, as a story with no word of complaint; praise
		// is said. A plain clause may grow a complaint, not praise: beside a praise
		// theme it is as often the shrug of a counter-stance ("at pack we use the
		// fixed ones").
		if c := ownStance(r).class; r.qid != home || in[r.iv] || c == opposite(class) || (c == classNone && class != classNeg) {
			continue
		}
		for _, w := range wordsOf(recs, ws, th, i) {
			if tagged(w) && len(df[w]) >= 2 && float64(len(all[w])) <= wideDF {
				grown = append(grown, i)
				break
			}
		}
	}
	if len(grown) == 0 {
		return mine
	}
	return unionSorted(mine, grown)
}

// wordsOf are a record's topic words, whether or not it carries a stance.
func wordsOf(recs []clauseRec, ws [][]string, th *thesaurus, i int) []string {
	if ws[i] != nil {
		return ws[i]
	}
	return cooccurWords(recs[i], th)
}

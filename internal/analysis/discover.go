package analysis

import (
	"cmp"
	"slices"
)

// Discovered themes: clusters the lexicon has no concept for, found from the data itself.
//
// A study's protocol asks about one topic per question, and people who answer a question
// with the same stance in their own words mostly talk about the same thing, even when
// they share no word with each other ("the train", "petrol", "the M4" in answers about the
// commute). The question is only a weak signal of topic: it never makes a clause
// evidence on its own. A pool is the own-stance clauses, with the stance in their own
// words, that answer one question; a pool clause joins a discovered cluster only when it
// shares a word with clauses of other interviews in the pool, and the cluster must be
// heard in as many distinct interviews as any theme. Pools already held by a concept or
// word cluster of the same stance add nothing.

type poolKey struct {
	qid   int16
	class polClass
}

// discoverQuestionClusters returns the discovered clusters of recs.
func discoverQuestionClusters(recs []clauseRec, thr int, out []*cluster, outAnswers [][]int64, protocol map[string]bool, sh shape) []*cluster {
	// Where each word is used at all: by interview over the whole corpus, and by
	// interview within the answers to each question, whatever the stance.
	corpusDF := map[string]map[int32]bool{}
	qDF := map[poolKey]map[string]map[int32]bool{}
	ws := make([][]string, len(recs))
	for i := range recs {
		ws[i] = recWords(recs[i])
	}
	pools := map[poolKey][]int{}
	answered := map[int16]map[int32]bool{}
	explicitAns := map[polClass]map[int64]bool{}
	for i, r := range recs {
		if r.explicit {
			if explicitAns[r.class] == nil {
				explicitAns[r.class] = map[int64]bool{}
			}
			explicitAns[r.class][recAnswer(r)] = true
		}
		words := ws[i]
		for _, w := range words {
			addDF(corpusDF, w, r.iv)
			if r.qid >= 0 {
				qk := poolKey{r.qid, classNone}
				if qDF[qk] == nil {
					qDF[qk] = map[string]map[int32]bool{}
				}
				addDF(qDF[qk], w, r.iv)
			}
		}
		if r.qid >= 0 {
			if answered[r.qid] == nil {
				answered[r.qid] = map[int32]bool{}
			}
			answered[r.qid][r.iv] = true
		}
		if r.qid < 0 || r.class == classNone || len(words) == 0 {
			continue
		}
		k := poolKey{r.qid, r.class}
		pools[k] = append(pools[k], i)
	}
	n := 0
	for _, r := range recs {
		n = max(n, int(r.iv)+1)
	}
	keys := make([]poolKey, 0, len(pools))
	for k := range pools {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y poolKey) int { return cmp.Or(cmp.Compare(x.qid, y.qid), cmp.Compare(x.class, y.class)) })
	poolSupport := map[poolKey]int{}
	for _, k := range keys {
		poolSupport[k] = distinctInterviews(recs, pools[k])
	}
	var found []*cluster
	for _, k := range keys {
		ids := pools[k]
		// The opening question of a protocol, unless it asks for an evaluation, is the
		// warm-up ("tell me about yourself"): its answers give background and motives,
		// whose stance is about life, not about what the study asks.
		if poolSupport[k] < thr || (k.qid == 0 && sh.warmup) {
			continue
		}
		// The words each interview uses in the pool.
		df := map[string]map[int32]bool{}
		for _, id := range ids {
			for _, w := range ws[id] {
				addDF(df, w, recs[id].iv)
			}
		}
		// A word holds a pool together when two or more interviews use it there, it is not
		// a word everyone uses whatever the topic, and, if the question itself uses it, the
		// people who take it up mostly share the pool's stance (an echo of the question
		// comes with any stance, or none).
		qd := qDF[poolKey{k.qid, classNone}]
		cohesive := func(w string) bool {
			d := len(df[w])
			if d < 2 || 4*len(corpusDF[w]) > 3*n {
				return false
			}
			return !protocol[w] || 3*d >= 2*len(qd[w])
		}
		isOpen := sh.isOpen(k.qid)
		// A question about one topic that most of those who answered it answer with
		// the same stance is a theme as a whole, however differently people word it
		// ("booked weeks out", "nothing until the 20th", "I just phone at eight").
		// and when the opposite stance is rare there: a question people split on ("it
		// never felt slow" against "took forever") is no theme as a whole.
		sup := distinctInterviews(recs, ids)
		// For complaints, an answer that also praises counts half against it: praise
		// next to a complaint is mostly a concession ("the cards were fine; Huntington
		// dropped off every week").
		opp := pools[poolKey{k.qid, opposite(k.class)}]
		oppOnly := onlyIn(recs, opp, ids)
		against := distinctInterviews(recs, opp)
		if k.class == classNeg || k.class == classPos {
			against = oppOnly + (against-oppOnly+1)/2
		}
		// A complaint that half of those who answered make is a theme even when the rest
		// were content; praise must be twice as common as complaint.
		need := 2 * against
		if k.class == classNeg {
			need = against + 1
		}
		whole := !isOpen && 2*sup >= len(answered[k.qid]) && sup >= need
		var members []int
		for _, id := range ids {
			if whole {
				members = append(members, id)
				continue
			}
			for _, w := range ws[id] {
				if cohesive(w) {
					members = append(members, id)
					break
				}
			}
		}
		if debugf != nil {
			debugf("disc pool q%d %v support %d cohesive %d", k.qid, k.class, distinctInterviews(recs, ids), distinctInterviews(recs, members))
		}
		groups := [][]int{members}
		if !whole {
			groups = splitPool(recs, ws, members, cohesive, thr)
		}
		first := true
		for _, mine := range groups {
			sup := distinctInterviews(recs, mine)
			// The stance must be the participant's own somewhere in the answer, not only
			// the question's.
			var own []int
			for _, id := range mine {
				a := recAnswer(recs[id])
				if explicitAns[k.class][a] {
					own = append(own, id)
				}
			}
			ownSup := distinctInterviews(recs, own)
			// A group is no new theme when one cluster already holds most of its answers.
			mineAns := recAnswers(recs, mine)
			taken := 0
			for i, cl := range out {
				if cl.class == k.class {
					taken = max(taken, int(overlap(mineAns, outAnswers[i])))
				}
			}
			top := topWord(df, mine, ws)
			if debugf != nil {
				debugf("disc group q%d %v %s support %d own %d, taken %d/%d", k.qid, k.class, top, sup, ownSup, taken, len(mineAns))
			}
			if sup < thr || 4*ownSup < sup || ownSup < 2 {
				continue
			}
			// A group that is mostly the same answers as a cluster found before, or that
			// mostly holds one, is that theme again: the cluster stays as it was (a
			// discovered group, cut by the question, would only blur its count).
			if 2*taken >= len(mineAns) || sameTheme(out, outAnswers, k.class, mineAns) >= 0 {
				continue
			}
			shared := map[string]bool{}
			gdf := map[string]map[int32]bool{}
			for _, id := range mine {
				for _, w := range ws[id] {
					addDF(gdf, w, recs[id].iv)
				}
			}
			for w, ivs := range gdf {
				if len(ivs) >= 2 && cohesive(w) {
					shared[w] = true
				}
			}
			found = append(found, &cluster{class: k.class, primary: -1, qid: k.qid, stem: top, shared: shared, recs: mine, support: sup, lead: first})
			first = false
		}
	}
	return found
}

func addDF(df map[string]map[int32]bool, w string, iv int32) {
	if df[w] == nil {
		df[w] = map[int32]bool{}
	}
	df[w][iv] = true
}

// recWords are a clause's topic words: its free stems and its concepts.
func recWords(r clauseRec) []string {
	if len(r.concepts) == 0 {
		return r.stems
	}
	out := make([]string, 0, len(r.stems)+len(r.concepts))
	out = append(out, r.stems...)
	for _, cw := range r.concepts {
		out = append(out, conceptWord(cw.concept))
	}
	return out
}

// topWord is the word most of a cluster's interviews use, for its key and summary.
func topWord(df map[string]map[int32]bool, ids []int, ws [][]string) string {
	best, bestN := "", 0
	seen := map[string]bool{}
	for _, id := range ids {
		for _, w := range ws[id] {
			if seen[w] {
				continue
			}
			seen[w] = true
			if n := len(df[w]); n > bestN || (n == bestN && w < best) {
				best, bestN = w, n
			}
		}
	}
	return best
}

// splitPool cuts a pool into groups that talk about one thing: the word most interviews
// share seeds a group; words whose interviews mostly use them in the same answers as the
// seed join it (the data's own near-synonyms: "train" with "fares"); the clauses that
// carry any of them are the group. The rest is split again, until no word is shared.
// A pool about one topic stays whole; one that mixes topics ("What frustrated you?")
// becomes several pure groups rather than one mixed one.
func splitPool(recs []clauseRec, ws [][]string, members []int, cohesive func(string) bool, thr int) [][]int {
	ans := func(id int) int64 { return recAnswer(recs[id]) }
	var groups [][]int
	left := members
	for len(left) > 0 {
		df := map[string]map[int32]bool{}
		for _, id := range left {
			for _, w := range ws[id] {
				if cohesive(w) {
					addDF(df, w, recs[id].iv)
				}
			}
		}
		seed, best := "", 1
		for w, ivs := range df {
			if len(ivs) > best || (len(ivs) == best && best > 1 && w < seed) {
				seed, best = w, len(ivs)
			}
		}
		// Seeds come most shared first: once the best is used by under a quarter of
		// the interviews a theme needs, the rest is a long tail of small groups.
		if seed == "" || 4*best < thr {
			break
		}
		// The answers the seed is used in, and the words of those answers.
		seedAns := map[int64]bool{}
		for _, id := range left {
			if slices.Contains(ws[id], seed) {
				seedAns[ans(id)] = true
			}
		}
		with := map[string]map[int32]bool{}
		for _, id := range left {
			if !seedAns[ans(id)] {
				continue
			}
			for _, w := range ws[id] {
				if cohesive(w) {
					addDF(with, w, recs[id].iv)
				}
			}
		}
		words := map[string]bool{seed: true}
		for w, ivs := range with {
			if len(ivs) >= 2 && 2*len(ivs) >= len(df[w]) {
				words[w] = true
			}
		}
		var group, rest []int
		inGroup := map[int64]bool{}
		for _, id := range left {
			for _, w := range ws[id] {
				if words[w] {
					inGroup[ans(id)] = true
					break
				}
			}
		}
		for _, id := range left {
			if inGroup[ans(id)] && hasAny(ws[id], words) {
				group = append(group, id)
			} else {
				rest = append(rest, id)
			}
		}
		groups = append(groups, group)
		left = rest
	}
	return groups
}

func hasAny(ws []string, set map[string]bool) bool {
	for _, w := range ws {
		if set[w] {
			return true
		}
	}
	return false
}

// opposite is the contrary stance: complaint and praise; a wish has none.
func opposite(c polClass) polClass {
	switch c {
	case classNeg:
		return classPos
	case classPos:
		return classNeg
	}
	return classNone
}

// sameTheme is the first cluster of the class that shares mergeOverlap of the smaller
// one's answers with ans, or -1.
func sameTheme(out []*cluster, outAnswers [][]int64, class polClass, ans []int64) int {
	for i, cl := range out {
		if cl.class == class && overlap(ans, outAnswers[i]) >= mergeOverlap*float64(min(len(ans), len(outAnswers[i]))) {
			return i
		}
	}
	return -1
}

// conceptWords name the lexicon's concepts as topic words ("#cost"), built once.
var conceptWords []string

func conceptWord(c int) string {
	if c < len(conceptWords) {
		return conceptWords[c]
	}
	return "#" + lexiconIDs[c]
}

// onlyIn counts the interviews of ids that have no clause in other.
func onlyIn(recs []clauseRec, ids, other []int) int {
	in := map[int32]bool{}
	for _, id := range other {
		in[recs[id].iv] = true
	}
	seen := map[int32]bool{}
	for _, id := range ids {
		if iv := recs[id].iv; !in[iv] {
			seen[iv] = true
		}
	}
	return len(seen)
}

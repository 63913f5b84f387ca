package analysis

import "slices"

// Question themes: the last path, for a theme that a question's answers share in words
// no two of them have in common ("it doesn't do the spinning circle anymore", "a render
// is three minutes now", "it didn't drop once" in answer to "How has the internet been
// day to day?"). A protocol asks about one thing per question, so when most of those who
// answer it take one stance, in their own words or their families', and few take the
// other, the question's answers with that stance are a theme whatever their words; a
// question people split on may hold a theme of each stance, when its words show it. A
// question whose answers another cluster already mostly holds adds nothing.

type qthemeKey struct {
	qid   int16
	class polClass
}

// questionPools are the clauses of each question's answers by stance (ownStance), and
// the interviews that answered each question at all; the warm-up counts for neither.
type questionPools struct {
	pools    map[qthemeKey][]int
	answered map[int16]map[int32]bool
}

func newQuestionPools(recs []clauseRec, open []bool) questionPools {
	warmup := hasWarmup(open)
	qp := questionPools{pools: map[qthemeKey][]int{}, answered: map[int16]map[int32]bool{}}
	for i := range recs {
		r := ownStance(recs[i])
		if r.qid < 0 || (r.qid == 0 && warmup) {
			continue
		}
		if qp.answered[r.qid] == nil {
			qp.answered[r.qid] = map[int32]bool{}
		}
		qp.answered[r.qid][r.iv] = true
		if r.class != classNone && !r.lukewarm {
			k := qthemeKey{r.qid, r.class}
			qp.pools[k] = append(qp.pools[k], i)
		}
	}
	return qp
}

// stances are the stances of a question's answers that may be a theme: taken by two
// fifths of those who answered, by as many as a theme needs, and by at least as many as
// take the opposite one (an answer that takes both counts half against: praise beside a
// complaint is mostly a concession, "the app's fine; the pay is the problem"). Each says
// whether it is clear: taken by twice as many as take the opposite one.
func (qp questionPools) stances(recs []clauseRec, q int16, thr int) (keys []qthemeKey, sups []int, clear []bool) {
	for _, c := range []polClass{classNeg, classPos, classWish} {
		k := qthemeKey{q, c}
		sup := distinctInterviews(recs, qp.pools[k])
		opp := qp.pools[qthemeKey{q, opposite(c)}]
		oppOnly := onlyIn(recs, opp, qp.pools[k])
		against := distinctInterviews(recs, opp)
		against = oppOnly + (against-oppOnly+1)/2
		if debugf != nil {
			debugf("qtheme q%d %v support %d of %d, against %d", q, c, sup, len(qp.answered[q]), against)
		}
		if sup >= thr && 5*sup >= 2*len(qp.answered[q]) && sup >= against {
			keys, sups, clear = append(keys, k), append(sups, sup), append(clear, sup >= 2*against)
		}
	}
	return keys, sups, clear
}

// questionThemes returns the question themes of recs that no cluster in out holds.
func questionThemes(recs []clauseRec, th *thesaurus, protocol map[string]bool, thr int, open []bool,
	out []*cluster, outAnswers [][]int64) []*cluster {
	qp := newQuestionPools(recs, open)
	qids := make([]int16, 0, len(qp.answered))
	for q := range qp.answered {
		qids = append(qids, q)
	}
	slices.Sort(qids)
	var found []*cluster
	for _, q := range qids {
		keys, sups, clear := qp.stances(recs, q, thr)
		for i, k := range keys {
			if heldBy(recAnswers(recs, qp.pools[k]), out, outAnswers) {
				continue
			}
			// An open evaluative question ("What went well?", "What frustrated you?")
			// mixes topics, and a question people split on may hold a theme of each
			// stance: such a stance is a theme only when half of its interviews share a
			// word or family of their own ("free", "@price"). A wish question's wishes
			// are kept, and the evidence takes the wishes that share the most.
			isOpen := int(q) < len(open) && open[q] && k.class != classWish
			if cl := questionTheme(recs, th, protocol, qp.pools[k], k, sups[i], clear[i] && !isOpen); cl != nil {
				found = append(found, cl)
			}
		}
	}
	return found
}

// questionTheme is the theme of a question's clauses ids of one stance; unless free, only
// when half of its interviews share a word or family of their own.
func questionTheme(recs []clauseRec, th *thesaurus, protocol map[string]bool, ids []int, k qthemeKey, sup int, free bool) *cluster {
	ws := make([][]string, len(recs))
	df := map[string]map[int32]bool{}
	for _, id := range ids {
		ws[id] = cooccurWords(recs[id], th)
		for _, w := range ws[id] {
			addDF(df, w, recs[id].iv)
		}
	}
	if !free && 2*topShare(df, protocol) < sup {
		return nil
	}
	shared := map[string]bool{}
	for w, ivs := range df {
		if len(ivs) >= 2 {
			shared[w] = true
		}
	}
	return &cluster{class: k.class, primary: -1, qid: k.qid, stem: topWord(df, ids, ws),
		shared: shared, recs: ids, support: sup, whole: true}
}

// topShare is the most interviews that use one word outside the protocol.
func topShare(df map[string]map[int32]bool, protocol map[string]bool) int {
	top := 0
	for w, ivs := range df {
		if !protocol[w] {
			top = max(top, len(ivs))
		}
	}
	return top
}

// hasWarmup says the protocol opens with a warm-up ("tell me about yourself"): its first
// question asks for no evaluation, and others follow. Its answers give background and
// motives, whose stance is about life, not about what the study asks; a study of one
// question is about that question, whatever it asks.
func hasWarmup(open []bool) bool {
	return len(open) > 1 && !open[0]
}

package analysis

import "slices"

// Question themes: the last path, for a theme that a question's answers share in words
// no two of them have in common ("it doesn't do the spinning circle anymore", "a render
// is three minutes now", "it didn't drop once" in answer to "How has the internet been
// day to day?"). A protocol asks about one thing per question, so when most of those who
// answer it take one stance, in their own words or their families', and few take the
// other, the question's answers with that stance are a theme whatever their words. A
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

func newQuestionPools(recs []clauseRec, sh shape) questionPools {
	warmup := sh.warmup
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

// top is the stance most of a question's answerers take (complaint, praise, then wish on a
// tie), and in how many interviews.
func (qp questionPools) top(recs []clauseRec, q int16) (qthemeKey, int) {
	k, sup := qthemeKey{q, classNone}, 0
	for _, c := range []polClass{classNeg, classPos, classWish} {
		if s := distinctInterviews(recs, qp.pools[qthemeKey{q, c}]); s > sup {
			k, sup = qthemeKey{q, c}, s
		}
	}
	return k, sup
}

// dominant is the stance most of a question's answerers take, if two fifths of them
// take it, as many as a theme needs, and twice as many as take the opposite one.
func (qp questionPools) dominant(recs []clauseRec, q int16, thr int) (qthemeKey, int, bool) {
	k, sup := qp.top(recs, q)
	// An answer that takes both stances counts half against: praise beside a complaint
	// is mostly a concession ("the app's fine; the pay is the problem").
	opp := qp.pools[qthemeKey{q, opposite(k.class)}]
	oppOnly := onlyIn(recs, opp, qp.pools[k])
	against := distinctInterviews(recs, opp)
	against = oppOnly + (against-oppOnly+1)/2
	if debugf != nil {
		debugf("qtheme q%d %v support %d of %d, against %d", q, k.class, sup, len(qp.answered[q]), against)
	}
	return k, sup, sup >= thr && 5*sup >= 2*len(qp.answered[q]) && sup >= 2*against
}

// questionThemes returns the question themes of recs that no cluster in out holds.
func questionThemes(recs []clauseRec, th *thesaurus, qp questionPools, protocol map[string]bool, thr int, sh shape,
	out []*cluster, outAnswers [][]int64) []*cluster {
	qids := make([]int16, 0, len(qp.answered))
	for q := range qp.answered {
		qids = append(qids, q)
	}
	slices.Sort(qids)
	var found []*cluster
	for _, q := range qids {
		k, sup, ok := qp.dominant(recs, q, thr)
		if !ok || heldBy(recAnswers(recs, qp.pools[k]), out, outAnswers) {
			continue
		}
		ids := qp.pools[k]
		ws, df := questionWords(recs, th, ids)
		// An open evaluative question ("What went well?", "What frustrated you?")
		// mixes topics: its answers of one stance are a theme only when half of them
		// share a word or family of their own ("free", "@price"). A wish question's
		// are kept, and the evidence takes the wishes that share the most.
		if sh.isOpen(q) && k.class != classWish && 2*topShare(df, protocol) < sup {
			continue
		}
		found = append(found, wholeCluster(k, ids, sup, ws, df))
	}
	return found
}

// questionWords are the co-occurrence words of each of ids, and in how many interviews
// each word is heard.
func questionWords(recs []clauseRec, th *thesaurus, ids []int) ([][]string, map[string]map[int32]bool) {
	ws := make([][]string, len(recs))
	df := map[string]map[int32]bool{}
	for _, id := range ids {
		ws[id] = cooccurWords(recs[id], th)
		for _, w := range ws[id] {
			addDF(df, w, recs[id].iv)
		}
	}
	return ws, df
}

// wholeCluster is the question theme of the clauses ids, the answers to k.qid with the
// stance k.class.
func wholeCluster(k qthemeKey, ids []int, sup int, ws [][]string, df map[string]map[int32]bool) *cluster {
	shared := map[string]bool{}
	for w, ivs := range df {
		if len(ivs) >= 2 {
			shared[w] = true
		}
	}
	return &cluster{class: k.class, primary: -1, qid: k.qid, stem: topWord(df, ids, ws),
		shared: shared, recs: ids, support: sup, whole: true}
}

// unraisedQuestions returns a question theme for each question that no cluster of out
// calls home (the question most of its interviews raise it in) and whose answers take one
// stance in as many interviews as a theme needs, the stance most of them take. A protocol
// asks each question because it expects something to recur there; when nothing else
// found a theme in its answers, what most answerers say about it is the best reading.
func unraisedQuestions(recs []clauseRec, th *thesaurus, qp questionPools, thr int, sh shape, out []*cluster) []*cluster {
	homes := map[int16]bool{}
	for _, cl := range out {
		homes[homeQuestion(cl, recs)] = true
	}
	var found []*cluster
	for q := range int16(len(sh.open)) {
		if homes[q] || (q == 0 && sh.warmup) {
			continue
		}
		k, sup := qp.top(recs, q)
		if sup < thr {
			continue
		}
		if debugf != nil {
			debugf("unraised q%d %v support %d", q, k.class, sup)
		}
		ws, df := questionWords(recs, th, qp.pools[k])
		found = append(found, wholeCluster(k, qp.pools[k], sup, ws, df))
	}
	return found
}

// otherStances returns, for each question some cluster in out calls home, the stances no
// cluster there takes that a theme's threshold of interviews voice in answers no cluster
// holds: a question may draw two themes, "the hygienist was gentle" beside "she lectured
// me about flossing". Praise beside another theme counts only in answer to an open
// question ("What went well?"), which asks for it; elsewhere it is mostly politeness
// ("they were nice about it").
func otherStances(recs []clauseRec, th *thesaurus, qp questionPools, thr int, sh shape, out []*cluster) []*cluster {
	raised := map[int16]bool{}    // questions some cluster calls home
	homes := map[qthemeKey]bool{} // and the stances those clusters take there
	held := map[int64]bool{}      // answers some cluster holds
	for _, cl := range out {
		h := homeQuestion(cl, recs)
		raised[h] = true
		homes[qthemeKey{h, cl.class}] = true
		for _, id := range cl.recs {
			held[recAnswer(recs[id])] = true
		}
	}
	var found []*cluster
	for q := range int16(len(sh.open)) {
		if !raised[q] || (q == 0 && sh.warmup) {
			continue
		}
		for _, c := range []polClass{classNeg, classWish, classPos} {
			k := qthemeKey{q, c}
			if (c == classPos && !sh.open[q]) || homes[k] || freshInterviews(recs, qp.pools[k], held) < thr {
				continue
			}
			if debugf != nil {
				debugf("other stance q%d %v", q, c)
			}
			ws, df := questionWords(recs, th, qp.pools[k])
			found = append(found, wholeCluster(k, qp.pools[k], distinctInterviews(recs, qp.pools[k]), ws, df))
		}
	}
	return found
}

// freshInterviews counts the interviews of ids whose answers held does not contain.
func freshInterviews(recs []clauseRec, ids []int, held map[int64]bool) int {
	ivs := map[int32]bool{}
	for _, id := range ids {
		if r := recs[id]; !held[recAnswer(r)] {
			ivs[r.iv] = true
		}
	}
	return len(ivs)
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

// shape is what the analyzer reads from the protocol's questions: which ask for an
// evaluation of anything (open, openQuestions), and whether the first is a warm-up about the
// participant (opensWithWarmup), whose answers are background and motives, never evidence.
type shape struct {
	open   []bool
	warmup bool
}

// isOpen says question q asks for an evaluation of anything.
func (sh shape) isOpen(q int16) bool { return q >= 0 && int(q) < len(sh.open) && sh.open[q] }

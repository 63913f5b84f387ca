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

// questionThemes returns the question themes of recs that no cluster in out holds.
func questionThemes(recs []clauseRec, th *thesaurus, thr int, open []bool, out []*cluster, outAnswers [][]int64) []*cluster {
	warmup := len(open) == 0 || !open[0]
	answered := map[int16]map[int32]bool{}
	pools := map[qthemeKey][]int{}
	for i := range recs {
		r := ownStance(recs[i])
		if r.qid < 0 || (r.qid == 0 && warmup) {
			continue
		}
		if answered[r.qid] == nil {
			answered[r.qid] = map[int32]bool{}
		}
		answered[r.qid][r.iv] = true
		if r.class == classNone || r.lukewarm {
			continue
		}
		k := qthemeKey{r.qid, r.class}
		pools[k] = append(pools[k], i)
	}
	qids := make([]int16, 0, len(answered))
	for q := range answered {
		qids = append(qids, q)
	}
	slices.Sort(qids)
	var found []*cluster
	for _, q := range qids {
		k, sup := qthemeKey{q, classNone}, 0
		for _, c := range []polClass{classNeg, classPos, classWish} {
			if s := distinctInterviews(recs, pools[qthemeKey{q, c}]); s > sup {
				k, sup = qthemeKey{q, c}, s
			}
		}
		against := distinctInterviews(recs, pools[qthemeKey{q, opposite(k.class)}])
		if debugf != nil {
			debugf("qtheme q%d %v support %d of %d, against %d", q, k.class, sup, len(answered[q]), against)
		}
		// An open evaluative question ("What went well?", "What frustrated you?")
		// mixes topics: its answers of one stance are no theme as a whole. A wish
		// question's are kept, and its evidence takes the wishes that most share.
		if int(q) < len(open) && open[q] && k.class != classWish {
			continue
		}
		if sup < thr || 5*sup < 2*len(answered[q]) || sup < 2*against {
			continue
		}
		ids := pools[k]
		ans := recAnswers(recs, ids)
		held := false
		for i, cl := range out {
			if cl.class == k.class && 2*overlap(ans, outAnswers[i]) >= float64(len(ans)) {
				held = true
				break
			}
		}
		if held {
			continue
		}
		df := map[string]map[int32]bool{}
		for _, id := range ids {
			for _, w := range cooccurWords(recs[id], th) {
				addDF(df, w, recs[id].iv)
			}
		}
		shared := map[string]bool{}
		for w, ivs := range df {
			if len(ivs) >= 2 {
				shared[w] = true
			}
		}
		ws := make([][]string, len(recs))
		for _, id := range ids {
			ws[id] = cooccurWords(recs[id], th)
		}
		found = append(found, &cluster{class: k.class, primary: -1, qid: q, stem: topWord(df, ids, ws),
			shared: shared, recs: ids, support: sup, whole: true})
	}
	return found
}

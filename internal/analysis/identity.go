package analysis

import (
	"cmp"
	"slices"
)

// A finding's key names the path that found it ("pain_point:appointments" from the
// concept lexicon, "pain_point:topic:q2" from the answers to question 2). When more
// interviews come in, the same theme can cross a threshold on another path and come back
// under another key. CarryKeys keeps its identity: the theme is the same when the same
// people say it.

// carryOverlap is the least share of the smaller finding's quoted interviews that the
// two findings must share to be one theme.
const carryOverlap = 0.5

// CarryKeys returns next with each finding that continues one of prev under another key
// given that finding's key, so that storing it by key updates the finding made before
// instead of replacing it. A next finding continues a prev one of the same type when at
// least half of the answers the smaller of the two quotes are quoted by both; pairs are
// taken best first (more answers shared, then more identical quotes), each finding at most
// once. A key next already uses is never carried, so the keys stay unique.
func CarryKeys(prev, next []Finding) []Finding {
	out := slices.Clone(next)
	used := make(map[string]bool, len(next))
	for _, f := range next {
		used[f.Key] = true
	}
	stored := make(map[string]bool, len(prev))
	var open []int // prev findings whose key next does not use
	for i, p := range prev {
		stored[p.Key] = true
		if !used[p.Key] {
			open = append(open, i)
		}
	}
	type pair struct {
		n, p  int
		score float64
	}
	var pairs []pair
	for n, f := range next {
		if stored[f.Key] {
			continue
		}
		for _, p := range open {
			if prev[p].Type != f.Type {
				continue
			}
			if s := sharedEvidence(prev[p], f, answerOf); s >= carryOverlap {
				// Identical quotes tell apart two themes quoted from the same answers.
				pairs = append(pairs, pair{n, p, s + sharedEvidence(prev[p], f, quoteOf)/10})
			}
		}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.n, b.n), cmp.Compare(a.p, b.p))
	})
	takenN, takenP := map[int]bool{}, map[int]bool{}
	for _, pr := range pairs {
		if takenN[pr.n] || takenP[pr.p] {
			continue
		}
		takenN[pr.n], takenP[pr.p] = true, true
		out[pr.n].Key = prev[pr.p].Key
	}
	return out
}

// answerOf is the answer a quote is from: its message, or its interview when it names none.
func answerOf(e Evidence) string { return e.InterviewID + "/" + e.MessageID }

// quoteOf is a quote and where it is.
func quoteOf(e Evidence) string { return answerOf(e) + "/" + e.Quote }

// sharedEvidence is the share of the smaller of two findings' sets of unit(evidence) that both
// have.
func sharedEvidence(a, b Finding, unit func(Evidence) string) float64 {
	as, bs := units(a, unit), units(b, unit)
	if len(as) == 0 || len(bs) == 0 {
		return 0
	}
	shared := 0
	for u := range as {
		if bs[u] {
			shared++
		}
	}
	return float64(shared) / float64(min(len(as), len(bs)))
}

func units(f Finding, unit func(Evidence) string) map[string]bool {
	out := make(map[string]bool, len(f.Evidence))
	for _, e := range f.Evidence {
		out[unit(e)] = true
	}
	return out
}

package analysis

import (
	"slices"
	"strings"
	"unicode"
)

// This file gives each protocol question its prior stance: from its own wording, and
// from how most people answered it.

// questionStats counts, per protocol question, the answers' clauses whose own words are
// negative or positive; see applyAnswerPriors.
type questionStats struct{ neg, pos, answers []int }

// question is what an answer inherits from the interviewer turn it answers.
type question struct {
	stems map[string]bool // content stems of the question, for echo detection
	prior polClass        // the stance the question invites
	id    int             // index in Campaign.Questions, -1 if the turn is not one of them
}

func (a *analyzer) readQuestion(text string, st *stemmer) question {
	q := question{stems: map[string]bool{}, id: -1}
	toks := tokenize(text, 0, len(text), st)
	var score float64
	low := strings.ToLower(text)
	for _, p := range questionPositivePhrases {
		if strings.Contains(low, p) {
			score++
		}
	}
	for _, t := range toks {
		if isContent(t) {
			q.stems[t.stem] = true
		}
		if questionNegative[t.stem] {
			score--
		}
		if questionPositive[t.stem] || questionPositive[t.low] {
			score++
		}
	}
	if asksForChange(toks) || slices.ContainsFunc(questionWishPhrases, func(p string) bool { return containsWord(low, p) }) {
		q.prior = classWish
		return q
	}
	switch {
	case score < 0:
		q.prior = classNeg
	case score > 0:
		q.prior = classPos
	}
	return q
}

// asksForChange says a question asks what the participant would change ("What would you
// change?", "any changes you'd make?", "if you could change one thing"), not about a change
// that happens ("How do you stay in touch when something changes on a load?").
func asksForChange(toks []token) bool {
	for i, t := range toks {
		if t.low != "change" && t.low != "changes" {
			continue
		}
		for j := max(0, i-3); j < i; j++ {
			if changeAskers[toks[j].low] {
				return true
			}
		}
	}
	return false
}

// changeAskers, before "change", make it the participant's change: "you", "could",
// "would", "any", "one", "what", "biggest".
var changeAskers = wordSet(`you you'd could would any one what single biggest first`)

// closestQuestion is the protocol question sharing the most content words with a turn,
// if they share at least half of the smaller set; -1 otherwise (a follow-up probe).
func closestQuestion(turn map[string]bool, questions []map[string]bool) int {
	best, bestScore := -1, 0.0
	for i, q := range questions {
		shared := 0
		for s := range turn {
			if q[s] {
				shared++
			}
		}
		small := min(len(turn), len(q))
		if small == 0 {
			continue
		}
		if score := float64(shared) / float64(small); score >= 0.5 && score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// applyAnswerPriors gives a stance to the clauses that have none of their own, from how
// everyone else answered the same question: when most evaluative clauses in the answers
// to "How has the commute been?" are complaints, a bare "it's an hour and a half each way"
// is one too. It needs evaluative clauses from at least half as many as answered, and a
// 70% majority, so a question that splits people, or that people answer descriptively
// ("tell me about your role"), gives nothing.
func applyAnswerPriors(recs []clauseRec, stats questionStats) {
	prior := make([]polClass, len(stats.neg))
	for i := range prior {
		neg, pos := stats.neg[i], stats.pos[i]
		if neg+pos < max(3, (stats.answers[i]+1)/2) {
			continue
		}
		switch {
		case float64(neg) >= 0.7*float64(neg+pos):
			prior[i] = classNeg
		case float64(pos) >= 0.7*float64(neg+pos):
			prior[i] = classPos
		}
	}
	for i := range recs {
		r := &recs[i]
		if r.class == classNone && !r.noPrior && r.qid >= 0 && int(r.qid) < len(prior) {
			p := prior[r.qid]
			if (p == classNeg && r.msgPol > 0) || (p == classPos && r.msgPol < 0) {
				continue
			}
			r.class = p
		}
	}
}

// containsWord finds a phrase that starts and ends at word boundaries (a plural "s" allowed):
// "what would you change" and "any changes" ask for a wish, "how has it changed" asks
// about the past.
func containsWord(low, p string) bool {
	for off := 0; ; {
		i := strings.Index(low[off:], p)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(p)
		if start > 0 && unicode.IsLetter(rune(low[start-1])) {
			off = start + 1
			continue
		}
		if end >= len(low) || !unicode.IsLetter(rune(low[end])) || (low[end] == 's' && (end+1 >= len(low) || !unicode.IsLetter(rune(low[end+1])))) {
			return true
		}
		off = off + i + 1
	}
}

package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// findings turns clusters into the API's findings: a title a researcher would write, a
// summary with the count and the clearest quotes, and a key that names the theme by its
// stance and central concept, so a re-run on more interviews updates the same finding.
func (a *analyzer) findings(clusters []*cluster, recs []clauseRec, in Input) []Finding {
	n := len(in.Interviews)
	thr := a.minSupport(n)
	out := make([]Finding, 0, len(clusters))
	for _, cl := range clusters {
		picks := a.evidence(cl, recs)
		// Keep the quotes close in strength to the best one (at least as many as the
		// threshold asks), so weak fringe mentions add to the count but not to the quotes.
		keep := len(picks)
		for i, p := range picks {
			if i >= thr && p.score < 0.75*picks[0].score {
				keep = i
				break
			}
		}
		picks = picks[:min(keep, a.maxEvidence)]
		f := Finding{Frequency: cl.support}
		explicit := 0
		for _, p := range picks {
			r := recs[p.rec]
			iv := in.Interviews[r.iv]
			msg := iv.Messages[r.msg]
			f.Evidence = append(f.Evidence, Evidence{InterviewID: iv.ID, MessageID: msg.ID, Quote: msg.Content[r.start:r.end]})
			if r.explicit {
				explicit++
			}
		}
		main := a.lex.concepts[cl.primary]
		noun := lowerFirst(main.noun)
		switch cl.class {
		case classNeg:
			f.Type, f.Sentiment = TypePainPoint, SentimentNegative
			f.Title = fmt.Sprintf("%s frustrated participants", main.noun)
			f.Summary = fmt.Sprintf("%d of %d participants described problems with %s", cl.support, n, noun)
		case classPos:
			f.Type, f.Sentiment = TypeTheme, SentimentPositive
			f.Title = fmt.Sprintf("Participants valued %s", noun)
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
			f.Summary += fmt.Sprintf(" For example: “%s”", f.Evidence[0].Quote)
			if len(f.Evidence) > 1 {
				f.Summary += fmt.Sprintf(" and “%s”", f.Evidence[1].Quote)
			}
			f.Summary += "."
		}
		f.Key = fmt.Sprintf("%s:%s", f.Type, main.id)
		f.Tags = []string{f.Type}
		for _, c := range cl.concepts {
			f.Tags = append(f.Tags, a.lex.concepts[c].id)
		}
		// Confidence grows with support beyond the threshold and with how many quotes state
		// the stance in their own words rather than inheriting it from the question.
		conf := 0.45 + 0.35*math.Min(1, float64(cl.support)/float64(2*thr))
		if len(picks) > 0 {
			conf += 0.2 * float64(explicit) / float64(len(picks))
		}
		f.Confidence = math.Round(math.Min(conf, 0.95)*100) / 100
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(y.Frequency, x.Frequency), cmp.Compare(x.Key, y.Key))
	})
	return out
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

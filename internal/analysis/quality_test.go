package analysis

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qual.cx/operator/internal/analysis/handcoded"
)

// TestQuality scores the analyzer against every hand-coded set in testdata, the way the
// held-out sets are scored (testdata/README.md): an evidence quote is located in the
// answers by substring; a finding matches a theme when at least half of its quotes fall in
// answers coded for that theme; recall is the share of themes matched, precision the share
// of findings that match a theme; a quote from a trap answer of the theme its finding
// matches is a trap hit. The targets are recall ≥ 0.90 and precision ≥ 0.85 on every set.
//
// Untuned scores, each taken the first time a set was run, before anything was changed
// for it — the honest estimate for sets the analyzer has never seen:
//
//	forkwise-churn   (development set, first run of the first build)  recall 0.86, precision 0.70, 1 trap hit
//	saas-onboarding  (first run)                                      recall 0.71, precision 0.89, 5 trap hits
//	hybrid-work      (first run)                                      recall 0.29, precision 0.40, 5 trap hits
//	clinic-app       (first run)                                      recall 0.86, precision 1.00, 4 trap hits
//
// After the rules and the lexicon were revised against all four sets (general rules and
// vocabulary only, no set-specific words), every set scores recall 1.00 and precision
// 1.00, with 0 (forkwise, saas), 2 (clinic) and 3 (hybrid) trap hits. Those numbers are
// tuned; the first-run scores above are the estimate for unseen data.
//
// Discovered clusters (discover.go) make the analyzer less dependent on the lexicon: with
// each set's domain concepts removed (TestAblate) recall went from 0.29-0.86 to 0.86-1.00 (per set in ablation_test.go)
// at precision 1.00, with the normal scores unchanged. Blind sets added after that work,
// scored on their first run before any change was made for them:
//
//	budget-app       (first run, at 2026-12-02 00:57 UTC, the code of the commit that adds
//	                  this line)                                      recall 0.57, precision 1.00, 1 trap hit, 3 findings
//	                 (the same set on the analyzer before discovered clusters, fd14e22:
//	                  recall 0.57, precision 1.00, 3 findings)
//	course-platform  (first run, at 2026-12-02 00:58 UTC, on commit 0e8be81; also with an
//	                  uncommitted, later reverted widening of the polarity lists, same
//	                  scores)                                         recall 0.67, precision 0.57, 2 trap hits, 7 findings
//	                 (the same set on fd14e22: recall 0.17, precision 0.20, 5 findings)
//	hotel-stays      (first run, at 2026-12-02 01:16 UTC, on the analysis code of commit
//	                  3c956fb, before anything was changed for it; the very first run also
//	                  carried two uncommitted polarity words, "weird" and "fix", written for
//	                  budget-app and then reverted because they broke hybrid-work's
//	                  ablation floor: same scores both ways)      recall 0.14, precision 0.67, 0 trap hits, 3 findings
//	warehouse-shifts (first run, at 2026-12-02 01:18 UTC, on commit cef2873, before
//	                  anything was changed for it)                recall 0.43, precision 1.00, 3 trap hits, 3 findings
//	transit-app      (first run, at 2026-12-02 02:08 UTC, on commit 383916e, written and
//	                  coded before the analyzer was run on it)    recall 0.50, precision 0.50, 1 trap hit, 4 findings
//	plant-subscription (first run, same time and commit, likewise) recall 0.00, precision 0.00, 0 trap hits, 2 findings
//	dental-practice  (first run, on commit 441ec5a, written and coded before the analyzer
//	                  was run on it)                              recall 0.33, precision 0.67, 1 trap hit, 3 findings
//	invoicing-tool   (first run, on commit 871c6a5, written and coded before the analyzer
//	                  was run on it)                              recall 0.83, precision 0.83, 0 trap hits, 6 findings
//
// budget-app and course-platform were then worked on, with general rules only (stories
// read as complaints: habits, repairs, failures, troubles that ended; a concept the whole
// study talks in makes no theme; scattered concept mentions need a word of their own; a
// complaint half of a question's answers make is a theme). course-platform now scores
// recall 1.00, precision 1.00 (4 trap hits) and is enforced; budget-app scores recall
// 0.86, precision 1.00 (3 trap hits): the set-aside-for-irregular-costs theme is said in
// words no two people share ("a bucket I feed", "a tax pot", "put a bit aside"), so it
// stays blind. Those are tuned numbers now, no longer estimates; the hotel-stays and
// warehouse-shifts first runs above are the honest estimate for unseen sets.
//
// The holdout sets in testdata/holdout, written by another session blind to the analyzer
// code, were measured once, on the analysis code of feef25c (the concept thesaurus), and
// not tuned on: course-registration recall 0.50, precision 1.00, 2 trap hits, 4 findings;
// library-ebooks 0.50, 0.75, 0 trap hits, 4 findings; pet-sitting 0.50, 1.00, 2 trap hits,
// 3 findings. Only TestQuality reads them (loadHoldout), and only logs them. In the fifth
// round their misses were read to diagnose failure modes, so they are seen now; the
// held-out sets after that are testdata/holdout2 (testdata/README.md, "Fifth round").
//
// In the sixth round (question themes, questheme.go) two more batches of six sets were
// written blind and each measured once before anything was changed for it: holdout3 mean
// recall 0.87, precision 0.79 (251d320); holdout4 mean recall 0.67, precision 0.69
// (102d9e7). The analyzer as it was before the round scored 0.81 / 0.71 and 0.57 / 0.63 on
// them. Both were read afterwards, so they are spent too (testdata/README.md, "Sixth
// round"). holdout5, measured once at the end of the round (c6762a5): mean recall 0.73,
// precision 0.68 (0.67 / 0.70 before the round); it was then read to check the round's
// last two changes, one of which it reverted, so it is spent as well. holdout6, measured
// once on 3b99c02 and not read: mean recall 0.72, precision 0.72 (0.72 / 0.69 before the
// round); after the round's last change (thin praise, decided on the other sets), 0.72 /
// 0.77.
//
// A blind set is scored and logged like the others, but its targets are not enforced
// until the analyzer has been improved on general grounds to meet them: see blindSets.
const qualityTargetRecall, qualityTargetPrecision = 0.90, 0.85

// qualityFloorSupport is the least evidence support (the share of quotes in answers coded
// for the theme their finding matched) a tuned set must keep. The scoring rule lets half of
// a finding's quotes miss; this floor, under the tuned sets' lowest (0.69), keeps their
// quotes from getting worse unnoticed.
const qualityFloorSupport = 0.6

// blindSets are held-out sets whose untuned scores are recorded above: a miss is logged,
// not failed, so that meeting the target is never done by tuning on them.
var blindSets = map[string]bool{"budget-app": true, "hotel-stays": true, "warehouse-shifts": true,
	"transit-app": true, "plant-subscription": true, "dental-practice": true, "invoicing-tool": true}

// fixture is a hand-coded set, scored here.
type fixture struct{ handcoded.Set }

type answerRef struct {
	iv  string
	idx int
}

func loadFixtures(t testing.TB) map[string]*fixture {
	t.Helper()
	out := loadDir(t, "testdata", "")
	if len(out) == 0 {
		t.Fatal("no hand-coded sets in testdata")
	}
	return out
}

// holdoutDirs are the folders of held-out sets, written by other sessions blind to the
// analyzer: holdout (seen since the fifth round), holdout2 (seen since the sixth),
// holdout3 to holdout5 (each measured once in the sixth round, then read), holdout6 (not
// read, but its score lines guided the seventh round), holdout7 to holdout9 (each measured
// once in the seventh round, then their missed themes read), holdout10 and holdout11
// (measured once at the end of the seventh round, not read; their score lines chose the
// eighth round's merge overlap, since reverted), holdout12 and holdout13 (written during the
// eighth round, each measured once on the code before it and on that merge overlap, not read),
// holdout14 (measured once at the end of the eighth round, not read; holdout10 to holdout14
// had their findings read in the eleventh round), holdout15 to holdout18
// (written in the ninth round after its changes were decided, measured once on each code of
// the round and on the tenth round's final code, not read, though one tenth-round script
// printed the titles and matched theme keys of one dropped variant's new findings on them),
// holdout19 (written in the tenth round after its first changes were decided, measured once on
// the code before the round, on those changes and on the final code, not read), holdout20
// (written late in the tenth round, measured once before the round and on its final code, not
// read), holdout21 (written at the start of the eleventh round, measured once on the code
// before it and on its final code, which score alike, not read), holdout22 to holdout24
// (written in the twelfth round, each measured once, not read), holdout25 (written in the
// thirteenth round, measured once, not read), holdout26 (written in the fourteenth round,
// measured once, not read), holdout27 (written in the sixteenth round, measured once, not
// read) and, of 21 to 36 interviews, holdout28 (measured once, then read), holdout29
// (measured under three support thresholds, not read; the two set the threshold, so they
// are development sets now), holdout30 (measured once before and once after that change,
// not read) and, of the usual size again, holdout31 (written in the seventeenth round,
// measured once; one set's findings read after; all of holdout15 to holdout27 and
// holdout31 were used to decide the eighteenth round's changes), holdout32 and holdout33
// (written in the eighteenth round, measured once on the code before it and once after, not
// read), holdout34 (written in the nineteenth round, measured once before and once after
// its first change; its missed themes read after), holdout35 (written in the nineteenth
// round, measured once on the code before it and once after, not read), holdout36
// (written at the start of the twentieth round, measured once before it and once after, not
// read), holdout37 (written at the start of the twenty-first round, measured once before
// its analyzer changes and once after, not read), holdout38 (written during the
// twenty-second round, measured once on the code before the round and once after, not read)
// holdout39 (written during the twenty-third round, measured once on the code before the
// round and once after, not read) and holdout40 (written at the start of the twenty-fourth
// round, measured once, not read).
var holdoutDirs = []string{"holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6", "holdout7", "holdout8", "holdout9", "holdout10", "holdout11", "holdout12", "holdout13", "holdout14", "holdout15", "holdout16", "holdout17", "holdout18", "holdout19", "holdout20", "holdout21", "holdout22", "holdout23", "holdout24", "holdout25", "holdout26", "holdout27", "holdout28", "holdout29", "holdout30", "holdout31", "holdout32", "holdout33", "holdout34", "holdout35", "holdout36", "holdout37", "holdout38", "holdout39", "holdout40"}

// loadHoldout loads the held-out sets: only TestQuality reads them, and only logs their
// scores.
func loadHoldout(t testing.TB) map[string]*fixture {
	t.Helper()
	out := map[string]*fixture{}
	for _, d := range holdoutDirs {
		maps.Copy(out, loadDir(t, filepath.Join("testdata", d), d+"/"))
	}
	return out
}

// holdoutSet says a set is one of the held-out ones, whose scores are logged only.
func holdoutSet(name string) bool {
	dir, _, ok := strings.Cut(name, "/")
	return ok && slices.Contains(holdoutDirs, dir)
}

func loadDir(t testing.TB, dir, prefix string) map[string]*fixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*fixture{}
	for _, p := range paths {
		s, err := handcoded.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		out[prefix+strings.TrimSuffix(filepath.Base(p), ".json")] = &fixture{*s}
	}
	return out
}

// input builds the analyzer's input: interviewer turns are the questions, participant
// turns the answers, with message ids like "f01-q3" and "f01-a3".
func (f *fixture) input() Input {
	in := Input{Campaign: Campaign{Title: f.Campaign.Title, Objectives: f.Campaign.Objectives,
		Questions: f.Campaign.Questions, Language: "en"}}
	for _, iv := range f.Interviews {
		x := Interview{ID: iv.ID}
		for i, a := range iv.Answers {
			q := ""
			if i < len(f.Campaign.Questions) {
				q = f.Campaign.Questions[i]
			}
			x.Messages = append(x.Messages,
				Message{ID: fmt.Sprintf("%s-q%d", iv.ID, i), Role: RoleInterviewer, Content: q},
				Message{ID: fmt.Sprintf("%s-a%d", iv.ID, i), Role: RoleParticipant, Content: a})
		}
		in.Interviews = append(in.Interviews, x)
	}
	return in
}

type score struct {
	recall, precision float64
	// support is the share of all evidence quotes that fall in answers coded for a
	// theme their finding matches: the scoring rule lets half of a finding's quotes
	// miss, this shows how many do.
	support  float64
	trapHits int
	report   string
	matched  []bool // whether each finding matches a theme
}

func (f *fixture) score(t testing.TB, findings []Finding) score {
	coded := map[string]map[answerRef]bool{}
	for _, th := range f.Themes {
		coded[th.Key] = map[answerRef]bool{}
		for _, s := range th.Supporting {
			coded[th.Key][answerRef{s.InterviewID, s.AnswerIndex}] = true
		}
	}
	traps := map[string]map[answerRef]string{}
	for _, tr := range f.Traps {
		if traps[tr.ThemeKey] == nil {
			traps[tr.ThemeKey] = map[answerRef]string{}
		}
		traps[tr.ThemeKey][answerRef{tr.InterviewID, tr.AnswerIndex}] = tr.Kind
	}
	answers := map[string][]string{}
	for _, iv := range f.Interviews {
		answers[iv.ID] = iv.Answers
	}
	var b strings.Builder
	matchedThemes := map[string]bool{}
	good, trapHits, quotes, supported := 0, 0, 0, 0
	var matchedFindings []bool
	for _, fd := range findings {
		var refs []answerRef
		for _, e := range fd.Evidence {
			idx := -1
			for i, a := range answers[e.InterviewID] {
				if strings.Contains(a, e.Quote) {
					idx = i
					break
				}
			}
			if idx < 0 {
				t.Errorf("%s: %q: quote %q is not in any answer of %s", f.Fixture, fd.Title, e.Quote, e.InterviewID)
			}
			refs = append(refs, answerRef{e.InterviewID, idx})
		}
		var matches []string
		for _, th := range f.Themes {
			in := 0
			for _, r := range refs {
				if coded[th.Key][r] {
					in++
				}
			}
			if len(refs) > 0 && 2*in >= len(refs) {
				matches = append(matches, th.Key)
				matchedThemes[th.Key] = true
			}
		}
		if len(matches) > 0 {
			good++
		}
		matchedFindings = append(matchedFindings, len(matches) > 0)
		fmt.Fprintf(&b, "  [%d] %-13s %-60s -> %v (%s)\n", fd.Frequency, fd.Type, fd.Title, matches, fd.Key)
		for i, e := range fd.Evidence {
			tag := ""
			// A quote from a trap answer of a theme the finding matches is a trap hit,
			// unless the answer is coded for another theme the finding also matches.
			supports := false
			for _, m := range matches {
				if coded[m][refs[i]] {
					supports = true
				}
			}
			quotes++
			if supports {
				supported++
			}
			for _, m := range matches {
				if kind, ok := traps[m][refs[i]]; ok && !supports {
					tag = " TRAP(" + kind + ")"
					trapHits++
					break
				}
			}
			where := "uncoded"
			var themes []string
			for _, th := range f.Themes {
				if coded[th.Key][refs[i]] {
					themes = append(themes, th.Key)
				}
			}
			if len(themes) > 0 {
				where = strings.Join(themes, ",")
			}
			fmt.Fprintf(&b, "        %s a%d (%s)%s: %s\n", refs[i].iv, refs[i].idx, where, tag, e.Quote)
		}
	}
	var missed []string
	for _, th := range f.Themes {
		if !matchedThemes[th.Key] {
			missed = append(missed, th.Key)
		}
	}
	slices.Sort(missed)
	if len(missed) > 0 {
		fmt.Fprintf(&b, "  missed themes: %v\n", missed)
	}
	s := score{trapHits: trapHits, report: b.String(), matched: matchedFindings}
	if quotes > 0 {
		s.support = float64(supported) / float64(quotes)
	}
	if len(f.Themes) > 0 {
		s.recall = float64(len(matchedThemes)) / float64(len(f.Themes))
	}
	if len(findings) > 0 {
		s.precision = float64(good) / float64(len(findings))
	}
	return s
}

func TestQuality(t *testing.T) {
	if os.Getenv("ANALYSIS_DEBUG") != "" {
		debugf = func(format string, args ...any) { t.Logf(format, args...) }
		defer func() { debugf = nil }()
	}
	fixtures := loadFixtures(t)
	maps.Copy(fixtures, loadHoldout(t))
	names := make([]string, 0, len(fixtures))
	for n := range fixtures {
		names = append(names, n)
	}
	slices.Sort(names)
	calib := map[string]*[2]int{} // by finding type: findings, and those that match a theme
	for _, name := range names {
		f := fixtures[name]
		t.Run(name, func(t *testing.T) {
			findings, err := New().Analyze(context.Background(), f.input())
			if err != nil {
				t.Fatal(err)
			}
			s := f.score(t, findings)
			for i, fd := range findings {
				if calib[fd.Type] == nil {
					calib[fd.Type] = &[2]int{}
				}
				calib[fd.Type][0]++
				if s.matched[i] {
					calib[fd.Type][1]++
				}
			}
			t.Logf("%s: recall %.2f precision %.2f trap hits %d findings %d evidence support %.2f\n%s",
				name, s.recall, s.precision, s.trapHits, len(findings), s.support, s.report)
			if s.recall < qualityTargetRecall || s.precision < qualityTargetPrecision {
				report := t.Errorf
				if blindSets[name] || holdoutSet(name) {
					report = t.Logf
				}
				report("%s: recall %.2f (target %.2f), precision %.2f (target %.2f)",
					name, s.recall, qualityTargetRecall, s.precision, qualityTargetPrecision)
			}
			if s.support < qualityFloorSupport && !blindSets[name] && !holdoutSet(name) {
				t.Errorf("%s: evidence support %.2f, below the floor %.2f", name, s.support, qualityFloorSupport)
			}
		})
	}
	checkConfidence(t, calib)
}

// confidenceSlack is how far a finding type's confidence may be from the share of its
// findings that match a theme over every hand-coded set.
const confidenceSlack = 0.08

// checkConfidence fails when a finding type's confidence (kindConfidence) no longer says how
// often findings of that type match a coded theme.
func checkConfidence(t *testing.T, calib map[string]*[2]int) {
	stance := map[string]polClass{TypePainPoint: classNeg, TypeTheme: classPos, TypeOpportunity: classWish}
	for typ, c := range calib {
		if c[0] < 30 {
			continue
		}
		share := float64(c[1]) / float64(c[0])
		conf := kindConfidence[stance[typ]]
		t.Logf("%s: %d of %d findings match a theme (%.3f), confidence %.2f", typ, c[1], c[0], share, conf)
		if math.Abs(share-conf) > confidenceSlack {
			t.Errorf("%s findings match a theme %.3f of the time, but their confidence is %.2f", typ, share, conf)
		}
	}
}

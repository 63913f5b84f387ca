package analysis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// oneQuestion is a study of a single question: answers is what each participant said.
func oneQuestion(question string, answers []string) Input {
	in := Input{Campaign: Campaign{Title: "Onboarding study", Questions: []string{question}, Language: "en"}}
	for i, a := range answers {
		id := fmt.Sprintf("i%02d", i)
		in.Interviews = append(in.Interviews, Interview{ID: id, Messages: []Message{
			{ID: id + "-q0", Role: RoleInterviewer, Content: question},
			{ID: id + "-a0", Role: RoleParticipant, Content: a},
		}})
	}
	return in
}

// shapeOf is a protocol of questions, open as given, whose first is a warm-up unless it is
// open.
func shapeOf(open []bool) shape { return shape{open: open, warmup: len(open) > 1 && !open[0]} }

// analyzed runs the built-in analyzer on in.
func analyzed(t *testing.T, in Input) []Finding {
	t.Helper()
	got, err := New().Analyze(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A study of one question has no warm-up: its only question is what it is about.
func TestOneQuestionStudyHasThemes(t *testing.T) {
	in := oneQuestion("What almost made you give up?", []string{
		"It was far too expensive for us, honestly the price nearly made us quit.",
		"The price was too expensive for a team of our size.",
		"Too expensive. We almost cancelled because the price kept going up.",
		"The plan is too expensive and the price is hard to justify.",
		"Way too expensive; the price is the main reason we hesitated.",
	})
	got := analyzed(t, in)
	if len(got) == 0 || got[0].Frequency != 5 || got[0].Type != TypePainPoint {
		t.Fatalf("want the price complaint of all five, got %+v", got)
	}
}

// The same answers to a warm-up are background: no theme.
func TestWarmupAnswersAreNoTheme(t *testing.T) {
	in := oneQuestion("To start, tell me a bit about yourself.", []string{
		"I run a small bakery, and honestly the rent is far too expensive.",
		"I'm a nurse; the price of everything is too expensive these days.",
		"Retired teacher. Prices are too expensive for pensioners.",
		"I manage a gym, and equipment is too expensive to replace.",
		"Student, so everything is too expensive for me.",
	})
	in.Campaign.Questions = append(in.Campaign.Questions, "What did you think of the app?")
	if got := analyzed(t, in); len(got) != 0 {
		t.Fatalf("warm-up answers made findings: %+v", got)
	}
}

// A protocol that opens on its topic has no warm-up: its first answers are evidence like
// any other, whether or not the question asks for a stance.
func TestTopicalFirstQuestionIsNoWarmup(t *testing.T) {
	answers := []string{
		"The pricing was confusing and far too expensive for us.",
		"Honestly it's too expensive; we pay more than we did for two tools.",
		"Way too expensive for a small team, and the tiers made no sense.",
		"It costs too much. I had to argue for the budget twice.",
		"Too expensive, and the price went up after the first year.",
	}
	same := slices.Repeat([]string{answers[0]}, 5)
	for _, q := range []string{"What do you think of the pricing?", "How do you feel about the price?", "Tell me about the pricing."} {
		in := oneQuestion(q, answers)
		if q == "What do you think of the pricing?" {
			in = oneQuestion(q, same) // five people who say it alike are five people
		}
		in.Campaign.Questions = append(in.Campaign.Questions, "What about onboarding?")
		got := analyzed(t, in)
		if len(got) == 0 || got[0].Frequency != 5 || got[0].Type != TypePainPoint {
			t.Errorf("%q: want the price complaint of all five, got %+v", q, got)
		}
	}
}

// answerRecs are one clause per interview answering question q with class, each in
// words of its own unless shared is given.
func answerRecs(q int16, first, n int, class polClass, shared string) []clauseRec {
	var out []clauseRec
	for i := range n {
		stems := []string{fmt.Sprintf("own%d%d", q, first+i)}
		if shared != "" {
			stems = append(stems, shared)
		}
		out = append(out, clauseRec{iv: int32(first + i), msg: int32(q), qid: q, class: class, explicit: true, stems: stems})
	}
	return out
}

// The rules of question themes on records: a stance most answerers take is a theme in
// whatever words; a split question, an open question without a shared word and a
// question another cluster holds are none.
func TestQuestionThemes(t *testing.T) {
	a := New().(*analyzer)
	const thr = 4
	closed := []bool{false, false}
	open := []bool{false, true}
	themes := func(recs []clauseRec, open []bool, out []*cluster) []*cluster {
		var outAnswers [][]int64
		for _, cl := range out {
			outAnswers = append(outAnswers, recAnswers(recs, cl.recs))
		}
		return questionThemes(recs, a.thes, newQuestionPools(recs, shapeOf(open)), map[string]bool{}, thr, shapeOf(open), out, outAnswers)
	}
	praised := append(answerRecs(1, 0, 6, classPos, ""), answerRecs(1, 6, 2, classNeg, "")...)
	got := themes(praised, closed, nil)
	if len(got) != 1 || !got[0].whole || got[0].class != classPos || got[0].qid != 1 || got[0].support != 6 {
		t.Fatalf("six of eight praising in their own words: %+v", got)
	}
	split := append(answerRecs(1, 0, 5, classPos, ""), answerRecs(1, 5, 3, classNeg, "")...)
	if got := themes(split, closed, nil); len(got) != 0 {
		t.Fatalf("five praising against three complaining made a theme: %+v", got)
	}
	if got := themes(praised, open, nil); len(got) != 0 {
		t.Fatalf("an open question's praise in words of its own made a theme: %+v", got)
	}
	sharing := append(answerRecs(1, 0, 6, classPos, "cushion"), answerRecs(1, 6, 2, classNeg, "")...)
	if got := themes(sharing, open, nil); len(got) != 1 || got[0].support != 6 {
		t.Fatalf("an open question's praise sharing a word: %+v", got)
	}
	held := &cluster{class: classPos, primary: -1, qid: -1, recs: []int{0, 1, 2, 3}}
	if got := themes(praised, closed, []*cluster{held}); len(got) != 0 {
		t.Fatalf("a question another cluster holds made a theme: %+v", got)
	}
	warm := answerRecs(0, 0, 8, classPos, "")
	if got := themes(warm, closed, nil); len(got) != 0 {
		t.Fatalf("the warm-up made a theme: %+v", got)
	}
}

// Praise from shared words needs one more interview than a complaint; a question theme
// and a lexicon concept do not.
func TestDropThinPraise(t *testing.T) {
	const thr = 4
	recs := append(answerRecs(1, 0, 4, classPos, "nice"), answerRecs(2, 4, 5, classPos, "lovely")...)
	thin := &cluster{class: classPos, primary: -1, qid: -1, recs: []int{0, 1, 2, 3}}
	five := &cluster{class: classPos, primary: -1, qid: -1, recs: []int{4, 5, 6, 7, 8}}
	whole := &cluster{class: classPos, primary: -1, qid: 1, whole: true, recs: []int{0, 1, 2, 3}}
	concept := &cluster{class: classPos, primary: 0, qid: -1, recs: []int{0, 1, 2, 3}}
	complaint := &cluster{class: classNeg, primary: -1, qid: -1, recs: []int{0, 1, 2, 3}}
	got := dropThinPraise([]*cluster{thin, five, whole, concept, complaint}, recs, thr)
	if len(got) != 4 || slices.Contains(got, thin) {
		t.Fatalf("kept %d clusters, thin praise kept: %v", len(got), slices.Contains(got, thin))
	}
}

// A co-occurrence cluster grown from one thesaurus family alone needs one more interview
// than a theme; one grown from a word, or from a family and a word, does not.
func TestDropThinFamilies(t *testing.T) {
	const thr = 4
	recs := answerRecs(1, 0, 5, classNeg, "")
	family := &cluster{class: classNeg, primary: -1, qid: -1, cooc: true, stem: "@waiting", core: map[string]bool{"@waiting": true}, recs: []int{0, 1, 2, 3}}
	wider := &cluster{class: classNeg, primary: -1, qid: -1, cooc: true, stem: "@waiting", core: map[string]bool{"@waiting": true}, recs: []int{0, 1, 2, 3, 4}}
	word := &cluster{class: classNeg, primary: -1, qid: -1, cooc: true, stem: "queue", core: map[string]bool{"queue": true}, recs: []int{0, 1, 2, 3}}
	pair := &cluster{class: classNeg, primary: -1, qid: -1, cooc: true, stem: "@waiting", core: map[string]bool{"@waiting": true, "phone": true}, recs: []int{0, 1, 2, 3}}
	got := dropThinFamilies([]*cluster{family, wider, word, pair}, recs, thr)
	if len(got) != 3 || slices.Contains(got, family) {
		t.Fatalf("kept %d clusters, the thin family kept: %v", len(got), slices.Contains(got, family))
	}
}

// A word shared in warm-up answers is background, as in every other path: no word theme.
func TestStemCandidatesSkipWarmup(t *testing.T) {
	const thr = 4
	warm := answerRecs(0, 0, 6, classNeg, "garage")
	if got := stemCandidates(warm, thr, nil, true); len(got) != 0 {
		t.Fatalf("warm-up answers made a word theme: %+v", got)
	}
	if got := stemCandidates(warm, thr, nil, false); len(got) != 1 || got[0].stem != "garage" {
		t.Fatalf("the first question of a study without a warm-up: %+v", got)
	}
}

// The sixth path on records: a question no cluster calls home gets the stance most of its
// answerers take, even against a sizeable other one, once a theme's threshold take it; a
// question some cluster calls home, the warm-up, and a stance below the threshold get none.
func TestUnraisedQuestions(t *testing.T) {
	a := New().(*analyzer)
	const thr = 4
	unraised := func(recs []clauseRec, open []bool, out []*cluster) []*cluster {
		return unraisedQuestions(recs, a.thes, newQuestionPools(recs, shapeOf(open)), thr, shapeOf(open), out)
	}
	warmup := []bool{false, false, false}
	split := append(answerRecs(1, 0, 5, classNeg, ""), answerRecs(1, 5, 3, classPos, "")...)
	got := unraised(split, warmup, nil)
	if len(got) != 1 || !got[0].whole || got[0].class != classNeg || got[0].qid != 1 || got[0].support != 5 {
		t.Fatalf("five complaining against three praising, nothing else found: %+v", got)
	}
	home := &cluster{class: classPos, primary: -1, qid: -1, recs: []int{5, 6, 7}}
	if got := unraised(split, warmup, []*cluster{home}); len(got) != 0 {
		t.Fatalf("a question another cluster calls home got a second theme: %+v", got)
	}
	elsewhere := append(slices.Clone(split), answerRecs(2, 0, 6, classNeg, "")...)
	away := &cluster{class: classNeg, primary: -1, qid: -1, recs: []int{8, 9, 10, 11, 12, 13, 0}}
	if got := unraised(elsewhere, warmup, []*cluster{away}); len(got) != 1 || got[0].qid != 1 {
		t.Fatalf("a cluster at home in question 2 with one clause of question 1 raised question 1: %+v", got)
	}
	few := append(answerRecs(1, 0, 3, classNeg, ""), answerRecs(1, 3, 3, classPos, "")...)
	if got := unraised(few, warmup, nil); len(got) != 0 {
		t.Fatalf("three of a stance made a theme: %+v", got)
	}
	warm := answerRecs(0, 0, 8, classNeg, "")
	if got := unraised(warm, warmup, nil); len(got) != 0 {
		t.Fatalf("the warm-up made a theme: %+v", got)
	}
	noWarmup := []bool{true, false}
	if got := unraised(warm, noWarmup, nil); len(got) != 1 || got[0].qid != 0 {
		t.Fatalf("the first question of a study without a warm-up: %+v", got)
	}
}

// A question another cluster calls home still has a complaint or a wish of its own when a
// theme's threshold of interviews voice it in answers no cluster holds; praise only in
// answer to an open question, and never a stance the home cluster already takes.
func TestOtherStances(t *testing.T) {
	a := New().(*analyzer)
	const thr = 4
	other := func(recs []clauseRec, out []*cluster) []*cluster {
		open := []bool{false, false}
		return otherStances(recs, a.thes, newQuestionPools(recs, shapeOf(open)), thr, shapeOf(open), out)
	}
	// Interviews 0-5 praise in answer to question 1 (the home cluster's); 6-10 complain.
	praised := answerRecs(1, 0, 6, classPos, "")
	home := &cluster{class: classPos, primary: -1, qid: -1, recs: []int{0, 1, 2, 3, 4, 5}}
	both := append(slices.Clone(praised), answerRecs(1, 6, 5, classNeg, "")...)
	got := other(both, []*cluster{home})
	if len(got) != 1 || !got[0].whole || got[0].class != classNeg || got[0].qid != 1 || got[0].support != 5 {
		t.Fatalf("five complaining beside a praise theme: %+v", got)
	}
	if got := other(both, nil); len(got) != 0 {
		t.Fatalf("a question no cluster calls home is the sixth path's: %+v", got)
	}
	// The same interviews' complaints in the answers the home cluster holds are
	// concessions inside its answers, not a theme of their own.
	inside := append(slices.Clone(praised), answerRecs(1, 0, 5, classNeg, "")...)
	if got := other(inside, []*cluster{home}); len(got) != 0 {
		t.Fatalf("complaints in the home cluster's answers made a theme: %+v", got)
	}
	three := append(slices.Clone(praised), answerRecs(1, 6, 3, classNeg, "")...)
	if got := other(three, []*cluster{home}); len(got) != 0 {
		t.Fatalf("three complaints made a theme: %+v", got)
	}
	complained := &cluster{class: classNeg, primary: -1, qid: -1, recs: []int{0, 1, 2, 3, 4, 5}}
	twice := append(answerRecs(1, 0, 6, classNeg, ""), answerRecs(1, 6, 5, classNeg, "")...)
	if got := other(twice, []*cluster{complained}); len(got) != 0 {
		t.Fatalf("the home cluster's own stance made a second theme: %+v", got)
	}
	praise := append(answerRecs(1, 0, 6, classNeg, ""), answerRecs(1, 6, 5, classPos, "")...)
	if got := other(praise, []*cluster{complained}); len(got) != 0 {
		t.Fatalf("praise beside a complaint theme made a theme: %+v", got)
	}
	open := []bool{false, true}
	if got := otherStances(praise, a.thes, newQuestionPools(praise, shapeOf(open)), thr, shapeOf(open), []*cluster{complained}); len(got) != 1 ||
		got[0].class != classPos {
		t.Fatalf("praise beside a complaint theme in answer to an open question: %+v", got)
	}
	wishes := append(answerRecs(1, 0, 6, classNeg, ""), answerRecs(1, 6, 4, classWish, "")...)
	if got := other(wishes, []*cluster{complained}); len(got) != 1 || got[0].class != classWish {
		t.Fatalf("four wishes beside a complaint theme: %+v", got)
	}
}

// The built-in analyzer reads English only: a campaign in another language is refused
// rather than read for the themes its function words would make.
func TestOtherLanguagesAreRefused(t *testing.T) {
	for _, lang := range []string{"", "en", "EN", "en-GB", "en-US"} {
		if !ReadsLanguage(lang) {
			t.Errorf("%q refused", lang)
		}
	}
	answers := []string{"Die Preise waren viel zu teuer.", "Die Einrichtung hat sehr lange gedauert.", "Viel zu teuer, sehr schade.",
		"Es hat viel zu lange gedauert.", "Sehr teuer und sehr langsam."}
	for _, lang := range []string{"de", "fr-CA", "english"} {
		in := oneQuestion("Was hat Sie gestört?", answers)
		in.Campaign.Language = lang
		if got, err := New().Analyze(context.Background(), in); !errors.Is(err, ErrLanguage) || len(got) != 0 {
			t.Errorf("%q: %d findings, error %v", lang, len(got), err)
		}
	}
}

// "My colleague said the setup was slow, but for me it was quick": the speaker denies the
// reported view is theirs, so the clause takes no complaint from a question that asks for
// one. Six such answers had made the pain point "It was quick".
func TestOwnExperienceAgainstAReportedOne(t *testing.T) {
	answers := []string{
		"My colleague said the setup was slow, but for me it was quick.",
		"My manager said the setup was slow, but for me it was quick enough.",
		"My boss said the setup was slow, but personally it was quick.",
		"My colleague said the setup was slow, but for me it was quick, really.",
		"A friend said the setup was slow, but for me it was quick.",
		"My colleague said the setup was slow, but I found it was quick.",
	}
	in := oneQuestion("What almost stopped you signing up?", answers)
	for _, f := range analyzed(t, in) {
		if f.Type == TypePainPoint {
			t.Errorf("a pain point of denials: %q (%d)", f.Title, f.Frequency)
		}
	}
}

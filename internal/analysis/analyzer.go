package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// How the built-in analyzer works, in one pass over the text and one over its records:
//
//  1. Each participant message is cut into sentences (Punkt, neurosnap/sentences) and the
//     sentences into clauses at contrast markers and hard punctuation (segment.go).
//  2. Each clause is read for stance (stance.go, message.go): lexicon concepts (lexicon.go)
//     matched on Snowball stems; negation scopes that flip polarity or drop a negated
//     concept; counterfactuals, second-hand reports, concessions and echoes of the
//     question are dropped; wishes and conditions are told from complaints and praise.
//     A clause with no stance of its own inherits one from its question, or from how
//     most people answered that question.
//  3. Own-stance clauses are grouped by (stance, concept) in an inverted index; groups
//     heard in enough distinct interviews become findings, overlapping ones merge
//     (cluster.go), and each finding keeps the clearest clause per interview as its
//     evidence, quoted exactly (label.go).
//
// Everything is sorted before it is emitted, so the output does not depend on map order
// or scheduling, and the cost is linear in the text.
var _ Reporter = (*analyzer)(nil)

// Option tunes the built-in analyzer.
type Option func(*analyzer)

// WithMinSupport sets the fewest distinct interviews a finding needs. By default it is
// max(4, ceil(0.1·n)) for n interviews; see minSupport.
func WithMinSupport(k int) Option { return func(a *analyzer) { a.fixedSupport = k } }

// WithMaxEvidence caps the quotes per finding (default 8, one per interview, the
// clearest first).
func WithMaxEvidence(k int) Option { return func(a *analyzer) { a.maxEvidence = k } }

// WithWorkers sets how many goroutines read interviews (default GOMAXPROCS). The result
// does not depend on it.
func WithWorkers(k int) Option { return func(a *analyzer) { a.workers = k } }

// New returns the built-in offline analyzer: it reads English interviews and finds the
// complaints, praise and wishes that recur across participants, grouping different
// wordings through a stemmer and a concept lexicon. It is deterministic: the same input
// gives the same findings, byte for byte.
func New(opts ...Option) Analyzer {
	a := &analyzer{maxEvidence: 8, workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(a)
	}
	a.lex, a.pol, a.thes, a.thesErr = compiledTables()
	return a
}

// The lexicon and polarity tables are read-only once built, so every analyzer shares one
// copy; building them stems a few thousand terms.
var (
	tablesOnce sync.Once
	sharedLex  *lexicon
	sharedPol  *polarityTable
	sharedThes *thesaurus
	thesErr    error
)

func compiledTables() (*lexicon, *polarityTable, *thesaurus, error) {
	tablesOnce.Do(func() {
		st := newStemmer()
		sharedLex = compileLexicon(st)
		sharedPol = compilePolarity()
		sharedThes, thesErr = compileThesaurus(thesaurusText, st)
	})
	return sharedLex, sharedPol, sharedThes, thesErr
}

type analyzer struct {
	fixedSupport int
	maxEvidence  int
	workers      int
	lex          *lexicon
	pol          *polarityTable
	thes         *thesaurus
	thesErr      error // a malformed thesaurus table; every run reports it
}

// minSupport is the distinct-interview threshold for a finding. Four is the floor: in a
// study of a dozen or so people, two or three mentions are a coincidence or an anecdote
// (hand-coded studies show one-off and counter-stance topics recurring in up to three
// interviews), while a theme worth reporting is heard from four or more. It stays four up
// to 40 interviews, where a minority view a careful researcher reports is still four or
// five people, and then grows with the corpus, 10% of interviews, so that with thousands
// of interviews a finding still describes a sizeable group rather than any phrase a few
// dozen people happened to share. (Growing at 20% from 21 interviews, it lost a third of
// the themes of hand-coded sets of 25 to 36 interviews: testdata README, "Sixteenth round".)
func (a *analyzer) minSupport(n int) int {
	if a.fixedSupport > 0 {
		return a.fixedSupport
	}
	return MinSupport(n)
}

// MinSupport is the fewest distinct interviews a finding of n interviews needs, for any
// analyzer: max(4, ceil(0.1·n)).
func MinSupport(n int) int { return max(4, int(math.Ceil(0.1*float64(n)))) }

// Analyze implements Analyzer.
func (a *analyzer) Analyze(ctx context.Context, in Input) ([]Finding, error) {
	if !ReadsLanguage(in.Campaign.Language) {
		return nil, fmt.Errorf("analysis: campaign language %q: %w", in.Campaign.Language, ErrLanguage)
	}
	if a.thesErr != nil {
		return nil, fmt.Errorf("analysis: compiling the thesaurus: %w", a.thesErr)
	}
	tok, err := sentenceTokenizer()
	if err != nil {
		return nil, fmt.Errorf("analysis: loading the sentence model: %w", err)
	}
	protocol := protocolStems(in.Campaign)
	recs, stats, err := a.readAll(ctx, in, protocol, tok)
	if err != nil {
		return nil, err
	}
	applyAnswerPriors(recs, stats)
	clusters := a.cluster(recs, len(in.Interviews), protocol, a.shapeOf(in.Campaign))
	return a.findings(clusters, recs, in), nil
}

// ErrLanguage is a campaign in a language the built-in analyzer does not read: its
// stemmer, stop words, lexicon and stance rules are English, and on other text they would
// make themes of function words ("hat", "sehr") rather than say nothing.
var ErrLanguage = errors.New("the built-in analyzer reads English only")

// ReadsLanguage says the built-in analyzer reads a campaign in language, a BCP 47 tag: any
// English, or none given (English is the default).
func ReadsLanguage(language string) bool {
	primary, _, _ := strings.Cut(language, "-")
	return primary == "" || strings.EqualFold(primary, "en")
}

// AnalyzeReport implements Reporter: the built-in analyzer makes its own findings.
func (a *analyzer) AnalyzeReport(ctx context.Context, in Input) ([]Finding, string, error) {
	found, err := a.Analyze(ctx, in)
	return found, AnalyzerBuiltin, err
}

// shapeOf reads the protocol's questions (see shape). The first question is a warm-up when
// it asks about the participant ("tell me about yourself", "how you came to", "your role")
// and for no evaluation: a protocol that opens on its topic ("What do you think of the
// pricing?") has none, and its first answers are evidence like any other.
func (a *analyzer) shapeOf(c Campaign) shape {
	open := a.openQuestions(c)
	return shape{open: open, warmup: len(open) > 1 && !open[0] && warmupCues.MatchString(strings.ToLower(c.Questions[0]))}
}

// warmupCues are the words of a question about the participant rather than about the study.
var warmupCues = regexp.MustCompile(`\byourself\b|\bintroduce\b|\b(tell|telling) me (a (bit|little) )?about (your|you|where)\b|` +
	`\bhow (you|did you) (came|come|first|started|start|began|begin|ended|end)\b|\bhow long (you|have you|you've)\b|` +
	`\bwhat brought you\b|\bwhat do you do\b|\bwhat you(?:'re| are)? study|\bwhere you live\b|\byour (role|job|household|family|business)\b`)

// openQuestions marks the protocol questions that ask for an evaluation of anything
// ("What frustrated you?", "What would you change?") rather than about one topic: their
// answers mix topics, so a discovered cluster there must be cut by words (discover.go).
//
// An evaluative question about one of the topics the objectives list ("How well did you
// sleep? Was noise a problem?" in a study whose objectives name noise and sleep) is no
// open question: its answers are about that topic, whatever their stance.
func (a *analyzer) openQuestions(c Campaign) []bool {
	st := newStemmer()
	topics := objectiveTopics(c, st)
	out := make([]bool, len(c.Questions))
	for i, q := range c.Questions {
		out[i] = a.readQuestion(q, st).prior != classNone && !namesTopic(q, topics, st)
	}
	// A protocol that opens on an episode ("Tell me about the last time you used it") has no
	// warm-up: what people tell there is the study's first evidence, of any topic.
	if len(out) > 0 && asksForEpisode(c.Questions[0]) {
		out[0] = true
	}
	return out
}

// episodeCues ask for one occasion, told as it happened: the critical-incident opening.
var episodeCues = []string{"last time", "most recent", "recent time", "walk me through", "take me through", "what happened"}

// asksForEpisode says a question asks for an occasion rather than about the person.
func asksForEpisode(q string) bool {
	low := strings.ToLower(q)
	return slices.ContainsFunc(episodeCues, func(cue string) bool { return strings.Contains(low, cue) })
}

// objectiveTopics are the content stems of the objectives that are not in the title: the
// topics a study sets out to ask about, apart from its own name and subject.
func objectiveTopics(c Campaign, st *stemmer) map[string]bool {
	title := map[string]bool{}
	for _, t := range tokenize(c.Title, 0, len(c.Title), st) {
		title[t.stem] = true
	}
	out := map[string]bool{}
	for _, t := range tokenize(c.Objectives, 0, len(c.Objectives), st) {
		if isContent(t) && !title[t.stem] && !genericStems[t.stem] && !slices.Contains(subjectNouns, t.low) {
			out[t.stem] = true
		}
	}
	return out
}

// namesTopic says a question names one of the topics, beside its evaluative words and
// the words that frame any question ("the moment that stood out").
func namesTopic(q string, topics map[string]bool, st *stemmer) bool {
	for _, t := range tokenize(q, 0, len(q), st) {
		if !isContent(t) || t.upper || questionFrame[t.stem] || questionNegative[t.stem] || questionPositive[t.stem] || polarityWord(t.low) {
			continue
		}
		if topics[t.stem] {
			return true
		}
	}
	return false
}

// questionFrame are the words any evaluative question may use, whatever its topic.
var questionFrame = wordSet(`moment reason stood stand hope hope expect most least chang improv add help differ
anyth someth one experi decid final consid`)

// protocolStems are the content stems of the campaign's title, objectives and questions.
func protocolStems(c Campaign) map[string]bool {
	st := newStemmer()
	out := map[string]bool{}
	add := func(s string) {
		for _, t := range tokenize(s, 0, len(s), st) {
			if isContent(t) {
				out[t.stem] = true
			}
		}
	}
	add(c.Title)
	add(c.Objectives)
	for _, q := range c.Questions {
		add(q)
	}
	return out
}

// readAll analyses every participant message, in parallel over interviews; each worker
// writes only its own interviews' slots, and the slots are concatenated in interview order,
// so the result does not depend on scheduling.
func (a *analyzer) readAll(ctx context.Context, in Input, protocol map[string]bool, tok sentenceTokenizerT) ([]clauseRec, questionStats, error) {
	n := len(in.Interviews)
	perIV := make([][]clauseRec, n)
	nq := len(in.Campaign.Questions)
	qindex := make(map[string]int, nq)
	for i, q := range in.Campaign.Questions {
		if _, dup := qindex[q]; !dup {
			qindex[q] = i
		}
	}
	// An interviewer that rephrases the protocol ("So, what frustrated you most?") still
	// asks one of its questions: turns are matched to the closest one by shared words.
	qstems := make([]map[string]bool, nq)
	{
		st := newStemmer()
		for i, q := range in.Campaign.Questions {
			qstems[i] = a.readQuestion(q, st).stems
		}
	}
	perWorker := make([]questionStats, 0)
	workers := max(1, min(a.workers, n))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		perWorker = append(perWorker, questionStats{neg: make([]int, nq), pos: make([]int, nq), answers: make([]int, nq)})
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(stats *questionStats) {
			defer wg.Done()
			st := newStemmer()
			qcache := map[string]question{}
			for i := range next {
				perIV[i] = a.readInterview(i, in.Interviews[i], protocol, st, tok, qcache, qindex, qstems, stats)
			}
		}(&perWorker[w])
	}
	var cerr error
	for i := 0; i < n; i++ {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				cerr = err
				break
			}
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if cerr != nil {
		return nil, questionStats{}, cerr
	}
	// Sums commute, so the totals do not depend on which worker read what.
	stats := questionStats{neg: make([]int, nq), pos: make([]int, nq), answers: make([]int, nq)}
	for _, w := range perWorker {
		for i := range nq {
			stats.neg[i] += w.neg[i]
			stats.pos[i] += w.pos[i]
			stats.answers[i] += w.answers[i]
		}
	}
	total := 0
	for _, r := range perIV {
		total += len(r)
	}
	out := make([]clauseRec, 0, total)
	for _, r := range perIV {
		out = append(out, r...)
	}
	return out, stats, nil
}

// readInterview pairs each participant message with the interviewer turn before it (the
// question it answers) and analyses it.
func (a *analyzer) readInterview(iv int, in Interview, protocol map[string]bool, st *stemmer,
	tok sentenceTokenizerT, qcache map[string]question, qindex map[string]int, qstems []map[string]bool,
	stats *questionStats) []clauseRec {
	var out []clauseRec
	q := question{stems: map[string]bool{}, id: -1}
	for mi, m := range in.Messages {
		switch m.Role {
		case RoleInterviewer:
			cq, ok := qcache[m.Content]
			if !ok {
				cq = a.readQuestion(m.Content, st)
				if id, ok := qindex[m.Content]; ok {
					cq.id = id
				} else {
					cq.id = closestQuestion(cq.stems, qstems)
				}
				if len(qcache) < 1024 {
					qcache[m.Content] = cq
				}
			}
			q = cq
		case RoleParticipant:
			if q.id >= 0 {
				stats.answers[q.id]++
			}
			out = a.analyzeMessage(iv, mi, m.Content, q, protocol, st, tok, stats, out)
		}
	}
	return out
}

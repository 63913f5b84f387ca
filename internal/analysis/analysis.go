// Package analysis turns a campaign's completed interviews into findings: themes that recur
// across participants, each with the participants' own words as evidence. The built-in
// analyzer (New) is offline and deterministic; any other analyzer plugs in through Analyzer,
// as the chat model's does (package llm), and Chooser runs the one a campaign asks for.
//
// The built-in analyzer reads every participant answer into clauses with the speaker's own
// stance (message.go, stance.go: complaint, praise or wish; negated, hypothetical,
// second-hand and question-echo mentions are dropped), then finds themes by six paths in
// order, each adding only what the earlier ones do not already hold (cluster.go):
//
//  1. lexicon concepts said with one stance in enough interviews (lexicon.go);
//  2. a free word several interviews use with one stance (stemCandidates);
//  3. the answers to one question with one stance, split by the words they share
//     (discover.go);
//  4. words, word pairs and thesaurus families that recur together (cooccur.go,
//     thesaurus.go);
//  5. the answers to a question that most people answer with one stance, whatever their
//     words (questheme.go);
//  6. last, for a question no theme so far is raised in most, the stance most of its
//     answerers take, when as many as a theme needs take it (unraisedQuestions): a protocol
//     asks a question because it expects an answer to recur there; and for a question a
//     theme is raised in, a complaint or a wish that theme does not take, heard in as many
//     interviews in answers no theme holds (otherStances; praise only where an open
//     question asks for it): a question may draw two.
//
// A theme needs four interviews or a tenth of them, whichever is more. Its evidence is
// one clause per interview, the clearest first: the two clearest, then only those nearly
// as strong (quoteCuts); its title is the clause that says what most of the clearest
// say, in neutral words, naming at least two things (title.go); its confidence is how
// often findings of its type matched a coded theme (kindConfidence); its key names its
// stance and what holds it together, so a re-run updates the same finding, and CarryKeys
// (identity.go) keeps that identity when a grown set finds the theme by another path.
// testdata/README.md has the hand-coded sets it is measured on and what it still misses.
package analysis

import "context"

// Role says who wrote a message.
type Role string

// Message roles; only participants' words are ever evidence.
const (
	RoleInterviewer Role = "interviewer"
	RoleParticipant Role = "participant"
)

// Message is one turn of an interview, in order.
type Message struct {
	ID      string
	Role    Role
	Content string
}

// Interview is one completed interview.
type Interview struct {
	ID       string
	Messages []Message
}

// Campaign is what the analyzer knows of the study: its vocabulary is the protocol's, not
// the participants', so it never makes a theme on its own.
type Campaign struct {
	Title, Objectives string
	Questions         []string
	Language          string // BCP 47; the built-in analyzer reads English
	// Analyzer is the analyzer the campaign asks for: "" or AnalyzerBuiltin for the built-in
	// one, AnalyzerLLM for the operator's chat model (see Chooser).
	Analyzer string
}

// The analyzers a campaign can ask for, as its settings spell them.
const (
	AnalyzerBuiltin = "builtin"
	AnalyzerLLM     = "llm"
)

// Input is one analysis run.
type Input struct {
	Campaign   Campaign
	Interviews []Interview
}

// Evidence is a quote that supports a finding: an exact substring of a participant message.
type Evidence struct {
	InterviewID string
	MessageID   string
	Quote       string
}

// Finding types and sentiments, as the REST API spells them.
const (
	TypeTheme       = "theme"
	TypePainPoint   = "pain_point"
	TypeOpportunity = "opportunity"
	TypeInsight     = "insight"

	SentimentPositive = "positive"
	SentimentNeutral  = "neutral"
	SentimentNegative = "negative"
	SentimentMixed    = "mixed"
)

// Finding is one recurring theme.
type Finding struct {
	// Key identifies the theme across re-runs on a grown or changed set of interviews, so a
	// re-analysis updates the finding it made before instead of adding a duplicate.
	Key        string
	Title      string
	Summary    string
	Type       string
	Frequency  int // distinct interviews that support it
	Sentiment  string
	Confidence float64 // 0..1
	Tags       []string
	Evidence   []Evidence
}

// Analyzer finds the recurring themes of a set of interviews.
type Analyzer interface {
	Analyze(ctx context.Context, in Input) ([]Finding, error)
}

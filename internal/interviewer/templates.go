package interviewer

import (
	"fmt"
	"strings"
)

// templates is one language's wording for the protocol interviewer. Every text is a
// complete sentence written for that language, not a translation assembled from pieces,
// because word order and grammatical case differ between the languages.
type templates struct {
	// tag is the base language tag, e.g. "de".
	tag string
	// name is the language's English name, for the LLM prompt.
	name string
	// quoteOpen and quoteClose are the language's quotation marks.
	quoteOpen, quoteClose string
	// greeting wraps the first question: %[1]s is the quoted or plain title, %[2]s the question.
	greeting string
	// greetingNoTitle wraps the first question when the campaign has no title.
	greetingNoTitle string
	// closing thanks the participant at the end.
	closing string
	// probes ask for more after a short or vague answer; %s is the quoted topic of the
	// question. They are picked by question index so consecutive probes read differently.
	probes []string
	// topicQuestion turns an objective that names a topic into an open request; %s is
	// the topic as written.
	topicQuestion string
	// clauseQuestion turns an objective that is an indirect question ("how customers
	// choose a bank") into a direct one; %s is the clause.
	clauseQuestion string
	// generic are the questions used when a campaign has neither questions nor
	// objectives; the first has %s for the topic (the quoted title, or thisTopic).
	generic []string
	// thisTopic names the topic when the campaign has no title.
	thisTopic string
	// titleQuoted says whether the greeting quotes the title (English reads better without).
	titleQuoted bool
	// vague are answers that say little, matched as whole words (see answer.go).
	vague []string
	// goalPrefixes start objectives ("understand", "we want to") and are stripped before
	// an objective becomes a question; lower case.
	goalPrefixes []string
	// goalSuffixes end objectives in verb-final languages ("… verstehen"); lower case.
	goalSuffixes []string
	// clauseWords start an indirect question ("how", "why"); lower case.
	clauseWords []string
	// invitations are request phrases that make a text question-like without a question
	// mark ("tell me about"); lower case.
	invitations []string
}

// quote puts s in the language's quotation marks.
func (t *templates) quote(s string) string { return t.quoteOpen + s + t.quoteClose }

// opening is the first message: a short greeting followed by the first question.
func (t *templates) opening(title, question string) string {
	title = trimSentence(title)
	if title == "" {
		return fmt.Sprintf(t.greetingNoTitle, question)
	}
	if t.titleQuoted {
		title = t.quote(title)
	}
	return fmt.Sprintf(t.greeting, title, question)
}

// topic names the study's subject inside a sentence.
func (t *templates) topic(title string) string {
	if title = trimSentence(title); title != "" {
		return t.quote(title)
	}
	return t.thisTopic
}

// probe returns the follow-up for the question at index i about topic.
func (t *templates) probe(i int, topic string) string {
	return fmt.Sprintf(t.probes[i%len(t.probes)], t.quote(shorten(trimSentence(topic), maxQuotedRunes)))
}

// anythingElse invites the participant to add what the interview has not touched: the
// last of every language's generic questions.
func (t *templates) anythingElse() string { return t.generic[len(t.generic)-1] }

// maxQuotedRunes bounds how much of a question a probe quotes, so a long question does not
// turn the probe into a wall of text.
const maxQuotedRunes = 100

// nbsp is the no-break space French typography puts inside « » and before ? and :.
const nbsp = "\u00a0"

// languages are the protocol's templates; the first is the fallback.
var languages = []*templates{english, german, french, spanish}

// templatesFor picks the templates by the base of a BCP 47 tag ("en-US" -> "en"; "" or
// an unknown language -> English). Returns a shared read-only value.
func templatesFor(language string) *templates {
	base := strings.ToLower(language)
	if i := strings.IndexAny(base, "-_"); i >= 0 {
		base = base[:i]
	}
	for _, t := range languages {
		if t.tag == base {
			return t
		}
	}
	return languages[0]
}

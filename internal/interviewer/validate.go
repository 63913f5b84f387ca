package interviewer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"qual.cx/operator/apiserver/decode"
)

// maxReplyRunes bounds a model reply: a question longer than this is not one question.
const maxReplyRunes = 2000

// roleMarker finds a conversation transcript or chat-template syntax in a reply, which
// means the model is continuing the dialogue on both sides or leaking its prompt format.
// Names that are ordinary words ("user", "system") only count at the start of a line.
var roleMarker = regexp.MustCompile(`(?i)\b(assistant|interviewer|participant)\s*:|(?m:^\s*(user|system|human|ai|model|bot)\s*:)|<\|[a-z_]+\|>|\[/?INST\]|</?s>|^\s*#{2,}\s*(instruction|system|response)`)

// questionMarks are the question marks of the scripts participants write in: ASCII,
// full-width, Spanish opening, Greek, Arabic and Armenian.
const questionMarks = "?\uff1f\u00bf\u037e\u061f\u055e"

// isQuestionMark says whether rs[i] is a question mark. Greek's, U+037E, is canonically
// equivalent to ";" (its NFC form, which models and Greek keyboards mostly write), so a
// semicolon right after a Greek letter asks; Greek's own semicolon is the raised dot U+0387.
func isQuestionMark(rs []rune, i int) bool {
	if rs[i] == ';' {
		return i > 0 && unicode.Is(unicode.Greek, rs[i-1])
	}
	return strings.ContainsRune(questionMarks, rs[i])
}

// invalidReply says why a model reply cannot be shown to a participant. Its text names
// only the rule broken, never the reply, which may echo personal data.
type invalidReply struct{ reason string }

func (e *invalidReply) Error() string { return "model reply rejected: " + e.reason }

// checkReply validates a model reply (already trimmed) against the transcript so far.
func checkReply(reply string, transcript []Turn) error {
	switch {
	case reply == "":
		return &invalidReply{"empty"}
	case utf8.RuneCountInString(reply) > maxReplyRunes:
		return &invalidReply{fmt.Sprintf("longer than %d characters", maxReplyRunes)}
	case !plainText(reply):
		// The transcript holds only what a participant could have written: a control
		// character would break the API's text rule and reach a terminal through kubectl.
		return &invalidReply{"contains control characters or is not UTF-8"}
	case decode.Reorders(reply):
		// The API's rule for names: the participant, kubectl and the analyzer would read
		// other words than the transcript holds.
		return &invalidReply{"contains direction overrides, embeddings or isolates"}
	case !visibleLetter(reply):
		// A question mark alone, or one behind characters that draw nothing, asks nothing.
		return &invalidReply{"holds no visible letter"}
	case roleMarker.MatchString(reply):
		return &invalidReply{"contains role markers"}
	case !questionLike(reply):
		return &invalidReply{"not a question"}
	case repeats(reply, transcript):
		return &invalidReply{"repeats an earlier question"}
	case questions(reply) > 1:
		// A participant answers one question per turn; the second one would go unanswered
		// or get half an answer, and the transcript would not say which.
		return &invalidReply{"asks more than one question"}
	}
	return nil
}

// questionLike accepts a text with a question mark, or one that invites an answer the way
// the protocol's own questions do ("Tell me about …"), in any language with templates.
func questionLike(s string) bool {
	rs := []rune(s)
	for i := range rs {
		if isQuestionMark(rs, i) {
			return true
		}
	}
	w := words(s)
	for _, t := range languages {
		for _, inv := range t.invitations {
			if containsWords(w, words(inv)) {
				return true
			}
		}
	}
	return false
}

// questions counts the questions s asks: the question marks that end one. A question mark
// inside quotation marks is part of what is quoted ("Did the “Why?” button help?"), and one
// followed at once by anything but white space belongs to a name, a URL or an aside
// ("Ask?Me", "example.com/?q=1", "(and why?)"); neither ends the question. A run of marks
// ("?!", "??") ends one. CJK text puts no space between sentences, so a full-width mark ends
// a question before a letter too. A quotation mark never closed quotes nothing, so its marks
// count: a stray opening quote cannot hide a second question.
func questions(s string) int {
	count := 0
	var quotes []quote // the quotations open, innermost last
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if n := len(quotes); n > 0 && r == quotes[n-1].closer {
			quotes = quotes[:n-1]
			continue
		}
		if closer, ok := quotePairs[r]; ok {
			quotes = append(quotes, quote{closer: closer})
			continue
		}
		if r == '¿' || !isQuestionMark(rs, i) {
			continue
		}
		j := i + 1
		for j < len(rs) && (rs[j] == '!' || isQuestionMark(rs, j)) {
			j++
		}
		ends := j == len(rs) || unicode.IsSpace(rs[j]) || r == '\uff1f' && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]))
		if ends {
			if n := len(quotes); n > 0 {
				quotes[n-1].asks++
			} else {
				count++
			}
		}
		i = j - 1
	}
	for _, q := range quotes {
		count += q.asks
	}
	return count
}

// quote is an open quotation: the mark that closes it, and the questions it would end were it
// never closed.
type quote struct {
	closer rune
	asks   int
}

// quotePairs maps each opening quotation mark to its closing one: English and German double
// and single curly quotes, guillemets, CJK corner brackets, and the straight double quote,
// which closes itself. The straight single quote and ’ are left out: they are apostrophes
// far more often ("What's"), and ’ closes a ‘ only once one is open.
var quotePairs = map[rune]rune{
	'"': '"', '\u201c': '\u201d', '\u201e': '\u201c', '\u2018': '\u2019', '\u201a': '\u2018',
	'\u00ab': '\u00bb', '\u2039': '\u203a', '\u300c': '\u300d', '\u300e': '\u300f',
}

// repeats reports whether reply asks an earlier interviewer turn again, compared up to
// case and spacing: the whole turn, or one sentence of it (a turn may greet and then ask),
// or the whole turn wrapped in new words when it is long enough to be a question of its
// own (short ones such as "Why?" legitimately recur inside longer questions).
func repeats(reply string, transcript []Turn) bool {
	r := normalize(reply)
	for _, turn := range transcript {
		if turn.Role != RoleInterviewer {
			continue
		}
		earlier := normalize(turn.Content)
		if len(earlier) >= minRepeatBytes && strings.Contains(r, earlier) {
			return true
		}
		if slices.Contains(sentences(earlier), r) {
			return true
		}
	}
	return false
}

const minRepeatBytes = 20

// sentences splits a normalized text after '.', '!' and '?'.
func sentences(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexAny(s, ".!?")
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i+1])
		s = strings.TrimSpace(s[i+1:])
	}
	return out
}

// visibleLetter says s holds a letter that shows, in any script: every question is written
// in words. Letters that draw nothing (the Hangul fillers) do not count.
func visibleLetter(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) && !decode.Invisible(r) })
}

// plainText is valid UTF-8 with no control character but newline and tab, the API's rule
// for text.
func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) })
}

package interviewer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
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
	case roleMarker.MatchString(reply):
		return &invalidReply{"contains role markers"}
	case !questionLike(reply):
		return &invalidReply{"not a question"}
	case repeats(reply, transcript):
		return &invalidReply{"repeats an earlier question"}
	}
	return nil
}

// questionLike accepts a text with a question mark, or one that invites an answer the way
// the protocol's own questions do ("Tell me about …"), in any language with templates.
func questionLike(s string) bool {
	if strings.ContainsAny(s, questionMarks) {
		return true
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

// plainText is valid UTF-8 with no control character but newline and tab, the API's rule
// for text.
func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) })
}

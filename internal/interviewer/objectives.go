package interviewer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDerivedQuestions bounds the questions made from objectives: objectives may run to
// thousands of characters, an interview should not.
const maxDerivedQuestions = 8

// deriveQuestions turns a campaign's objectives into open questions, one per sentence or
// clause, in order and without duplicates. The topic of each is the objective itself, so
// a probe asks about the objective rather than quoting the templated question.
func deriveQuestions(objectives string, t *templates) []plannedQuestion {
	var out []plannedQuestion
	seen := make(map[string]bool) // looked up only, never iterated: order stays the input's
	for _, clause := range splitObjectives(objectives) {
		g := stripGoal(clause)
		key := normalize(g.text)
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, objectiveQuestion(g, t))
		if len(out) == maxDerivedQuestions {
			break
		}
	}
	return out
}

// splitObjectives cuts objectives into clauses: at line breaks (dropping list bullets), at
// semicolons, and at sentence ends followed by a capital letter, so that "e.g. the" and
// "3.5" stay whole.
func splitObjectives(objectives string) []string {
	var out []string
	for _, line := range strings.Split(objectives, "\n") {
		for _, part := range strings.Split(stripBullet(line), ";") {
			out = append(out, splitSentences(part)...)
		}
	}
	return out
}

// stripBullet drops a leading list marker: "-", "*", "•", "1." or "1)".
func stripBullet(line string) string {
	line = strings.TrimSpace(line)
	line = strings.TrimLeft(line, "-*•·–— \t")
	digits := strings.TrimLeftFunc(line, unicode.IsDigit)
	if len(digits) < len(line) && (strings.HasPrefix(digits, ". ") || strings.HasPrefix(digits, ") ")) {
		line = digits[1:]
	}
	return strings.TrimSpace(line)
}

// splitSentences splits at '.', '!' or '?' followed by space and an upper-case letter.
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if !strings.ContainsRune(".!?", r) || !capitalFollows(s[i+1:]) {
			continue
		}
		out = append(out, s[start:i+1])
		start = i + 1
	}
	return append(out, s[start:])
}

// capitalFollows reports whether rest starts with space and then an upper-case letter.
func capitalFollows(rest string) bool {
	trimmed := strings.TrimLeftFunc(rest, unicode.IsSpace)
	if len(trimmed) == len(rest) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(trimmed)
	return unicode.IsUpper(r)
}

// stripGoal removes the research-goal wording around an objective ("We want to understand
// how …" -> "how …", "Onboarding-Probleme verstehen" -> "Onboarding-Probleme"), leaving
// what a participant can talk about; "" when nothing is left. Prefixes of every language
// are tried because objectives need not be written in the campaign language.
func stripGoal(clause string) goal {
	s := strings.Join(strings.Fields(clause), " ")
	s = strings.ReplaceAll(s, " :", ":") // French puts a space before the colon
	original := s
	for range 6 { // each pass strips one prefix; goals rarely stack more
		next := trimClauseStart(stripOnePrefix(s))
		if next == s {
			break
		}
		s = next
	}
	s = stripGoalSuffix(trimSentence(s))
	if countLetters(s) < 2 {
		return goal{}
	}
	return goal{text: s, atSentenceStart: strings.HasPrefix(original, s)}
}

// goal is an objective stripped of its goal wording.
type goal struct {
	text string
	// atSentenceStart: the text began the objective, so its first letter is capitalised
	// as a sentence start rather than as a name.
	atSentenceStart bool
}

// stripGoalSuffix removes a final goal verb, as German puts it ("… verstehen").
func stripGoalSuffix(s string) string {
	for _, t := range languages {
		for _, v := range t.goalSuffixes {
			if cut := len(s) - len(v) - 1; cut > 0 && strings.EqualFold(s[cut:], " "+v) {
				return trimSentence(s[:cut])
			}
		}
	}
	return s
}

func stripOnePrefix(s string) string {
	for _, t := range languages {
		for _, p := range t.goalPrefixes {
			if rest, ok := cutWordPrefix(s, p); ok {
				return rest
			}
		}
	}
	return s
}

// cutWordPrefix removes prefix (case-insensitively) from s when it ends at a word boundary.
func cutWordPrefix(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	rest := s[len(prefix):]
	if strings.HasSuffix(prefix, ":") || rest == "" {
		return rest, true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '-' {
		return s, false
	}
	return rest, true
}

func trimClauseStart(s string) string {
	return strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(",:-–—", r) })
}

func countLetters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// objectiveQuestion phrases a goal as an open question: an indirect question ("how
// customers choose a bank") becomes "… could you tell me how customers choose a bank?",
// anything else is treated as a topic ("Tell me about your experience with …"). The
// topic of the question, for its probe, is the goal as the question words it.
func objectiveQuestion(g goal, t *templates) plannedQuestion {
	text := g.text
	if startsWithClauseWord(text) {
		text = lowerFirst(text)
		return plannedQuestion{text: fmt.Sprintf(t.clauseQuestion, text), topic: text}
	}
	if g.atSentenceStart && t != german { // German capitalises nouns anywhere
		text = lowerFirst(text)
	}
	return plannedQuestion{text: fmt.Sprintf(t.topicQuestion, text), topic: text}
}

func startsWithClauseWord(s string) bool {
	for _, t := range languages {
		for _, w := range t.clauseWords {
			if _, ok := cutWordPrefix(s, w); ok {
				return true
			}
		}
	}
	return false
}

// lowerFirst lower-cases the first letter of a sentence start so it reads mid-sentence,
// except in acronyms ("API usage").
func lowerFirst(s string) string {
	first, size := utf8.DecodeRuneInString(s)
	second, _ := utf8.DecodeRuneInString(s[size:])
	if unicode.IsUpper(second) {
		return s
	}
	return string(unicode.ToLower(first)) + s[size:]
}

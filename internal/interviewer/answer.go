package interviewer

// Thresholds for a thin answer. Below shortAnswerWords an answer is too short to stand on
// its own; below vagueAnswerWords it is thin if it also contains a vague phrase ("not
// sure", "nothing"). Longer answers carry enough substance even when they hedge.
const (
	shortAnswerWords = 8
	vagueAnswerWords = 15
)

// needsProbe reports whether an answer is short or vague enough to deserve a follow-up.
// Vague phrases are looked up in the campaign language and in English, since participants
// often answer in English whatever the campaign language.
func needsProbe(answer string, t *templates) bool {
	w := words(answer)
	if len(w) < shortAnswerWords {
		return true
	}
	if len(w) >= vagueAnswerWords {
		return false
	}
	return containsAnyPhrase(w, t.vague) || (t != english && containsAnyPhrase(w, english.vague))
}

func containsAnyPhrase(text []string, phrases []string) bool {
	for _, p := range phrases {
		if containsWords(text, words(p)) {
			return true
		}
	}
	return false
}

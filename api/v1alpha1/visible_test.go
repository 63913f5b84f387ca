package v1alpha1_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"qual.cx/operator/apiserver/decode"
)

// notBlankRules are the CRD rules that refuse a text showing nothing, by file and message.
var notBlankRules = map[string][]string{
	"qual.cx_campaigns.yaml": {"title cannot be blank", "a question cannot be blank"},
	"qual.cx_teams.yaml":     {"displayName must not be blank"},
	"qual.cx_apikeys.yaml":   {"displayName must not be blank"},
}

// ruleClass reads the character class a not-blank CEL rule matches from the generated CRD:
// the text after "rule:" on the line after the message, between r' and '.
func ruleClass(t *testing.T, file, message string) *regexp.Regexp {
	t.Helper()
	b, err := os.ReadFile("../../config/crd/bases/" + file)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "- message: "+message+"\n")
	if !ok {
		t.Fatalf("%s: no rule says %q", file, message)
	}
	line, _, _ := strings.Cut(after, "\n")
	_, class, ok := strings.Cut(line, "r'")
	class, _, ok2 := strings.Cut(class, "'")
	if !ok || !ok2 {
		t.Fatalf("%s: the rule of %q holds no raw regular expression: %s", file, message, line)
	}
	return regexp.MustCompile(class) // CEL's matches is RE2, as Go's regexp
}

// TestCRDNotBlankRulesAreTheServersRule: kubectl refuses the same blank titles, questions
// and display names (a team's, and a key's when given) as REST (decode.Blank), so an object written either way is one the
// other would take. A character the rule missed would let kubectl write a campaign REST
// then serves against its own document.
func TestCRDNotBlankRulesAreTheServersRule(t *testing.T) {
	for file, messages := range notBlankRules {
		for _, msg := range messages {
			re := ruleClass(t, file, msg)
			for r := rune(0); r <= unicode.MaxRune; r++ {
				if !utf8.ValidRune(r) || unicode.IsControl(r) && r != '\t' && r != '\n' {
					continue // refused by the field's pattern before the rule
				}
				if s := string(r); re.MatchString(s) == decode.Blank(s) {
					t.Errorf("%s %q: U+%04X is blank to REST: %v, to the CRD: %v", file, msg, r, decode.Blank(s), !re.MatchString(s))
				}
			}
		}
	}
}

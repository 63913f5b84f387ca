package openapi_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"qual.cx/operator/apiserver/decode"
	"qual.cx/operator/apiserver/openapi"
)

// notBlankPattern is one of the document's not-blank patterns, compiled, whether it also
// refuses direction overrides, embeddings and isolates (the names' and titles' form), and
// whether it also takes a value the server trims to nothing (an optional field's form).
type notBlankPattern struct {
	source   string
	re       *regexp.Regexp
	isolate  bool
	optional bool
}

// agrees says the pattern takes s exactly when the server does: something in s shows (or, for
// an optional field, s is white space alone, which the server trims to none), and, for a
// name, nothing in it reorders the line.
func (p notBlankPattern) agrees(s string) bool {
	shows := !decode.Blank(s) || p.optional && strings.TrimSpace(s) == ""
	want := shows && (!p.isolate || !decode.Reorders(s))
	return p.re.MatchString(s) == want
}

// isolates is the class of a name's pattern that refuses direction overrides, embeddings and
// isolates.
const isolates = "[^\u202A-\u202E\u2066-\u2069]"

// optionalPrefix begins an optional field's not-blank pattern: a value of white space alone,
// as strings.TrimSpace trims it.
const optionalPrefix = "^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$|"

// ecmaEscape is the rewrite kin-openapi makes of an ECMA-262 \uXXXX escape before Go's regexp
// compiles a pattern.
var ecmaEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// notBlankPatterns are the document's distinct patterns that hold the not-blank class (known by
// the combining grapheme joiner every one of them lists alone): visibleName, visibleText and
// optionalVisibleName (every optional text is a name people read, so none allows reordering).
func notBlankPatterns(t testing.TB) []notBlankPattern {
	t.Helper()
	var doc any
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []notBlankPattern
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if p, ok := e.(string); ok && k == "pattern" && strings.Contains(p, "\u034F") && !seen[p] {
					seen[p] = true
					out = append(out, notBlankPattern{source: p, re: regexp.MustCompile(ecmaEscape.ReplaceAllString(p, `\x{$1}`)),
						isolate: strings.Contains(p, isolates), optional: strings.HasPrefix(p, optionalPrefix)})
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	kinds := map[[2]bool]bool{}
	for _, p := range out {
		kinds[[2]bool{p.isolate, p.optional}] = true
	}
	if len(out) != 3 || len(kinds) != 3 || kinds[[2]bool{false, true}] {
		t.Fatalf("want the three not-blank patterns (visibleName, visibleText, optionalVisibleName), found %d of %d kinds", len(out), len(kinds))
	}
	return out
}

// Every character, alone and beside a letter, is taken by the document's not-blank patterns
// exactly when the server takes it: the document and decode.Blank are one rule.
func TestNotBlankPatternsAreTheServersRule(t *testing.T) {
	for _, p := range notBlankPatterns(t) {
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if !utf8.ValidRune(r) || unicode.IsControl(r) && r != '\t' && r != '\n' {
				continue // no text: refused before any pattern
			}
			if s := string(r); !p.agrees(s) || !p.agrees("a"+s) || !p.agrees(s+s) {
				t.Errorf("U+%04X: the pattern %q and the server disagree", r, p.source)
			}
		}
	}
}

// The characters the outside-in sweep found taken as visible are blank to both.
func TestInvisibleFormatCharactersAreBlank(t *testing.T) {
	for _, s := range []string{"\U000E0001", "\U000E0020\U000E0020", "\U000E007F", "\U0001D173", "\U0001D17A", "\uFFF9", "\uFFFB",
		"\U0001BCA0", "\U0001BCA3", "\u206F", "\U000E0100", "\U000E0020\u2064", "\u2800 \U000E01EF"} {
		if !decode.Blank(s) {
			t.Errorf("Blank(%+q) = false", s)
		}
		for _, p := range notBlankPatterns(t) {
			if p.re.MatchString(s) {
				t.Errorf("the pattern %q takes %+q", p.source, s)
			}
		}
	}
}

// FuzzNotBlankPatterns: for any text, the document's not-blank patterns and the server agree.
func FuzzNotBlankPatterns(f *testing.F) {
	for _, s := range []string{"", "a", " \u200b", "\U000E0020\u2064", "\u0600", "👩\u200d💻", "\u202ea", "e\u0301", "\U0001D173x\uFFFB"} {
		f.Add(s)
	}
	patterns := notBlankPatterns(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !decode.ValidText(s) {
			return // refused before any pattern
		}
		for _, p := range patterns {
			if !p.agrees(s) {
				t.Fatalf("%+q: the pattern %q and the server disagree", s, p.source)
			}
		}
	})
}

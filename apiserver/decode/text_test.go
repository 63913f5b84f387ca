package decode

import (
	"encoding/json"
	"regexp"
	"testing"
	"unicode/utf8"
)

func TestBadTextNamesTheField(t *testing.T) {
	for _, c := range []struct {
		body, field string
	}{
		{`{"title":"ok","description":"two\nlines\tand a tab"}`, ""},
		{`{"title":"caf\u00e9 – naïve ☕"}`, ""},
		{`{"title":"nul \u0000 here"}`, "title"},
		{`{"title":"ok","questions":["fine","bell \u0007"]}`, "questions[1]"},
		{`{"settings":{"language":"en\r"}}`, "settings.language"},
		{`{"a":[{"b":1},{"c":["x",{"d":"\b"}]}]}`, "a[1].c[1].d"},
		{"{\"title\":\"bad \xff byte\"}", "title"},
		{"{\"title\":\"c1 \u0085 control\"}", "title"},
		{"{\"title\":\"del \x7f\"}", "title"},
		// Half a surrogate pair is no character; encoding/json would store U+FFFD.
		{`{"title":"\ud800"}`, "title"},
		{`{"title":"x\udc00y"}`, "title"},
		{`{"title":"\ud83d x"}`, "title"},
		{`{"title":"\ud83d\ude00 \\ud800 \u00e9"}`, ""}, // a pair, an escaped backslash, a letter
		{`{"n":1,"b":true,"z":null,"t":"ok"}`, ""},
		{`{"": "\u0000"}`, `""`},
		{`{"title": `, ""}, // malformed: decoding reports it
		// A member name is held to the rule of values; the field is the object holding it.
		{`{"participant":{"metadata":{"\u0000":1}}}`, "participant.metadata"},
		{`{"m":{"ok":"x","a\u0007b":"x"}}`, "m"},
		{`{"a":[{"\ud800":1}]}`, "a[0]"},
		{"{\"k\xff\":1}", "body"},
		{`{"caf\u00e9":"ok"}`, ""},
	} {
		field, bad := BadText([]byte(c.body))
		if bad != (c.field != "") || field != c.field {
			t.Errorf("%q: got %q %v, want %q", c.body, field, bad, c.field)
		}
	}
}

// Blank reads white space as ECMA-262 does (U+FEFF too), and zero-width and other format
// characters as blank.
func TestBlank(t *testing.T) {
	for s, want := range map[string]bool{"": true, " \t\n": true, "\ufeff": true, "\u00a0\u3000\ufeff ": true, "a": false, " \ufeffa ": false,
		"\u200b": true, " \u200c\u200d\u2060 ": true, "\u200ba": false, "👩\u200d💻": false,
		"\u202e": true, "\u2800": true, "\u3164": true, "\u115f": true, "\u180e": true, "\u200e\u2066": true, "\u202ea": false,
		"\u00ad": true, "\u034f": true, "\u061c": true, "\ufe0f": true, "\u180b\u17b4": true, "e\u0301": false, "❤\ufe0f": false,
		// Tag characters, musical and shorthand format controls, interlinear annotation marks, the
		// variation selectors supplement: format characters and default-ignorables all.
		"\U000E0001": true, "\U000E0020\u2064": true, "\U000E007F": true, "\U0001D173\U0001D17A": true, "\uFFF9\uFFFB": true,
		"\U0001BCA0\U0001BCA3": true, "\u206F": true, "\U000E0100": true, "\U0001343F": true, "a\U000E0020": false,
		// A prepended concatenation mark is Cf but draws a sign.
		"\u0600": false, "\u06DD": false} {
		if Blank(s) != want {
			t.Errorf("Blank(%q) = %v", s, !want)
		}
	}
}

func TestDecodeRefusesControlCharacters(t *testing.T) {
	_, err := decodeString(t, "application/json", `{"title":"a\u0000b"}`)
	if err == nil || len(err.Details) != 1 || err.Details[0].Field != "title" {
		t.Fatalf("got %+v", err)
	}
}

func FuzzBadText(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\\ud800"}`, `{"a":["\u0001"]}`, "{\"a\":\"\xff\"}", `{"a":{"b":[1,"c",{"d":"\r"}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		field, bad := BadText(in)
		var v any
		if json.Unmarshal(in, &v) != nil {
			return // malformed: nothing is promised
		}
		if bad && field == "" {
			t.Fatalf("%q: bad text without a field", in)
		}
		// Any decoded string holding a control character means the document is refused;
		// a document that is valid UTF-8 with only clean strings is accepted.
		if hasBadString(v) && !bad {
			t.Fatalf("%q: a control character passed", in)
		}
		if !hasBadString(v) && utf8.Valid(in) && bad && !surrogateEscapes.Match(in) {
			t.Fatalf("%q: refused %s though every string is text", in, field)
		}
	})
}

func hasBadString(v any) bool {
	switch t := v.(type) {
	case string:
		return !IsText(t)
	case []any:
		for _, e := range t {
			if hasBadString(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range t {
			if !IsText(k) || hasBadString(e) {
				return true
			}
		}
	}
	return false
}

// surrogateEscapes matches a document escaping half of a surrogate pair, however it is used:
// the fuzz oracle's coarser check that a refusal of clean-looking text has such an escape.
var surrogateEscapes = regexp.MustCompile(`(?i)\\ud[89a-f][0-9a-f]{2}`)

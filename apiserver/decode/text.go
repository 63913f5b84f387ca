package decode

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BadText finds the first string value of a JSON document that is not text: invalid UTF-8
// (which encoding/json would silently turn into U+FFFD), or a control character other than
// newline and tab (PostgreSQL cannot store NUL in text, and no field of the API wants the
// rest). It returns the value's field path, such as `questions[2]` or `settings.language`.
// A malformed document reports nothing: decoding reports that.
func BadText(body []byte) (field string, bad bool) {
	if plainText(body) {
		return "", false
	}
	field, found := scan(body, false, true)
	return field, found == badText || found == badName
}

// finding is what scan found wrong with a document.
type finding int

const (
	nothing finding = iota
	duplicate
	badText
	badName // a member name that is not text; the field is the object holding it
)

// scan walks a JSON document's tokens once and reports the first member name an object
// repeats (when dups) or string, value or member name, that is not text (when text), with
// its field path. Names are held to the rule of values: free-form objects keep them as
// given, and PostgreSQL's jsonb refuses a NUL in a name as in a value.
// A malformed document reports nothing.
func scan(body []byte, dups, text bool) (string, finding) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var path textPath
	var keys [][]string // the member names seen in each open object, innermost last
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", nothing
		}
		switch t := tok.(type) {
		case json.Delim:
			if dups && t == '{' {
				keys = append(keys, nil)
			} else if dups && t == '}' {
				keys = keys[:len(keys)-1]
			}
			path.delim(t)
		case string:
			if path.expectsKey() {
				if text && !isTextToken(body[before:dec.InputOffset()], t) {
					return path.object(), badName
				}
				path.key(t)
				if dups {
					top := &keys[len(keys)-1]
					if slices.Contains(*top, t) {
						return path.String(), duplicate
					}
					*top = append(*top, t)
				}
				continue
			}
			if text && !isTextToken(body[before:dec.InputOffset()], t) {
				return path.String(), badText
			}
			path.valueDone()
		default:
			path.valueDone()
		}
	}
}

// isTextToken says a string token (raw, as written, and decoded) is text: valid UTF-8, no
// escaped lone surrogate, no control character but newline and tab.
func isTextToken(raw []byte, decoded string) bool {
	return utf8.Valid(raw) && !loneSurrogate(raw) && IsText(decoded)
}

// loneSurrogate reports whether a JSON string token escapes half of a UTF-16 surrogate pair
// on its own ("\ud800"), which encoding/json turns into U+FFFD as it does invalid UTF-8:
// every high half must be followed at once by a low half, and every low half follow a high.
func loneSurrogate(raw []byte) bool {
	high := false // the last code unit opened a pair
	for i := 0; i < len(raw); i++ {
		var unit uint64 // a code unit that is no surrogate, unless an escape says otherwise
		if raw[i] == '\\' && i+1 < len(raw) {
			if raw[i+1] != 'u' || i+6 > len(raw) {
				i++ // an escaped character, such as the backslash of "\\u"
			} else {
				var err error
				if unit, err = strconv.ParseUint(string(raw[i+2:i+6]), 16, 16); err != nil {
					return false // malformed: decoding reports that
				}
				i += 5
			}
		}
		if low := unit >= 0xdc00 && unit < 0xe000; low != high {
			return true
		}
		high = unit >= 0xd800 && unit < 0xdc00
	}
	return high
}

// IsText reports whether s holds no control character but newline and tab.
func IsText(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }) < 0
}

// ValidText reports whether s is valid UTF-8 with no control character but newline and tab:
// IsText for a string that did not come through the JSON decoder, which checks the bytes.
func ValidText(s string) bool {
	return utf8.ValidString(s) && IsText(s)
}

// Blank says s holds nothing visible: only characters that show as nothing (Invisible),
// which the OpenAPI's pattern for a non-blank string also excludes. A title of a zero-width
// space, a lone direction mark or a run of tag characters would show as nothing in every list.
func Blank(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !Invisible(r) }) < 0
}

// Invisible says r shows as nothing. Unicode's own tables decide rather than a hand list, so
// that a character a list forgot (tag characters, musical or shorthand format controls) is
// not taken for something visible: white space (Zs and the White_Space property, as
// ECMA-262 reads it, U+FEFF too), format characters (Cf), variation selectors and the other
// default-ignorable code points (the combining grapheme joiner, Hangul fillers, Khmer's
// inherent vowels, the unassigned U+E0000 block). Two exceptions follow what fonts draw:
// the prepended concatenation marks are Cf but draw a sign of their own (the Arabic number
// sign), and the Braille blank is a symbol that draws nothing.
func Invisible(r rune) bool {
	switch {
	case unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return false
	case unicode.In(r, unicode.Zs, unicode.White_Space, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point):
		return true
	}
	return r == '\u2800'
}

// Reorders says s holds a bidirectional embedding, override or isolate (U+202A to U+202E,
// U+2066 to U+2069): characters that change the order in which the rest of a line shows,
// so a name can read as something it is not ("invoice\u202Efdp.exe" shows as
// "invoiceexe.pdf"). Right-to-left names need none of them; the direction marks U+200E and
// U+200F, which change no order, stay allowed.
func Reorders(s string) bool { return strings.IndexFunc(s, reorders) >= 0 }

func reorders(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// DropReorders removes from s what Reorders finds: for text the API writes itself from
// what others said (an analysis finding's title quotes a participant), where refusing is
// not an option.
func DropReorders(s string) string {
	if !Reorders(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if reorders(r) {
			return -1
		}
		return r
	}, s)
}

// ReordersMessage is the validation message for a name that Reorders.
const ReordersMessage = "must not hold direction overrides, embeddings or isolates (U+202A to U+202E, U+2066 to U+2069)"

// plainText is the fast path: valid UTF-8 with no escape that could spell a control
// character and no control character outside ASCII whitespace.
func plainText(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body) && strings.IndexByte("bfru", body[i+1]) >= 0:
			return false
		case c == 0x7f, c == 0xc2 && i+1 < len(body) && body[i+1] <= 0x9f: // DEL, or a C1 control
			return false
		}
	}
	return true
}

// textPath tracks where in a JSON document the decoder is.
type textPath struct {
	frames []textFrame
}

type textFrame struct {
	object    bool
	key       string
	index     int
	expectKey bool
}

func (p *textPath) delim(d json.Delim) {
	switch d {
	case '{':
		p.frames = append(p.frames, textFrame{object: true, expectKey: true})
	case '[':
		p.frames = append(p.frames, textFrame{})
	default: // '}' or ']': the container was a value of its parent
		p.frames = p.frames[:len(p.frames)-1]
		p.valueDone()
	}
}

func (p *textPath) expectsKey() bool {
	n := len(p.frames)
	return n > 0 && p.frames[n-1].object && p.frames[n-1].expectKey
}

func (p *textPath) key(k string) {
	top := &p.frames[len(p.frames)-1]
	top.key, top.expectKey = k, false
}

func (p *textPath) valueDone() {
	if n := len(p.frames); n > 0 {
		top := &p.frames[n-1]
		if top.object {
			top.expectKey = true
		} else {
			top.index++
		}
	}
}

// object is the path of the object whose member name is being read.
func (p *textPath) object() string {
	outer := textPath{frames: p.frames[:len(p.frames)-1]}
	return outer.String()
}

func (p *textPath) String() string {
	var b strings.Builder
	for _, f := range p.frames {
		if f.object {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(cmp.Or(f.key, `""`)) // an empty name still shows
		} else {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		}
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

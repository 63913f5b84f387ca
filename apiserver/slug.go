package apiserver

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// latinLetters are the lower-case Latin letters that decomposition leaves whole (they are
// letters of their own, not a base letter and a mark), spelled as they are usually written
// without them.
var latinLetters = map[rune]string{
	'ß': "ss", 'æ': "ae", 'ø': "o", 'œ': "oe", 'þ': "th", 'ð': "d", 'đ': "d", 'ł': "l",
	'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŋ': "ng", 'ĸ': "k", 'ſ': "s", 'ƒ': "f", 'ɨ': "i", 'ʉ': "u",
}

// asciiLatin lower-cases s and spells its Latin letters in ASCII: compatibility decomposition
// splits a letter from its diacritics ("é" to "e" and a mark, "ǅ" to "dž", "ﬁ" to "fi"), the
// marks are dropped, and letters that do not decompose are spelled out (latinLetters).
// Letters of other scripts are left as they are, for the slug to drop. ASCII is unchanged
// but for case, so the slugs of ASCII titles stay what they were.
func asciiLatin(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(norm.NFKD.String(s)) {
		if t, ok := latinLetters[r]; ok {
			b.WriteString(t)
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
